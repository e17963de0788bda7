// a recursive function (P4 forbids recursion)
#include "include/before_ingress.p4"

bit<8> count_down(in bit<8> v) {
    return count_down(v - 1);
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = count_down(meta.x);
    }
}

#include "include/after_ingress.p4"
