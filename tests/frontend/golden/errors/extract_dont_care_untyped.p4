// extract(_) without a type argument: which header to skip cannot be inferred
#include "include/v1.p4"

parser MyParser(packet_in packet, out headers hdr, inout metadata meta, inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(_);
        transition accept;
    }
}

#include "include/after_parser.p4"
