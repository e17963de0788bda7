// assignment to a global constant
#include "include/before_ingress.p4"

const bit<8> MAX_HOPS = 16;

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        MAX_HOPS = 8;
    }
}

#include "include/after_ingress.p4"
