// an out parameter with a default value
#include "include/before_ingress.p4"

extern void fill(out bit<32> x = 0);

#include "include/ingress.p4"
#include "include/after_ingress.p4"
