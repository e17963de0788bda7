// a control that instantiates itself
#include "include/before_ingress.p4"

control Nested() {
    Nested() inner;
    apply {
        inner.apply();
    }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
