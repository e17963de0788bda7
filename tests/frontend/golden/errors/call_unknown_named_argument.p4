// a named argument that is not a parameter of the action
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_port(bit<9> port) {
        standard_metadata.egress_spec = port;
    }
    apply {
        set_port(prt = 1);
    }
}

#include "include/after_ingress.p4"
