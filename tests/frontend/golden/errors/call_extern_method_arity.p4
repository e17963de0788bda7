// an extern method called with too few arguments (counter.count needs an index)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    counter(32w16, CounterType.packets) pkts;
    apply {
        pkts.count();
    }
}

#include "include/after_ingress.p4"
