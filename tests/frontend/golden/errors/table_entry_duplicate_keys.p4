// two constant entries with the same keys
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_port(bit<9> port) { standard_metadata.egress_spec = port; }
    table route {
        key = { hdr.ipv4.dstAddr : exact; hdr.ipv4.protocol : exact; }
        actions = { set_port; }
        const entries = {
            (0x0a000001, 6)  : set_port(1);
            (0x0a000001, 17) : set_port(2);
            (0x0a000001, 6)  : set_port(3);
        }
    }
    apply {
        route.apply();
    }
}

#include "include/after_ingress.p4"
