// an @name whose string holds a line break, which no control plane can address
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action drop() {
        mark_to_drop(standard_metadata);
    }
    table t {
        key = { hdr.ipv4.dstAddr: exact @name("dst\naddr"); }
        actions = { drop; }
    }
    apply {
        t.apply();
    }
}

#include "include/after_ingress.p4"
