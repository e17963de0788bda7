// Constructor parameters of controls take each instance's arguments, at the top level (V1Switch's)
// and in local instances. Corpus: parser-unroll-t1-cond (a parser's; see parser_corner_cases).
#include <core.p4>
#include <v1model.p4>

header h_t { bit<8> a; bit<8> b; bit<8> c; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }

control Add(inout bit<8> x)(bit<8> n) {
    apply { x = x + n; }
}

control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm)(bit<9> port) {
    Add(3) add3;
    Add(6) add6;
    Add(10) add10;
    apply {
        sm.egress_spec = port;
        add3.apply(hdr.h.a);
        add6.apply(hdr.h.b);
        add10.apply(hdr.h.c);
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(2), Eg(), NoCheck(), Dep()) main;
