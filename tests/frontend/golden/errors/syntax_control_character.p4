// a control character (byte 0x01) between two statements
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = 1; 
        meta.y = 2;
    }
}

#include "include/after_ingress.p4"
