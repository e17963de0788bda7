// a recursive action (P4 forbids recursion)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action again() {
        again();
    }
    apply {
        again();
    }
}

#include "include/after_ingress.p4"
