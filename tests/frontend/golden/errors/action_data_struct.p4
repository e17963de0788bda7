// a table action whose action data (directionless parameter) is a struct
#include "include/before_ingress.p4"

struct rewrite_t {
    bit<48> mac;
    bit<9>  port;
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action rewrite(rewrite_t r) {
        hdr.ethernet.dstAddr = r.mac;
        standard_metadata.egress_spec = r.port;
    }
    table next_hop {
        key = { hdr.ipv4.dstAddr : exact; }
        actions = { rewrite; NoAction; }
    }
    apply {
        next_hop.apply();
    }
}

#include "include/after_ingress.p4"
