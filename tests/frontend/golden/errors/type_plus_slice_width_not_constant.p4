// the width W of a slice [L+:W] is not a compile-time constant
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = hdr.ipv4.srcAddr[0 +: meta.x];
    }
}

#include "include/after_ingress.p4"
