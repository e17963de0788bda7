// an action parameter of type int with a direction
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action add_ttl(in int amount) {
        hdr.ipv4.ttl = hdr.ipv4.ttl + amount;
    }
    apply {
        add_ttl(1);
    }
}

#include "include/after_ingress.p4"
