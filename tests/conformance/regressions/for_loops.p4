// P4_16 v1.2.5 for loops (forloop-bmv2, issue4739, loop-3-clause-tricky2): the three-clause form with
// break and continue, ranges `a .. b` (both ends included), header stacks, and return from inside a loop.
#include <core.p4>
#include <v1model.p4>

header h_t { bit<8> n; bit<8> sum; bit<8> odd; bit<8> first_big; bit<8> range_sum; bit<8> stack_sum; bit<8> wraps; }
header e_t { bit<8> v; }
struct headers_t { h_t h; e_t[3] e; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); pkt.extract(hdr.e[0]); pkt.extract(hdr.e[1]); pkt.extract(hdr.e[2]);
                  transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }

// The index of the first element larger than the limit, or 255: `return` leaves both loops.
bit<8> first_larger(in headers_t hdr, in bit<8> limit) {
    for (bit<8> round = 0; round < 2; round = round + 1) {
        for (bit<8> i in 0 .. 2) {
            if (hdr.e[i].v > limit) {
                return i;
            }
        }
    }
    return 255;
}

control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action sums() {
        hdr.h.sum = 0;
        hdr.h.odd = 0;
        for (bit<8> i = 1, bit<8> j = 0; i <= hdr.h.n; i = i + 1, j = j + 1) {
            hdr.h.sum = hdr.h.sum + i;
            if (i == 100) {
                break;
            }
            if (i & 1 == 0) {
                continue;      // the update still runs
            }
            hdr.h.odd = hdr.h.odd + 1;
        }
    }
    apply {
        sm.egress_spec = 2;
        sums();
        hdr.h.first_big = first_larger(hdr, 0x10);
        hdr.h.range_sum = 0;
        for (int<8> k in -2 .. 2) {
            hdr.h.range_sum = hdr.h.range_sum + (bit<8>)k * (bit<8>)k;     // 4 + 1 + 0 + 1 + 4
        }
        hdr.h.stack_sum = 0;
        for (e_t e in hdr.e) {
            hdr.h.stack_sum = hdr.h.stack_sum + e.v;
        }
        // A bit<3> counter wraps: 0, 3, 6, 1, 4, then 7 ends the loop.
        bit<3> w;
        hdr.h.wraps = 0;
        for (w = 0; w < 7; w = w + 3) {
            hdr.h.wraps = hdr.h.wraps + 1;
        }
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
