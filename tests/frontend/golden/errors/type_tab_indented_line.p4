// a type error on a tab-indented line (the caret must line up)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
	meta.x = meta.y;
    }
}

#include "include/after_ingress.p4"
