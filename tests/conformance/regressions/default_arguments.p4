// Parameters with default values: an action's, and a control's passed a struct initializer,
// are typed from the parameter and used when the argument is left out.
// Corpus: issue1937-1/2/3-bmv2, issue2303, dash/dash-pipeline-v1model-bmv2.
#include <core.p4>
#include <v1model.p4>

enum bit<8> kind_t { A = 0x11, B = 0x22 }
header h_t { bit<8> a; bit<8> b; bit<8> c; bit<8> d; }
struct headers_t { h_t h; }
struct meta_t { bit<8> f0; bit<8> f1; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }

action quarter(out bit<8> x, in bit<8> y = 20) { x = y >> 2; }
action tag(out bit<8> x, in kind_t k = kind_t.B) { x = (bit<8>)k; }

control Sub(inout h_t h, in meta_t meta = { 7, 9 }) {
    apply { h.d = meta.f0 + meta.f1; }
}

control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    Sub() sub;
    apply {
        sm.egress_spec = 1;
        quarter(hdr.h.a, hdr.h.a);
        quarter(hdr.h.b);
        tag(hdr.h.c);
        sub.apply(hdr.h);
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
