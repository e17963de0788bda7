// an #error directive that is reached
#include "include/before_ingress.p4"

#ifndef TARGET_V1MODEL
#error define TARGET_V1MODEL to build this program
#endif

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = 1;
    }
}

#include "include/after_ingress.p4"
