// missing '}' at the end of a control; the error is found in an included file
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        meta.x = 1;
    }

#include "include/after_ingress.p4"
