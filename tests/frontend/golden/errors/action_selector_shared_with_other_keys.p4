// two tables share an action selector but hash different selector keys (BMv2 keeps the input with the selector)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action_selector(HashAlgorithm.crc16, 32w64, 32w16) sel;
    table a {
        key = { hdr.ipv4.dstAddr: exact; hdr.ipv4.srcAddr: selector; }
        actions = { NoAction; }
        implementation = sel;
    }
    table b {
        key = { hdr.ipv4.srcAddr: exact; hdr.ipv4.dstAddr: selector; }
        actions = { NoAction; }
        implementation = sel;
    }
    apply { a.apply(); b.apply(); }
}

#include "include/after_ingress.p4"
