// an 'exit' statement in a function
#include "include/before_ingress.p4"

bit<8> dec(in bit<8> v) {
    if (v == 0) {
        exit;
    }
    return v - 1;
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ipv4.ttl = dec(hdr.ipv4.ttl);
    }
}

#include "include/after_ingress.p4"
