// comparing two struct initializers, neither of which has a type
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        if ({x = 8w1, y = 32w2} == {x = 8w1, y = 32w2}) {
            standard_metadata.egress_spec = 1;
        }
    }
}

#include "include/after_ingress.p4"
