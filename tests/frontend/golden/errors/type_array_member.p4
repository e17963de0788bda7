// a stack member used on an array of bit<8> (only header stacks have members)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bit<8>[4] bytes;
        meta.y = bytes.lastIndex;
    }
}

#include "include/after_ingress.p4"
