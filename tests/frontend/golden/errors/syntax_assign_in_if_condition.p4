// '=' used instead of '==' in an if condition
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        if (meta.x = 1) {
            meta.y = 1;
        }
    }
}

#include "include/after_ingress.p4"
