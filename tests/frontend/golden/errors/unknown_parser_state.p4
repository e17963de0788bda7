// a transition to a parser state that does not exist
#include "include/v1.p4"

parser MyParser(packet_in packet, out headers hdr, inout metadata meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            0x0800: parse_ipv4;
            default: accept;
        }
    }
    state parse_ip4 {
        packet.extract(hdr.ipv4);
        transition accept;
    }
}

#include "include/after_parser.p4"
