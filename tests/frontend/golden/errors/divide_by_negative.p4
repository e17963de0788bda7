// dividing by a negative constant
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = meta.x / -2;
    }
}

#include "include/after_ingress.p4"
