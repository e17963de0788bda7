// a structured annotation whose value is a list
#include "include/before_ingress.p4"

@info[key = { 1, 2 }]
const bit<8> LIMIT = 4;

#include "include/ingress.p4"
#include "include/after_ingress.p4"
