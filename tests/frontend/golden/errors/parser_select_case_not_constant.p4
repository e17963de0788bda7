// a select case value that is not a compile-time constant
#include "include/v1.p4"

parser MyParser(packet_in packet, out headers hdr, inout metadata meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            meta.y[15:0]: accept;
            default: reject;
        }
    }
}

#include "include/after_parser.p4"
