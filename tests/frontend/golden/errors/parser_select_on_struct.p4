// select() on a whole struct instead of on fields
#include "include/v1.p4"

parser MyParser(packet_in packet, out headers hdr, inout metadata meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition select(meta) {
            default: accept;
        }
    }
}

#include "include/after_parser.p4"
