// a transition statement in a control
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        transition accept;
    }
}

#include "include/after_ingress.p4"
