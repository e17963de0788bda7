// an untyped constant too large for the field it is assigned to
#include "../errors/include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ipv4.ttl = 300;
    }
}

#include "../errors/include/after_ingress.p4"
