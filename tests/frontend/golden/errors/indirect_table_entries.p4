// initial entries in a table whose entries point to members of an action profile
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action fwd(bit<9> port) { standard_metadata.egress_spec = port; }
    table t {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { fwd; }
        implementation = action_profile(32w16);
        const entries = { 0x0a000001 : fwd(1); }
    }
    apply { t.apply(); }
}

#include "include/after_ingress.p4"
