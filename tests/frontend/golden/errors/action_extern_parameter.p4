// an action parameter of an extern type (only controls and parsers take instances)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta, inout standard_metadata_t standard_metadata) {
    register<bit<8>>(4) r;
    action a(register<bit<8>> reg) {
        reg.write(0, meta.x);
    }
    apply {
        a(r);
    }
}

#include "include/after_ingress.p4"
