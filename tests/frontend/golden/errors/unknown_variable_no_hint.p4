// use of a name that is declared nowhere
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.y = next_hop_address;
    }
}

#include "include/after_ingress.p4"
