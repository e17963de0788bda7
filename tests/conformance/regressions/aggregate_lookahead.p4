// lookahead<T>() of a struct (with widths given by constant expressions), of a struct holding a header stack,
// and a register whose elements are structs (kept as their fields' bits side by side).
// Corpus: issue1768-bmv2, issue2465-bmv2, issue561-bmv2 (lookahead<struct>().field), issue907-bmv2.
#define V1MODEL_VERSION 20200408
#include <core.p4>
#include <v1model.p4>

const bit<8> BYTE = 8;
struct two_t { bit<(BYTE / 2)> hi; bit<(2 * 2)> lo; bit<(1 * 8)> next; }
header b_t { bit<8> f; }
struct stack_t { b_t[2] bs; bool top; bit<7> rest; }
header out_t { bit<8> hi; bit<8> lo; bit<8> f1; bit<8> top; bit<8> reg_hi; bit<8> reg_lo; }
struct headers_t { out_t o; }
struct meta_t { two_t two; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start {
        m.two = pkt.lookahead<two_t>();
        stack_t s = pkt.lookahead<stack_t>();
        hdr.o.setValid();
        hdr.o.hi = (bit<8>)m.two.hi;
        hdr.o.lo = (bit<8>)m.two.lo;
        hdr.o.f1 = s.bs[1].f;
        hdr.o.top = s.top ? 8w1 : 8w0;
        transition select(pkt.lookahead<two_t>().next) {
            0xFF: drop_it;
            default: accept;
        }
    }
    state drop_it { verify(false, error.NoMatch); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    register<two_t, bit<32>>(4) r;
    apply {
        sm.egress_spec = 1;
        r.write(1, m.two);
        two_t back;
        r.read(back, 1);
        hdr.o.reg_hi = (bit<8>)back.hi;
        two_t again = r.read(1);
        hdr.o.reg_lo = again.next;
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.o); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
