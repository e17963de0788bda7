// Copy-in/copy-out (P4_16 spec 6.8): an argument is a copy, so a callee that also reaches the same
// storage another way (its control's `hdr`, a second argument) sees the value at the call, and
// out/inout arguments are copied back left to right. Corpus: gauntlet_indirect_hdr_assign_1/2-bmv2.
#include <core.p4>
#include <v1model.p4>

header h_t { bit<8> a; bit<8> b; bit<8> c; bit<8> d; bit<8> e; bit<8> f; bit<8> g; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }

void both(out bit<8> x, out bit<8> y) { x = 1; y = 2; }

control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    // The copy-out of v overwrites the write through hdr.
    action via_control(inout h_t v) { hdr.h.a = 9; v.b = v.a; }
    // v keeps the value of hdr.h.c at the call.
    action read_in(in h_t v) { hdr.h.c = 7; hdr.h.d = v.c; }
    // y is a copy of hdr.h taken before x is changed.
    action two(inout h_t x, in h_t y) { x.e = y.e + 1; x.f = y.e; }
    apply {
        sm.egress_spec = 1;
        via_control(hdr.h);
        read_in(hdr.h);
        two(hdr.h, hdr.h);
        both(hdr.h.g, hdr.h.g);
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
