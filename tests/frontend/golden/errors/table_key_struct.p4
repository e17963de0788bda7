// a table key whose type is a struct
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    table t {
        key = { meta: exact; }
        actions = { NoAction; }
    }
    apply {
        t.apply();
    }
}

#include "include/after_ingress.p4"
