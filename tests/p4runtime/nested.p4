#include <core.p4>
#include <v1model.p4>

@p4runtime_translation("example.org/Port_t", 32) type bit<9> Port_t;
@p4runtime_translation("example.org/Mac_t", bit<64>) type bit<48> Mac_t;
@p4runtime_translation("example.org/Name_t", string) type bit<16> Name_t;

header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header tag_t { bit<16> v; }
struct legacy_t { bit<8> f; }
struct headers { eth_t eth; tag_t[2] tags; }
struct meta_t { @name(".legacy") legacy_t l; bit<8> x; }
struct note_t { bit<8> x; }

parser P(packet_in pk, out headers h, inout meta_t m, inout standard_metadata_t sm) {
    state start { pk.extract(h.eth); transition accept; }
}
control V(inout headers h, inout meta_t m) { apply { } }

control Inner(inout headers h, inout meta_t m, inout standard_metadata_t sm) {
    action note() { digest<note_t>(1, {m.x}); }
    action mark() { note(); m.x = 1; }
    table inner_t { key = { h.tags[1].isValid() : exact; m.l.f : exact; } actions = { mark; } }
    apply { inner_t.apply(); }
}
control Applied(inout headers h, inout meta_t m, inout standard_metadata_t sm) {
    table applied_t { key = { h.eth.type : exact; } actions = { NoAction; } }
    apply { applied_t.apply(); }
}
control I(inout headers h, inout meta_t m, inout standard_metadata_t sm) {
    table first { key = { h.eth.isValid() : exact; } actions = { NoAction; } }
    Inner() inner;
    @name("hits_named") direct_counter(CounterType.packets) hits;
    action set_port(Port_t p, Mac_t mac, Name_t n) { sm.egress_spec = (bit<9>)p; }
    action direct_only(bit<8> v) { m.x = v; }
    table last {
        key = { h.eth.dst : exact; }
        actions = { set_port; }
        counters = hits;
        @name("own_profile") implementation = action_profile(64);
    }
    apply {
        first.apply();
        inner.apply(h, m, sm);
        Applied.apply(h, m, sm);
        last.apply();
        direct_only(3);
    }
}
control E(inout headers h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control C(inout headers h, inout meta_t m) { apply { } }
control D(packet_out pk, in headers h) { apply { pk.emit(h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
