// a computed table key without a @name annotation
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_port(bit<9> port) { standard_metadata.egress_spec = port; }
    table route {
        key = { hdr.ipv4.dstAddr ^ hdr.ipv4.srcAddr : exact; }
        actions = { set_port; }
    }
    apply {
        route.apply();
    }
}

#include "include/after_ingress.p4"
