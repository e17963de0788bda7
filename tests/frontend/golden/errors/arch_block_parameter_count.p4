// an ingress control with a parameter missing (standard_metadata)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta) {
    apply {
        meta.x = 1;
    }
}

#include "include/egress.p4"
#include "include/compute.p4"
#include "include/deparser.p4"

V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(),
         MyComputeChecksum(), MyDeparser()) main;
