// a ?: whose branches are both untyped integers
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.y = (hdr.ipv4.isValid() ? 1 : 2) << 2;
    }
}

#include "include/after_ingress.p4"
