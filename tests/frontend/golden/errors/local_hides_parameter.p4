// a local variable with the name of a parameter of its control
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        metadata meta = {x = 0, y = 0};
        standard_metadata.egress_spec = 1;
    }
}

#include "include/after_ingress.p4"
