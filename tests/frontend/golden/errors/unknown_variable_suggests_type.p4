// use of a variable that was never declared
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = counter_value;
    }
}

#include "include/after_ingress.p4"
