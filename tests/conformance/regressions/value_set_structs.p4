// A value set whose elements are structs: in a select with several keys, one struct field per key
// (its members are matched against the keys' bits concatenated); with one key, a one-field struct.
// Corpus: pvs-struct-1-bmv2, pvs-struct-2-bmv2, pvs-struct-3-bmv2, pvs-nested-struct,
// v1model-p4runtime-most-types1, v1model-p4runtime-enumint-types1.
#include <core.p4>
#include <v1model.p4>

struct one_t { bit<16> f; }
struct inner_t { bit<3> g; }
struct two_t { bit<16> f; inner_t inner; }
header h_t { bit<16> a; bit<8> b; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    value_set<one_t>(4) singles;
    value_set<two_t>(4) pairs;
    state start {
        pkt.extract(hdr.h);
        transition select(hdr.h.a, hdr.h.b[7:5]) {
            pairs: paired;
            (0x0800, 1): single;
            default: accept;
        }
    }
    state paired { hdr.h.b = 0xAA; transition accept; }
    state single {
        transition select(hdr.h.a) {
            singles: one;
            default: accept;
        }
    }
    state one { hdr.h.b = 0x11; transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { sm.egress_spec = 1; } }
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
