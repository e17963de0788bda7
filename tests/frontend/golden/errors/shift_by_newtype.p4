// a shift amount of a 'type' (new type) rather than bit<W>
#include "include/before_ingress.p4"

type bit<8> amount_t;

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        amount_t n = (amount_t)2;
        meta.y = meta.y << n;
    }
}

#include "include/after_ingress.p4"
