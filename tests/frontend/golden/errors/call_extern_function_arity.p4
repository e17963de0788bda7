// the extern function mark_to_drop called without its argument
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        mark_to_drop();
    }
}

#include "include/after_ingress.p4"
