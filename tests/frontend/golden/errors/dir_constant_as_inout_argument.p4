// a constant passed as the 'inout' argument of an action
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action decrement(inout bit<8> v) {
        v = v - 1;
    }
    apply {
        decrement(8w5);
    }
}

#include "include/after_ingress.p4"
