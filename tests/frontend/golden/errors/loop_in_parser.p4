// a for loop in a parser state
#include "include/v1.p4"

parser MyParser(packet_in packet, out headers hdr, inout metadata meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        for (bit<8> i = 0; i < 2; i = i + 1) {
            packet.advance(8);
        }
        transition accept;
    }
}

#include "include/after_parser.p4"
