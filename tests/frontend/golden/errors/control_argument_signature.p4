// a control passed to a constructor parameter whose control type it does not match
#include "include/before_ingress.p4"

control Step(inout bit<8> x);
control Peek(in bit<8> x) { apply { } }
control Twice(inout bit<8> x)(Step s) {
    apply {
        s.apply(x);
        s.apply(x);
    }
}

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t standard_metadata) {
    Peek() peek;
    Twice(peek) twice;
    apply {
        twice.apply(meta.x);
    }
}

#include "include/after_ingress.p4"
