// 'return 1;' in an action (actions return no value)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    action set_flag() {
        meta.x = 1;
        return 1;
    }
    apply {
        set_flag();
    }
}

#include "include/after_ingress.p4"
