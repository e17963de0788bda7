// the constant low bit L of a slice [L+:W] is past the width of the value
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = hdr.ipv4.srcAddr[32 +: 8];
    }
}

#include "include/after_ingress.p4"
