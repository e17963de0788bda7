// a shift whose amount is a signed int<8> value
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        int<8> amount = 2;
        meta.y = meta.y << amount;
    }
}

#include "include/after_ingress.p4"
