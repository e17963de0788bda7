// two tables share an action profile but list different actions: a member must run in both
#include "../errors/include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action fwd(bit<9> port) { standard_metadata.egress_spec = port; }
    action_profile(32w8) ap;
    table a {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { fwd; NoAction; }
        implementation = ap;
    }
    table b {
        key = { hdr.ipv4.srcAddr: exact; }
        actions = { fwd; }
        implementation = ap;
    }
    apply { a.apply(); b.apply(); }
}

#include "../errors/include/after_ingress.p4"
