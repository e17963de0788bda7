// Generic struct and header declarations (P4_16 7.2.11): `header pair_t<T>`, `struct wrap_t<T>` holding a
// specialization with its own parameter; every distinct specialization is one type.
// Corpus: issue4835-generic-struct (issue3091 also uses generic externs this does not cover).
#include <core.p4>
#include <v1model.p4>

header pair_t<T> { T a; T b; }
struct wrap_t<T> { pair_t<T> p; T extra; }
struct headers_t { pair_t<bit<8>> small; pair_t<bit<16>> wide; }
struct meta_t { wrap_t<bit<16>> saved; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.small); pkt.extract(hdr.wide); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        m.saved.p = hdr.wide;
        m.saved.extra = hdr.wide.a + hdr.wide.b;
        pair_t<bit<8>> copy = hdr.small;
        hdr.small.a = copy.b;
        hdr.small.b = copy.a;
        hdr.wide.b = m.saved.extra;
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.small); pkt.emit(hdr.wide); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
