// a local variable of the width-less type int
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        int hops = 3;
        standard_metadata.egress_spec = 1;
    }
}

#include "include/after_ingress.p4"
