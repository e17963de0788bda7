// an @name whose body is an expression, not a string literal
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    @name(ingress.drop) action drop() {
        mark_to_drop(standard_metadata);
    }
    table t {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { drop; }
    }
    apply {
        t.apply();
    }
}

#include "include/after_ingress.p4"
