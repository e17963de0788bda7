// a function that calls an action
#include "include/before_ingress.p4"

action count_packet() { }

bit<8> next_ttl(in bit<8> ttl) {
    count_packet();
    return ttl - 1;
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ipv4.ttl = next_ttl(hdr.ipv4.ttl);
    }
}

#include "include/after_ingress.p4"
