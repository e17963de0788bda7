// a 'default' label that is not the last label of a switch
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action drop() {
        mark_to_drop(standard_metadata);
    }
    action forward(bit<9> port) {
        standard_metadata.egress_spec = port;
    }
    action set_ttl(bit<8> ttl) {
        hdr.ipv4.ttl = ttl;
    }
    table t {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { forward; drop; }
        default_action = drop();
    }
    apply {
        switch (t.apply().action_run) {
            default: { meta.x = 0; }
            forward: { meta.x = 1; }
        }
    }
}

#include "include/after_ingress.p4"
