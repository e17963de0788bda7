// indexing a header that is not a stack
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ipv4[0].ttl = 1;
    }
}

#include "include/after_ingress.p4"
