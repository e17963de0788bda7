// a run-time low bit L of a slice [L+:W] of a signed type (it could be negative)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        int<8> lo = 2;
        meta.x = hdr.ipv4.srcAddr[lo +: 8];
    }
}

#include "include/after_ingress.p4"
