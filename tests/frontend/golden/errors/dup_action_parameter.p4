// an action with two parameters of the same name
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action a(bit<8> v, bit<8> v) {
        meta.x = v;
    }
    apply {
        a(1, 2);
    }
}

#include "include/after_ingress.p4"
