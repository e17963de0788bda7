// a negative constant index into a header stack
#include "include/types.p4"

header vlan_t {
    bit<16> tci;
    bit<16> etherType;
}

struct headers {
    ethernet_t ethernet;
    vlan_t[2]  vlans;
    ipv4_t     ipv4;
}

#include "include/parser.p4"
#include "include/verify.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.vlans[-1].tci = 0;
    }
}

#include "include/after_ingress.p4"
