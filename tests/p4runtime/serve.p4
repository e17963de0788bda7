// A program for the P4Runtime server's tests: every match kind, a direct counter, an indexed counter,
// a register and an action selector.
#include <core.p4>
#include <v1model.p4>

header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { ethernet_t eth; }
struct meta_t { bit<8> tag; }

parser P(packet_in pkt, out headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(h.eth); transition accept; }
}
control VC(inout headers_t h, inout meta_t m) { apply { } }
control Ing(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) {
    counter(8, CounterType.packets_and_bytes) port_counts;
    register<bit<32>>(4) seen;
    direct_counter(CounterType.packets_and_bytes) hits;
    action_selector(HashAlgorithm.crc16, 32, 16) sel;

    action drop() { mark_to_drop(sm); }
    action forward(bit<9> port) { sm.egress_spec = port; }
    action set_src(bit<48> mac) { h.eth.src = mac; }

    table l2 {
        key = { h.eth.dst : exact; }
        actions = { forward; drop; }
        default_action = drop();
        counters = hits;
    }
    table routes {
        key = { h.eth.src : lpm; }
        actions = { set_src; NoAction; }
    }
    table acl {
        key = { h.eth.type : ternary; sm.ingress_port : range; m.tag : optional; }
        actions = { drop; NoAction; }
    }
    table ecmp {
        key = { h.eth.type : exact; h.eth.src : selector; }
        actions = { forward; }
        implementation = sel;
    }
    apply {
        port_counts.count((bit<32>) sm.ingress_port);
        seen.write(0, 1);
        l2.apply();
        routes.apply();
        acl.apply();
        ecmp.apply();
    }
}
control Eg(inout headers_t h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control CC(inout headers_t h, inout meta_t m) { apply { } }
control D(packet_out pkt, in headers_t h) { apply { pkt.emit(h.eth); } }
V1Switch(P(), VC(), Ing(), Eg(), CC(), D()) main;
