// a function with two type parameters of the same name
#include "include/before_ingress.p4"

void swap_bits<T, T>(in T a) { }

#include "include/ingress.p4"
#include "include/after_ingress.p4"
