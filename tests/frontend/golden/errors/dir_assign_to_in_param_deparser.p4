// assignment to a field of an 'in' parameter
#include "include/before_ingress.p4"
#include "include/ingress.p4"
#include "include/egress.p4"
#include "include/compute.p4"

control MyDeparser(packet_out packet, in headers hdr) {
    apply {
        hdr.ipv4.ttl = 64;
        packet.emit(hdr.ethernet);
        packet.emit(hdr.ipv4);
    }
}

#include "include/main.p4"
