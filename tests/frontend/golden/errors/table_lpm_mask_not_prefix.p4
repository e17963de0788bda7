// an lpm key given a mask that is not a prefix
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action drop() {
        mark_to_drop(standard_metadata);
    }
    action forward(bit<9> port) {
        standard_metadata.egress_spec = port;
    }
    table t {
        key = { hdr.ipv4.dstAddr: lpm; }
        actions = { forward; drop; }
        const entries = {
            32w0x0a000000 &&& 32w0xff00ff00: forward(1);
        }
    }
    apply {
        t.apply();
    }
}

#include "include/after_ingress.p4"
