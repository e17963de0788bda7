// a slice with a negative bound
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = hdr.ipv4.ttl[7:-1];
    }
}

#include "include/after_ingress.p4"
