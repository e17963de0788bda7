// a table with a global @name in a control that is instantiated twice
#include "include/before_ingress.p4"

control Filter(inout standard_metadata_t sm) {
    action drop_it() { mark_to_drop(sm); }
    @name(".port_filter")
    table port_filter {
        key = { sm.ingress_port : exact; }
        actions = { drop_it; NoAction; }
    }
    apply {
        port_filter.apply();
    }
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    Filter() first;
    Filter() second;
    apply {
        first.apply(standard_metadata);
        second.apply(standard_metadata);
    }
}

#include "include/after_ingress.p4"
