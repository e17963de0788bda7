// a control applied directly, by its type name, with more arguments than it has parameters
#include "include/before_ingress.p4"

control Count(inout bit<8> n) {
    apply {
        n = n + 1;
    }
}

control Twice(inout bit<8> n) {
    apply {
        Count.apply(n, n);
    }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
