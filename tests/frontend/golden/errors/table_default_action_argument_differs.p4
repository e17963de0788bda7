// a default action whose directional argument differs from the actions list
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_field(inout bit<8> field, bit<8> value) { field = value; }
    table mark {
        key = { hdr.ipv4.dstAddr : exact; }
        actions = { set_field(meta.x); }
        default_action = set_field(hdr.ipv4.ttl, 0);
    }
    apply {
        mark.apply();
    }
}

#include "include/after_ingress.p4"
