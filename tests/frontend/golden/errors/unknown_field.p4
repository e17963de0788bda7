// a misspelled header field name ('dstAdr' for 'dstAddr')
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.y = hdr.ipv4.dstAdr;
    }
}

#include "include/after_ingress.p4"
