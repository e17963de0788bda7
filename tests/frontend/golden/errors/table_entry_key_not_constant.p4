// a const entry whose key is not a compile-time constant
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    table t {
        key = { hdr.ipv4.ttl: exact; }
        actions = { NoAction; }
        const entries = {
            meta.x: NoAction();
        }
    }
    apply {
        t.apply();
    }
}

#include "include/after_ingress.p4"
