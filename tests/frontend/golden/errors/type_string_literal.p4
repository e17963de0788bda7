// a string literal assigned to a bit<8> field
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = "hello";
    }
}

#include "include/after_ingress.p4"
