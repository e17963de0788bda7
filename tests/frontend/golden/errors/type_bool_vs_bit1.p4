// a bool compared with a bit<1> value
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        bit<1> flag = 1;
        bool valid = hdr.ipv4.isValid();
        if (valid == flag) {
            meta.x = 1;
        }
    }
}

#include "include/after_ingress.p4"
