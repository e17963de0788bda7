// a select case with two values when select() has one expression
#include "include/v1.p4"

parser MyParser(packet_in packet, out headers hdr, inout metadata meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            (0x0800, 0x86dd): accept;
            default: reject;
        }
    }
}

#include "include/after_parser.p4"
