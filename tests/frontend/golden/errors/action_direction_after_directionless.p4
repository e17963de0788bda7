// a directional parameter after a directionless one
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action forward(bit<9> port, inout bit<8> hops) {
        standard_metadata.egress_spec = port;
        hops = hops + 1;
    }
    apply {
        forward(1, meta.x);
    }
}

#include "include/after_ingress.p4"
