// '_' passed where only the argument could give the type of a generic parameter
#include "include/v1.p4"

parser MyParser(packet_in packet, out headers hdr, inout metadata meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(_);
        transition accept;
    }
}

#include "include/verify.p4"
#include "include/ingress.p4"
#include "include/after_ingress.p4"
