// a local variable declared twice in the same block
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bit<8> ttl = hdr.ipv4.ttl;
        bit<8> ttl = ttl - 1;
        hdr.ipv4.ttl = ttl;
    }
}

#include "include/after_ingress.p4"
