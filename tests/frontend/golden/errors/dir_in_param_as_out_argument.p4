// an 'in' parameter passed as the 'out' argument of an action
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action get_ttl(out bit<8> ttl) {
        ttl = 64;
    }
    action copy_ttl(in bit<8> ttl) {
        get_ttl(ttl);
    }
    apply {
        copy_ttl(hdr.ipv4.ttl);
    }
}

#include "include/after_ingress.p4"
