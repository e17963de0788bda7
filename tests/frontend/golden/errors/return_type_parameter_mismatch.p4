// a generic function that returns a value of another type than its type parameter
#include "include/before_ingress.p4"

T first<T>(in bit<8> x) {
    return x;
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
