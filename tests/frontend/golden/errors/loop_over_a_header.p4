// a for loop over a value that is neither a header stack nor a range
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        for (bit<8> b in hdr.ipv4.ttl) {
            standard_metadata.egress_spec = 1;
        }
    }
}

#include "include/after_ingress.p4"
