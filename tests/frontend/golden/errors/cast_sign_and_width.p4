// a cast that changes both the sign and the width
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        int<16> delta = (int<16>)hdr.ipv4.ttl;
        meta.y = (bit<32>)(bit<16>)delta;
    }
}

#include "include/after_ingress.p4"
