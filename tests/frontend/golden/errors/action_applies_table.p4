// a table applied inside an action body
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action count_it() { }
    table stats {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { count_it; }
    }
    action forward_and_count(bit<9> port) {
        standard_metadata.egress_spec = port;
        stats.apply();
    }
    apply {
        forward_and_count(1);
    }
}

#include "include/after_ingress.p4"
