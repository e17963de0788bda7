// two actions with the same name in one control
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action drop() {
        mark_to_drop(standard_metadata);
    }
    action drop() {
        standard_metadata.egress_spec = 511;
    }
    apply {
        drop();
    }
}

#include "include/after_ingress.p4"
