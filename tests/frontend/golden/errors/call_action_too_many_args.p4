// an action called with more arguments than it has parameters
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_port(bit<9> port) {
        standard_metadata.egress_spec = port;
    }
    apply {
        set_port(1, 2);
    }
}

#include "include/after_ingress.p4"
