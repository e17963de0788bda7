// an if condition of type bit<8> (P4 has no implicit conversion to bool)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        if (hdr.ipv4.ttl) {
            meta.x = 1;
        }
    }
}

#include "include/after_ingress.p4"
