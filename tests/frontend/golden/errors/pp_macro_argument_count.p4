// a function-like macro used with the wrong number of arguments
#include "include/before_ingress.p4"

#define DEC(x) ((x) - 1)

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        hdr.ipv4.ttl = DEC(hdr.ipv4.ttl, 1);
    }
}

#include "include/after_ingress.p4"
