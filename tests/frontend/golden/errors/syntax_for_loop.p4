// a 'for' loop, which this P4_16 subset does not have
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        for (bit<8> i = 0; i < 4; i = i + 1) {
            meta.x = meta.x + 1;
        }
    }
}

#include "include/after_ingress.p4"
