// setValid() on a header passed to a control as 'in'
#include "include/before_ingress.p4"

control AddIpv4(in headers h) {
    apply {
        h.ipv4.setValid();
    }
}

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    AddIpv4() rewrite;
    apply {
        rewrite.apply(hdr);
    }
}

#include "include/after_ingress.p4"
