// Instances as arguments (p4c's issue1566-bmv2, issue496, issue1958, issue1097-bmv2): a control fills a
// constructor parameter whose type is a control type it matches; an extern instance is passed to a
// constructor or an apply parameter (register<bit<8>, bit<32>> written twice is one type); an extern
// declared at program scope is used from a control; nameless instances and constants are constructor
// arguments too.
#include <core.p4>
#define V1MODEL_VERSION 20200408
#include <v1model.p4>

header h_t { bit<8> a; bit<8> b; bit<8> c; bit<8> d; bit<8> e; }
struct headers_t { h_t h; }
struct meta_t { }

control Step(inout bit<8> x);

register<bit<8>, bit<32>>(1) calls;     // program scope: one register for the whole program

control Add(inout bit<8> x)(bit<8> k) {
    apply {
        x = x + k;
        bit<8> n = calls.read(0);
        calls.write(0, n + 1);
    }
}
control Twice(inout bit<8> x)(Step s) {
    apply { s.apply(x); s.apply(x); }
}
control Keep(inout bit<8> x, register<bit<8>, bit<32>> r) {
    apply { r.write(0, x); }
}
control Recall(out bit<8> x)(register<bit<8>, bit<32>> r) {
    apply { x = r.read(0); }
}

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    register<bit<8>, bit<32>>(1) last;
    Add(1) one;
    Twice(one) two;
    Twice(Add(10)) twenty;
    Keep() keep;
    Recall(last) recall;
    Recall(register<bit<8>, bit<32>>(1)) fresh;     // a nameless register of its own, never written
    apply {
        calls.write(0, 0);
        two.apply(hdr.h.a);          // + 2
        twenty.apply(hdr.h.b);       // + 20
        keep.apply(hdr.h.a, last);
        recall.apply(hdr.h.c);       // the a just kept
        hdr.h.d = calls.read(0);     // Add ran 4 times
        fresh.apply(hdr.h.e);
        sm.egress_spec = 1;
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
