// an extern instance passed with a direction
#include "include/before_ingress.p4"

extern void bump(in counter c);

#include "include/ingress.p4"
#include "include/after_ingress.p4"
