// a table lists an action that is not declared
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action drop() {
        mark_to_drop(standard_metadata);
    }
    table filter {
        key = { hdr.ipv4.srcAddr: exact; }
        actions = { drop; forward; }
        default_action = drop();
    }
    apply {
        filter.apply();
    }
}

#include "include/after_ingress.p4"
