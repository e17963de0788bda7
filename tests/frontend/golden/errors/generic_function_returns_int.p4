// a generic function whose type argument is inferred as int from an unsized constant
#include "include/before_ingress.p4"

T same<T>(in T x) {
    return x;
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bit<8> y = same(255);
        hdr.ethernet.etherType = (bit<16>)y;
    }
}

#include "include/after_ingress.p4"
