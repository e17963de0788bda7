// the literal 0w5 (width 0)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = 0w5;
    }
}

#include "include/after_ingress.p4"
