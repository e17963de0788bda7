// an 'in' parameter passed as the 'out' argument of an action
#include "include/before_ingress.p4"
#include "include/ingress.p4"
#include "include/egress.p4"
#include "include/compute.p4"

control MyDeparser(packet_out packet, in headers hdr) {
    action get_ttl(out bit<8> ttl) {
        ttl = 64;
    }
    apply {
        get_ttl(hdr.ipv4.ttl);
        packet.emit(hdr.ethernet);
        packet.emit(hdr.ipv4);
    }
}

#include "include/main.p4"
