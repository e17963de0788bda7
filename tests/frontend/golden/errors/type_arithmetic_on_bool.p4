// '+' applied to bool operands
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bool a = hdr.ipv4.isValid();
        bool b = a + a;
    }
}

#include "include/after_ingress.p4"
