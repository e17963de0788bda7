// a table property that this architecture does not know ('support_timeout' is misspelled)
#include "../errors/include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action forward(bit<9> port) {
        standard_metadata.egress_spec = port;
    }
    table t {
        key = { hdr.ipv4.dstAddr: exact; }
        actions = { forward; NoAction; }
        support_timout = true;
    }
    apply {
        t.apply();
    }
}

#include "../errors/include/after_ingress.p4"
