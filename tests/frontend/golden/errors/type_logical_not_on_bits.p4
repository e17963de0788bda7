// logical '!' applied to a bit<8> value
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = !hdr.ipv4.ttl;
    }
}

#include "include/after_ingress.p4"
