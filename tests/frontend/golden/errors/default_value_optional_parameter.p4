// an @optional parameter with a default value
#include "include/before_ingress.p4"

extern void fill(in bit<32> x, @optional in bit<32> y = 1);

#include "include/ingress.p4"
#include "include/after_ingress.p4"
