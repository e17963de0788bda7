// an action parameter of the width-less type int
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_ttl(int ttl) {
        hdr.ipv4.ttl = (bit<8>)ttl;
    }
    apply {
        set_ttl(64);
    }
}

#include "include/after_ingress.p4"
