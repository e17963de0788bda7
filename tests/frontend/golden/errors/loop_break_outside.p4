// 'break' outside any for loop
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        if (hdr.ipv4.ttl == 0) {
            break;
        }
    }
}

#include "include/after_ingress.p4"
