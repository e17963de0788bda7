// a register declared without its type argument
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    register(32w16) regs;
    apply {
        bit<32> v;
        regs.read(v, 0);
    }
}

#include "include/after_ingress.p4"
