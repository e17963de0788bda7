// Parser corner cases: select() with no keys, extract<T>(_) skipping a header, a sub-parser that
// applies its own sub-parser instance, and a parser constructor parameter read in a select.
// Corpus: issue1291-bmv2, issue774-4-bmv2, issue281, parser-unroll-t1-cond.
#include <core.p4>
#include <v1model.p4>

header skip_t { bit<16> x; }
header h_t { bit<8> a; bit<8> b; }
struct headers_t { h_t first; h_t second; }
struct meta_t { }

parser Leaf(packet_in pkt, out h_t h) {
    state start { pkt.extract(h); transition accept; }
}
parser Middle(packet_in pkt, out headers_t hdr) {
    Leaf() leaf;
    state start { leaf.apply(pkt, hdr.first); transition accept; }
}
parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm)(bool deeper) {
    Middle() middle;
    state start {
        pkt.extract<skip_t>(_);
        middle.apply(pkt, hdr);
        transition select() { default: next; }
    }
    state next {
        transition select(deeper) { true: more; false: accept; }
    }
    state more { pkt.extract(hdr.second); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 1; }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }

V1Switch(P(true), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
