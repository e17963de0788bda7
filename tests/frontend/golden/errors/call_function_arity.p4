// a function called with too many arguments
#include "include/before_ingress.p4"

bit<8> dec(in bit<8> v) {
    return v - 1;
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ipv4.ttl = dec(hdr.ipv4.ttl, 2);
    }
}

#include "include/after_ingress.p4"
