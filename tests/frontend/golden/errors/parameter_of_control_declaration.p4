// a constructor parameter whose type is a control, not a control type declaration
#include "include/before_ingress.p4"

control Inner() {
    apply { }
}

control Outer()(Inner inner) {
    apply { }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
