// Parsers applying parsers that are their own locals or constructor arguments (p4c's issue281: a
// sub-parser's sub-parsers were unknown while its states were planned).
#include <core.p4>
#include <v1model.p4>

header byte_h { bit<8> v; }
struct headers_t { byte_h first; byte_h second; byte_h third; }
struct meta_t { }

parser Byte(packet_in b, out byte_h h) {
    state start { b.extract(h); transition accept; }
}
parser Take(packet_in b, out byte_h h);
parser Two(packet_in b, inout headers_t hdr)(Take more) {
    Byte() one;
    state start {
        one.apply(b, hdr.first);
        transition select(hdr.first.v) {
            0: accept;
            default: second;
        }
    }
    state second {
        more.apply(b, hdr.second);
        transition accept;
    }
}
parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    Byte() b3;
    Two(Byte()) two;
    state start {
        two.apply(pkt, hdr);
        b3.apply(pkt, hdr.third);
        transition accept;
    }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply { sm.egress_spec = hdr.second.isValid() ? 9w2 : 9w1; }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
