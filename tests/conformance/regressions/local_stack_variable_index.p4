// A header stack (and a stack of unions) held in local variables, indexed by a run-time value:
// reads, writes and validity through the index, and push_front on the local stack. Corpus: invalid-hdr-warnings4, invalid-hdr-warnings6.
#include <core.p4>
#include <v1model.p4>

header h_t { bit<8> a; bit<8> b; }
header u1_t { bit<8> x; }
header u2_t { bit<8> y; }
header_union u_t { u1_t h1; u2_t h2; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        h_t[3] s;
        bit<2> i = (bit<2>)hdr.h.a;
        s[i].setValid();
        s[i].a = 0x40;
        s[0].setValid();
        s[0].a = s[0].a + 1;
        hdr.h.b = s[i].a;
        u_t[2] u;
        u[i[0:0]].h2.setValid();
        u[i[0:0]].h2.y = 7;
        if (u[1].h2.isValid()) { hdr.h.b = hdr.h.b + u[1].h2.y; }
        s.push_front(1);
        if (!s[0].isValid() && s[1].isValid()) { hdr.h.a = hdr.h.a + 0x10; }
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
