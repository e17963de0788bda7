// the egress control uses a different headers struct than the other blocks
#include "include/before_ingress.p4"
#include "include/ingress.p4"

struct other_headers {
    ethernet_t ethernet;
}

control MyEgress(inout other_headers hdr, inout metadata meta,
                 inout standard_metadata_t standard_metadata) {
    apply { }
}

#include "include/compute.p4"
#include "include/deparser.p4"
#include "include/main.p4"
