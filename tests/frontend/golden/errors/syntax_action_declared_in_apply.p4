// an action declared inside an apply block
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        action a() { }
        a();
    }
}

#include "include/after_ingress.p4"
