// use of a variable that was never declared (a misspelled local)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bit<8> new_ttl = hdr.ipv4.ttl - 1;
        hdr.ipv4.ttl = new_tll;
    }
}

#include "include/after_ingress.p4"
