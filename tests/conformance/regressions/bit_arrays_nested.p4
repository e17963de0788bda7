// Arrays beyond bit<W> fields (P4_16 7.2.8): header fields that are arrays of bool, enums, structs and arrays
// (all laid out in the header's bits); arrays of arrays in metadata and locals indexed by two run-time
// values; arrays as function parameters, initialised from lists, compared, iterated, and constant arrays.
// A run-time index past the end picks the last element, as for header stacks.
#include <core.p4>
#include <v1model.p4>

enum bit<8> E { A = 1, B = 2 }
struct S { bit<4> x; bit<4> y; }
header h_t { bit<8> i; bool[8] flags; E[2] es; S[2] ss; bit<4>[2][2] grid; bit<8>[2] arr; }
header r_t { bit<8> same; bit<8> k; }
struct headers_t { h_t h; r_t r; }
struct meta_t { bit<8>[2][2] g; bit<8>[2] copy; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t meta) { apply { } }

bit<8> sum(in bit<8>[2] a) { return a[0] + a[1]; }

control Ing(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    const bit<8>[2] K = {7, 8};
    apply {
        sm.egress_spec = 1;
        hdr.r.setValid();
        hdr.r.k = K[hdr.h.i & 1];
        bit<8>[2] x = {0x9A, 0xBC};
        meta.copy = hdr.h.arr;
        hdr.r.same = x == meta.copy ? 8w1 : 8w0;
        hdr.h.flags[hdr.h.i & 7] = !hdr.h.flags[hdr.h.i & 7];
        hdr.h.ss[hdr.h.i & 1].y = hdr.h.ss[0].x;
        hdr.h.grid[hdr.h.i & 1][hdr.h.i >> 7] = 4w3;
        meta.g[hdr.h.i & 1][hdr.h.i >> 7] = hdr.h.grid[1][1] ++ 4w0;
        bit<8>[2][2] lg;
        lg[hdr.h.i & 1][hdr.h.i >> 7] = 1;
        hdr.h.arr[1] = lg[hdr.h.i & 1][hdr.h.i >> 7] + meta.g[hdr.h.i & 1][hdr.h.i >> 7];
        if (hdr.h.es[hdr.h.i & 1] == E.B) {
            hdr.h.es[0] = E.A;
        }
        for (bit<8> v in hdr.h.arr) {
            hdr.h.i = hdr.h.i + v;
        }
        hdr.h.arr = meta.copy;
        hdr.h.arr[hdr.h.i] = hdr.h.arr[hdr.h.i][3+:8] + (sum(meta.copy) & 0);
    }
}
control Eg(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); pkt.emit(hdr.r); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
