// largest_priority_wins = false (P4_16 14.2.1.4): in such a table the entry with the smallest priority
// wins, for entries given in the program (numbered so that the earlier one wins) and for entries the
// control plane adds. Found by reading the checker: the priority was computed, the lookup ignored it.
#include <core.p4>
#include <v1model.p4>

header h_t { bit<8> f; bit<8> r; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action set(bit<8> v) { hdr.h.r = v; }
    table smallest {
        key = { hdr.h.f: ternary; }
        actions = { set; NoAction; }
        largest_priority_wins = false;
        entries = {
            8w0x11 &&& 8w0xFF : set(1);     // priority 1: wins over the next one
            8w0x10 &&& 8w0xF0 : set(2);     // priority 2
        }
        default_action = NoAction();
    }
    table largest {
        key = { hdr.h.f: ternary; }
        actions = { set; NoAction; }
        default_action = NoAction();
    }
    apply {
        sm.egress_spec = 1;
        if (hdr.h.f[7:4] == 1) { smallest.apply(); } else { largest.apply(); }
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
