// PacketIn / PacketOut: a packet from the controller leaves by the port its packet_out header names (back to
// the controller, as a packet_in from port 510, when that is the CPU port); any other packet goes to the
// controller with its ingress port.
#include <core.p4>
#include <v1model.p4>

@controller_header("packet_out") header packet_out_t { bit<9> egress_port; bit<7> pad; }
@controller_header("packet_in") header packet_in_t { bit<9> ingress_port; bit<7> pad; }
header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { packet_in_t pin; packet_out_t pout; ethernet_t eth; }
struct meta_t { }

parser P(packet_in pkt, out headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    state start { transition select(sm.ingress_port) { 510: from_cpu; default: eth; } }
    state from_cpu { pkt.extract(h.pout); transition eth; }
    state eth { pkt.extract(h.eth); transition accept; }
}
control VC(inout headers_t h, inout meta_t m) { apply { } }
control Ing(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        if (h.pout.isValid()) {
            sm.egress_spec = h.pout.egress_port;
            h.pout.setInvalid();
            if (sm.egress_spec == 510) {
                h.pin.setValid();
                h.pin.ingress_port = 510;
            }
        } else {
            sm.egress_spec = 510;
            h.pin.setValid();
            h.pin.ingress_port = sm.ingress_port;
        }
    }
}
control Eg(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t h, inout meta_t m) { apply { } }
control D(packet_out pkt, in headers_t h) { apply { pkt.emit(h.pin); pkt.emit(h.eth); } }
V1Switch(P(), VC(), Ing(), Eg(), CC(), D()) main;
