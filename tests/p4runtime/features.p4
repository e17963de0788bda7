#include <core.p4>
#include <v1model.p4>

type bit<9> port_t;
enum bit<8> Reason { A = 1, B = 2 }

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
@controller_header("packet_in")
header packet_in_t { port_t ingress_port; Reason reason; bit<7> pad; }
@controller_header("packet_out")
header packet_out_t { @id(5) bit<9> egress_port; bit<7> pad; }
struct headers { packet_out_t po; packet_in_t pi; eth_t eth; }
struct learn_t { bit<48> src; bit<9> port; }
struct pair_t { bit<8> lo; bit<8> hi; }
struct meta_t { bit<8> x; bit<16> t; bit<2> c; }

parser P(packet_in pk, out headers h, inout meta_t m, inout standard_metadata_t sm) {
    @brief("EtherTypes the controller adds") value_set<bit<16>>(4) vs;
    state start {
        pk.extract(h.eth);
        transition select(h.eth.type) { vs: accept; default: accept; }
    }
}
control V(inout headers h, inout meta_t m) { apply { } }
control I(inout headers h, inout meta_t m, inout standard_metadata_t sm) {
    @brief("per-port packets") counter(64, CounterType.packets_and_bytes) port_counts;
    meter(32, MeterType.bytes) rate;
    register<pair_t>(16) pairs;
    direct_counter(CounterType.packets) hits;
    direct_meter<bit<2>>(MeterType.packets) colors;
    action_selector(HashAlgorithm.crc16, 128, 16) sel;

    @id(7) action forward(@brief("out port") port_t port) { sm.egress_spec = (bit<9>)port; }
    action drop() { mark_to_drop(sm); }
    action learn() { digest<learn_t>(1, {h.eth.src, sm.ingress_port}); }
    action count_it() { hits.count(); }
    action color_it() { colors.read(m.c); }
    action set_x(bit<8> x) { m.x = x; }
    action unused(bit<8> y) { m.x = y; }

    @brief("MAC table") @my_anno(1)
    table mac {
        key = { h.eth.dst : exact @name("dst"); sm.ingress_port : ternary; }
        actions = { forward; @defaultonly drop; @tableonly learn; }
        default_action = drop();
        support_timeout = true;
        size = 512;
    }
    table counted {
        key = { h.eth.type : range; }
        actions = { count_it; NoAction; }
        counters = hits;
    }
    table metered {
        key = { h.eth.src : lpm; }
        actions = { color_it; }
        meters = colors;
        const default_action = color_it();
    }
    table ecmp {
        key = { h.eth.type : exact; h.eth.src : selector; }
        actions = { forward; }
        implementation = sel;
    }
    table fixed {
        key = { m.x : exact; }
        actions = { set_x; }
        default_action = set_x(0x2a);
        const entries = { 1 : set_x(2); }
    }
    apply {
        port_counts.count(0);
        rate.execute_meter(0, m.x);
        pairs.write(0, {1, 2});
        mac.apply(); counted.apply(); metered.apply(); ecmp.apply(); fixed.apply();
    }
}
control E(inout headers h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control C(inout headers h, inout meta_t m) { apply { } }
control D(packet_out pk, in headers h) { apply { pk.emit(h); } }
@pkginfo(name="feat", version="1.2") V1Switch(P(), V(), I(), E(), C(), D()) main;
