// a table whose entries come before its key
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_port(bit<9> port) { standard_metadata.egress_spec = port; }
    table route {
        actions = { set_port; }
        const entries = {
            0x0a000001 : set_port(1);
        }
        key = { hdr.ipv4.dstAddr : exact; }
    }
    apply {
        route.apply();
    }
}

#include "include/after_ingress.p4"
