// Generic headers and structs with explicit type arguments (p4c's issue4835-generic-struct): each list
// of type arguments makes one type, whatever the declaration it is written in.
#include <core.p4>
#include <v1model.p4>

header pair_h<T> { T first; T second; }
struct holder_t<T, U> { pair_h<T> pair; U extra; }
struct meta_t { holder_t<bit<4>, bool> scratch; }

parser P(packet_in pkt, out holder_t<bit<8>, bit<16>> hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.pair); transition accept; }
}
control NoCheck(inout holder_t<bit<8>, bit<16>> hdr, inout meta_t m) { apply { } }
control Ing(inout holder_t<bit<8>, bit<16>> hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        pair_h<bit<8>> swapped = { hdr.pair.second, hdr.pair.first };
        hdr.pair = swapped;
        m.scratch.extra = hdr.pair.first == 2;
        sm.egress_spec = m.scratch.extra ? 9w2 : 9w1;
    }
}
control Eg(inout holder_t<bit<8>, bit<16>> hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in holder_t<bit<8>, bit<16>> hdr) { apply { pkt.emit(hdr.pair); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
