// a local variable whose type was never declared
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        port_t p = standard_metadata.ingress_port;
        standard_metadata.egress_spec = p;
    }
}

#include "include/after_ingress.p4"
