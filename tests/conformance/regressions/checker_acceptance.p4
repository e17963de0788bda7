// Programs p4c accepts that the checker refused, one construct each:
// - an action named like an extern function calling that function (issue1541): the call takes the declaration
//   whose parameters fit, further out;
// - a header stack indexed by a serializable enum, which converts to its underlying type (issue2726-bmv2);
// - a const entry whose key values are written as a list { ... } (action-two-params);
// - a constant initialized by static_assert, true once checked (issue3531);
// - a struct with two varbit fields (issue407-3: only headers are limited to one).
#include <core.p4>
#include <v1model.p4>

const bool version_checked = static_assert(V1MODEL_VERSION >= 20160101, "v1model is too old");

enum bit<8> Slot_t { FIRST = 0, SECOND = 1 }
header h_t { bit<8> f; }
struct varbits_t { varbit<8> a; varbit<16> b; }
struct headers_t { h_t[2] hs; }
struct meta_t { bit<16> hashed; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.hs.next); pkt.extract(hdr.hs.next); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action hash() {
        hash(m.hashed, HashAlgorithm.identity, 16w0, { hdr.hs[0].f }, 16w0xFFFF);
    }
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table t {
        key = { hdr.hs[1].f : exact; }
        actions = { fwd; }
        const entries = { { 8w7 } : fwd(3); }
        default_action = fwd(2);
    }
    apply {
        hash();
        Slot_t slot = (Slot_t)hdr.hs[0].f;
        hdr.hs[slot].f = (bit<8>)m.hashed + 1;
        if (version_checked) { t.apply(); }
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.hs); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
