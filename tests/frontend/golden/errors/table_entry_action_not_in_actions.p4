// a const entry whose action is not in the table's actions
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action forward(bit<9> port) {
        standard_metadata.egress_spec = port;
    }
    action drop() {
        mark_to_drop(standard_metadata);
    }
    table t {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { forward; }
        const entries = {
            32w0x0a000001: drop();
        }
    }
    apply {
        t.apply();
    }
}

#include "include/after_ingress.p4"
