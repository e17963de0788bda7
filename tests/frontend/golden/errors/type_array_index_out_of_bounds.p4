// a constant index past the end of an array of bit<8>
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bit<8>[4] bytes;
        bytes[4] = 1;
    }
}

#include "include/after_ingress.p4"
