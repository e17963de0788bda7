// verify() called in a control (it exists only in parsers)
#include "include/before_ingress.p4"

control MyIngress(inout headers hdr, inout metadata meta,
                  inout standard_metadata_t standard_metadata) {
    apply {
        verify(hdr.ipv4.version == 4, error.ParserInvalidArgument);
    }
}

#include "include/after_ingress.p4"
