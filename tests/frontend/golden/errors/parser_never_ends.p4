// a parser whose states from start only lead to each other
#include "include/v1.p4"

parser MyParser(packet_in packet, out headers hdr, inout metadata meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition parse_ipv4;
    }
    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        transition start;
    }
}

#include "include/verify.p4"
#include "include/ingress.p4"
#include "include/after_ingress.p4"
