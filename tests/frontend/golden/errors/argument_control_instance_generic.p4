// a control instance passed to a generic function
#include "include/before_ingress.p4"

void ignore<T>(in T value) { }

control Inner() {
    apply { }
}

control Outer() {
    Inner() inner;
    apply {
        ignore(inner);
    }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
