// register.read into a variable narrower than the register's cells
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    register<bit<32>>(32w16) regs;
    apply {
        bit<16> v;
        regs.read(v, 0);
    }
}

#include "include/after_ingress.p4"
