// a table entry whose 'in' argument differs from the actions list
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action to_port(in bit<9> port) { standard_metadata.egress_spec = port; }
    table route {
        key = { hdr.ipv4.dstAddr : exact; }
        actions = { to_port(1); }
        const entries = {
            0x0a000001 : to_port(1);
            0x0a000002 : to_port(2);
        }
    }
    apply {
        route.apply();
    }
}

#include "include/after_ingress.p4"
