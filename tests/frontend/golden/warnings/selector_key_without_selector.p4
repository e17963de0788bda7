// a selector key in a table without an action selector, which BMv2 ignores; @max_group_size on a
// plain action profile, which means nothing
#include "../errors/include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    table t {
        key = { hdr.ipv4.dstAddr: exact; hdr.ipv4.srcAddr: selector; }
        actions = { NoAction; }
    }
    table u {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { NoAction; }
        @max_group_size(4) implementation = action_profile(32w8);
    }
    apply { t.apply(); u.apply(); }
}

#include "../errors/include/after_ingress.p4"
