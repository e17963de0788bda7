// two actions in different controls with the same global @name
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    @name(".drop_packet") action drop_it() { mark_to_drop(standard_metadata); }
    table filter {
        key = { hdr.ipv4.srcAddr : exact; }
        actions = { drop_it; NoAction; }
    }
    apply {
        filter.apply();
    }
}

control MyEgress(inout headers hdr, inout metadata meta,
                 inout standard_metadata_t standard_metadata) {
    @name(".drop_packet") action discard() { mark_to_drop(standard_metadata); }
    table filter {
        key = { hdr.ipv4.dstAddr : exact; }
        actions = { discard; NoAction; }
    }
    apply {
        filter.apply();
    }
}

#include "include/compute.p4"
#include "include/deparser.p4"
#include "include/main.p4"
