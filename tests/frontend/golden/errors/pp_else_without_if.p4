// an #else without a matching #if
#include "include/before_ingress.p4"

#else

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = 1;
    }
}

#include "include/after_ingress.p4"
