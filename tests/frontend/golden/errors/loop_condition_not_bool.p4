// a for loop whose condition is a number, not a bool
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        for (bit<8> i = 4; i; i = i - 1) {
            hdr.ipv4.ttl = hdr.ipv4.ttl + 1;
        }
    }
}

#include "include/after_ingress.p4"
