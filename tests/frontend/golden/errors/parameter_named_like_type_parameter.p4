// a control parameter with the name of one of the control's type parameters
#include "include/before_ingress.p4"

control Counted<P>(inout bit<32> P) {
    apply { }
}

#include "include/ingress.p4"
#include "include/after_ingress.p4"
