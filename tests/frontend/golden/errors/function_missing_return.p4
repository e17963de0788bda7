// a function with a return type that can end without returning
#include "include/before_ingress.p4"

bit<8> dec(in bit<8> v) {
    if (v > 0) {
        return v - 1;
    }
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ipv4.ttl = dec(hdr.ipv4.ttl);
    }
}

#include "include/after_ingress.p4"
