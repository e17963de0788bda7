// comparing the results of two action calls, which are void
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action dec_ttl() {
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
    }
    apply {
        if (dec_ttl() == dec_ttl()) {
            standard_metadata.egress_spec = 1;
        }
    }
}

#include "include/after_ingress.p4"
