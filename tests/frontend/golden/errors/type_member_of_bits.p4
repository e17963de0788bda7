// a member access on a bit<8> value
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x.low = 1;
    }
}

#include "include/after_ingress.p4"
