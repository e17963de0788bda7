// an @optional parameter on a P4 function (only extern functions and methods may have them)
#include "include/before_ingress.p4"

bit<8> pick(@optional in bit<8> a) {
    return a;
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ethernet.etherType = (bit<16>)pick();
    }
}

#include "include/after_ingress.p4"
