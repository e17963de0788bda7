// a structured annotation whose name is given twice on one declaration
#include "include/before_ingress.p4"

@level(1)
@level[2]
const bit<8> LIMIT = 4;

#include "include/ingress.p4"
#include "include/after_ingress.p4"
