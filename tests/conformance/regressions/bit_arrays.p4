// Arrays of bit<W> (P4_16 7.2.8; p4c's array1, array2): header fields laid out on the wire element 0 first,
// written `bit<8>[4] a;` or C-style `bit<4> a[2];`; arrays in metadata (also of structs) and in locals;
// indexed by constants and by run-time values. Indexed slices e[L+:W] (P4_16 8.6), read and written, with a
// constant or a run-time L; bits past the width of e read as 0 and are not written.
#include <core.p4>
#include <v1model.p4>

header data_t {
    bit<8>     idx;     // a run-time index (below 4 in the tests)
    bit<8>     lo;      // a run-time low bit
    bit<32>    f1;
    bit<8>[4]  arr;
    bit<4>     nib[2];
}
header out_t { bit<8> s0; bit<8> s1; bit<16> w; bit<8> p; }
struct pair_t { bit<8> a; bit<8> b; }
struct headers_t { data_t data; out_t res; }
struct meta_t { bit<16>[3] m; pair_t[2] pairs; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.data); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t meta) { apply { } }

control Ing(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 2;
        bit<8>[4] local;
        local[0] = hdr.data.f1[0+:8];       // the bytes of f1, least significant first
        local[1] = hdr.data.f1[8+:8];
        local[2] = hdr.data.f1[16+:8];
        local[3] = hdr.data.f1[24+:8];
        hdr.res.setValid();
        hdr.res.s0 = hdr.data.arr[hdr.data.idx];
        hdr.res.s1 = local[hdr.data.idx];
        hdr.res.w = hdr.data.f1[hdr.data.lo+:16];
        meta.m[hdr.data.idx & 1] = 16w0xABCD;
        meta.pairs[hdr.data.idx & 1].b = hdr.data.arr[3];
        hdr.res.p = meta.pairs[1].b + meta.m[1][15:8];
        hdr.data.arr[hdr.data.idx] = local[0];
        hdr.data.f1[28+:8] = 8w0x5A;        // only bits 31..28 change, to 0xA
        hdr.data.f1[hdr.data.lo+:4] = 4w0;
        hdr.data.nib[1] = hdr.data.nib[0];
        hdr.data.arr[0][7:4] = 4w0xF;
    }
}
control Eg(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.data); pkt.emit(hdr.res); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
