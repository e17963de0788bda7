// an @name with an empty string: nothing for a control plane to address
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action drop() {
        mark_to_drop(standard_metadata);
    }
    @name("") table t {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { drop; }
    }
    apply {
        t.apply();
    }
}

#include "include/after_ingress.p4"
