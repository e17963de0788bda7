// a string given to a generic parameter that has a direction
#include "include/before_ingress.p4"

extern void show<T>(in T value);

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        show("ttl");
    }
}

#include "include/after_ingress.p4"
