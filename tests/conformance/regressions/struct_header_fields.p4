// P4_16 7.2.2: a header field may be a struct of bit<W>, int<W>, bool and serializable enums (nested structs
// too), laid out flat in field order. Extract, emit, member access, whole-struct copy and comparison, table
// keys on members, and writes to an invalid header (ignored) must follow.
// Corpus: bvec-hdr-bmv2, bvec_union-bmv2, stack-bvec-bmv2, issue383-bmv2, issue1653-complex-bmv2,
// issue1670-bmv2, issue3329-bmv2, structure-valued-expr-ok-1-bmv2, metrics_test_4, v1model-p4runtime-*-types1.
#include <core.p4>
#include <v1model.p4>

enum bit<4> Kind { A = 1, B = 2 }
struct inner_t { bit<4> lo; bool flag; bit<7> pad; }
struct pair_t { Kind kind; inner_t inner; bit<8> x; }
header h_t { bit<8> first; pair_t p; bit<8> last; }
struct headers_t { h_t h; h_t[2] s; }
struct meta_t { pair_t saved; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); pkt.extract(hdr.s.next); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table t {
        key = { hdr.h.p.kind : exact; hdr.h.p.inner.lo : exact; }
        actions = { fwd; NoAction; }
        const entries = { (Kind.A, 4w5) : fwd(3); }
        default_action = fwd(2);
    }
    apply {
        t.apply();
        m.saved = hdr.h.p;                       // a whole struct out of a header
        hdr.h.p.x = hdr.h.p.x + 1;
        hdr.h.p.inner.flag = !hdr.h.p.inner.flag;
        if (hdr.s[0].p == m.saved) {             // compare struct fields of two headers
            hdr.h.last = 0xEE;
        }
        hdr.s[1].p = m.saved;                    // s[1] is invalid: the write is ignored
        hdr.s[0].p.inner = { 7, true, 0 };
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); pkt.emit(hdr.s); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
