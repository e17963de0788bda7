// setValid() on a header that is part of an 'in' parameter
#include "include/before_ingress.p4"
#include "include/ingress.p4"
#include "include/egress.p4"
#include "include/compute.p4"

control MyDeparser(packet_out packet, in headers hdr) {
    apply {
        hdr.ipv4.setValid();
        packet.emit(hdr.ethernet);
        packet.emit(hdr.ipv4);
    }
}

#include "include/main.p4"
