// @max_group_size must be a positive number of members
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    table t {
        key = { hdr.ipv4.dstAddr: exact; hdr.ipv4.srcAddr: selector; }
        actions = { NoAction; }
        @max_group_size(0) implementation = action_selector(HashAlgorithm.crc32, 32w64, 32w32);
    }
    apply { t.apply(); }
}

#include "include/after_ingress.p4"
