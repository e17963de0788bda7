// a default action naming the top-level action, while the actions list has the control's one
#include "include/before_ingress.p4"

action drop_it() { }

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action drop_it() { mark_to_drop(standard_metadata); }
    table filter {
        key = { hdr.ipv4.srcAddr : exact; }
        actions = { drop_it; }
        default_action = .drop_it();
    }
    apply {
        filter.apply();
    }
}

#include "include/after_ingress.p4"
