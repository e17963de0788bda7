// Left-to-right evaluation (P4_16 spec 8.1): an operand read before a call with side effects keeps
// the value it had; an assignment's target (its index) is evaluated before the value; `x op= e`
// evaluates x once; a list assigned to a struct it reads is read whole first.
// Corpus: issue2205-bmv2, issue2205-1-bmv2, gauntlet_index_7-bmv2, opassign2-bmv2.
#include <core.p4>
#include <v1model.p4>

header h_t { bit<8> a; bit<8> b; bit<8> c; bit<8> d; }
header e_t { bit<8> x; }
struct headers_t { h_t h; e_t[2] e; }
struct pair_t { bit<8> x; bit<8> y; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); pkt.extract(hdr.e.next); pkt.extract(hdr.e.next); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }

bit<8> incr(inout bit<8> x) { x = x + 1; return 10; }
bit<8> clear(inout bit<8> x) { x = 0; return 0x55; }
bit<8> bump(inout bit<8> x) { bit<8> rv = x; x = x + 1; return rv; }

control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        bit<8> val = hdr.h.b;
        hdr.h.a = val + incr(val);
        hdr.h.b = val;
        hdr.e[hdr.h.c[0:0]].x = clear(hdr.h.c);
        hdr.e[bump(hdr.h.d) & 1].x |= 0xF0;
        pair_t pr = { hdr.h.a, hdr.h.b };
        pr = { pr.y, pr.x };
        hdr.h.a = pr.x;
        hdr.h.b = pr.y;
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
