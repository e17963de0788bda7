// '&&' applied to bit<8> operands
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        if (meta.x && hdr.ipv4.ttl) {
            meta.y = 1;
        }
    }
}

#include "include/after_ingress.p4"
