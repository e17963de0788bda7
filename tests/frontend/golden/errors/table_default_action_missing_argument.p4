// default_action calls an action without its argument
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action forward(bit<9> port) {
        standard_metadata.egress_spec = port;
    }
    table t {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { forward; }
        default_action = forward();
    }
    apply {
        t.apply();
    }
}

#include "include/after_ingress.p4"
