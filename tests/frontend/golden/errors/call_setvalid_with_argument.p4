// setValid() called with an argument
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ethernet.setValid(1);
    }
}

#include "include/after_ingress.p4"
