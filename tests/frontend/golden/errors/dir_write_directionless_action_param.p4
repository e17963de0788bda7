// assignment to a directionless action parameter (it is action data, read-only)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_port(bit<9> port) {
        port = port + 1;
        standard_metadata.egress_spec = port;
    }
    apply {
        set_port(1);
    }
}

#include "include/after_ingress.p4"
