// an array of 'int' (elements need a fixed width)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        int[2] numbers;
    }
}

#include "include/after_ingress.p4"
