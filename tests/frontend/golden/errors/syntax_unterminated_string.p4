// an unterminated string in an annotation
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    @name("ingress.drop)
    action drop() { mark_to_drop(standard_metadata); }
    apply { drop(); }
}
#include "include/after_ingress.p4"
