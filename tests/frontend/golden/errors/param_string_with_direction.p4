// a string parameter with a direction
#include "include/before_ingress.p4"

extern void note(in string message);

#include "include/ingress.p4"
#include "include/after_ingress.p4"
