// assignment to an 'in' parameter of an action
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_ttl(in bit<8> ttl) {
        ttl = ttl - 1;
        hdr.ipv4.ttl = ttl;
    }
    apply {
        set_ttl(hdr.ipv4.ttl);
    }
}

#include "include/after_ingress.p4"
