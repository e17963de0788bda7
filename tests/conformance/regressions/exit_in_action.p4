// `exit` inside an action still copies its out and inout arguments back (as p4c and BMv2 do),
// in nested actions too, and ends the control. Corpus: issue2225-bmv2, gauntlet_exit_combination_3-bmv2.
#include <core.p4>
#include <v1model.p4>

header h_t { bit<8> a; bit<8> b; bit<8> c; bit<8> d; bit<8> e; bit<8> f; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }

control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action leave(inout bit<8> v) { v = 3; exit; }
    action leave_header(inout h_t v) { v.b = 4; hdr.h.c = 9; exit; }
    action outer(inout bit<8> w) { w = 1; leave(w); }
    apply {
        sm.egress_spec = 1;
        if (hdr.h.d == 0) {
            leave_header(hdr.h);
        } else if (hdr.h.d == 1) {
            leave(hdr.h.a);
        } else {
            outer(hdr.h.f);
        }
        hdr.h.e = 1;
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
