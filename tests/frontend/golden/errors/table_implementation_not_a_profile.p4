// a table implementation that is a counter, not an action_profile or action_selector
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    counter(32w4, CounterType.packets) hits;
    table t {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { NoAction; }
        implementation = hits;
    }
    apply { t.apply(); }
}

#include "include/after_ingress.p4"
