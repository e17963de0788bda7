// a non-ASCII letter in an identifier
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bit<8> café = 1;
        meta.x = café;
    }
}

#include "include/after_ingress.p4"
