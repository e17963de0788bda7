// a keyword ('table') used as the name of a local variable
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bit<8> table = 1;
        meta.x = table;
    }
}

#include "include/after_ingress.p4"
