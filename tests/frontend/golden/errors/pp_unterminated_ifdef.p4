// an #ifdef without its #endif
#include "include/before_ingress.p4"

#ifdef WITH_COUNTERS
control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    counter(16, CounterType.packets) c;
    apply { c.count(0); }
}
#else
#include "include/ingress.p4"

#include "include/after_ingress.p4"
