// an @name with two string literals side by side (one literal, or literals joined with ++)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action drop() {
        mark_to_drop(standard_metadata);
    }
    @name("ingress"
          "route") table t {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { drop; }
    }
    apply {
        t.apply();
    }
}

#include "include/after_ingress.p4"
