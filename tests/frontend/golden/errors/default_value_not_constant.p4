// a default value that is a function call, not a compile-time constant
#include "include/before_ingress.p4"

bit<8> twice(in bit<8> a) {
    return a + a;
}

bit<8> add(in bit<8> a = twice(1), in bit<8> b) {
    return a + b;
}

bit<8> use_default(in bit<8> x) {
    return add(b = x);
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
