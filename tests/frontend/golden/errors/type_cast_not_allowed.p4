// a cast from bool to bit<8> (only bit<1> and bool convert)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bool v = hdr.ipv4.isValid();
        meta.x = (bit<8>)v;
    }
}

#include "include/after_ingress.p4"
