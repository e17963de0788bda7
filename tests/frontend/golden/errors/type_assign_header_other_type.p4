// a header assigned from a header of another type
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ipv4 = hdr.ethernet;
    }
}

#include "include/after_ingress.p4"
