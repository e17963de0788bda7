// A list expression passed as a header `in` argument builds a valid header in a temporary whose
// fields are all set. Corpus: gauntlet_list_as_in_argument-bmv2.
#include <core.p4>
#include <v1model.p4>

header h_t { bit<8> a; bit<4> b; bit<4> c; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }

control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action take(in h_t v) {
        hdr.h.a = v.a;
        hdr.h.c = v.c;
        if (v.isValid()) { hdr.h.b = 1; }
    }
    apply {
        sm.egress_spec = 1;
        take({ 8w7, 4w2, 4w9 });
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
