// the literal 8w256 does not fit in 8 bits
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = 8w256;
    }
}

#include "include/after_ingress.p4"
