// int<8> compared with bit<8>
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        int<8> delta = 1;
        if (delta == meta.x) {
            meta.y = 1;
        }
    }
}

#include "include/after_ingress.p4"
