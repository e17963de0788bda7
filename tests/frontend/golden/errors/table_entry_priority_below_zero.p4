// entry priorities that count down below zero
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_port(bit<9> port) { standard_metadata.egress_spec = port; }
    table acl {
        key = { hdr.ipv4.dstAddr : ternary; }
        actions = { set_port; NoAction; }
        priority_delta = 5;
        entries = {
            priority=6: 0x0a000000 &&& 0xff000000 : set_port(1);
                        0x0b000000 &&& 0xff000000 : set_port(2);
                        0x0c000000 &&& 0xff000000 : set_port(3);
        }
    }
    apply {
        acl.apply();
    }
}

#include "include/after_ingress.p4"
