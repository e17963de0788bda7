// a structured annotation mixing key=value pairs with plain expressions
#include "include/before_ingress.p4"

@info[key = 4, 5]
const bit<8> LIMIT = 4;

#include "include/ingress.p4"
#include "include/after_ingress.p4"
