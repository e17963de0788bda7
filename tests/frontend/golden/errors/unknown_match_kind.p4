// a table key with a match kind that does not exist
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action drop() {
        mark_to_drop(standard_metadata);
    }
    table filter {
        key = { hdr.ipv4.srcAddr: prefix; }
        actions = { drop; NoAction; }
    }
    apply {
        filter.apply();
    }
}

#include "include/after_ingress.p4"
