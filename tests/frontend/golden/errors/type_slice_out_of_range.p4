// a bit slice [15:8] of a bit<8> field
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = hdr.ipv4.ttl[15:8];
    }
}

#include "include/after_ingress.p4"
