// p4c's @priority(N) on const entries, as BMv2 applies it: the smallest number wins, an entry without the
// annotation is numbered by its position (table-entries-priority-bmv2). And a serializable enum key matched
// with a mask: the mask is a pattern of the enum's underlying bits (table-entries-ser-enum-bmv2).
#include <core.p4>
#include <v1model.p4>

enum bit<16> Kind { LOW = 0x0001, HIGH = 0x1181 }
header h_t { bit<16> t; Kind k; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action fwd(bit<9> port) { sm.egress_spec = port; }
    table by_priority {
        key = { hdr.h.t : ternary; }
        actions = { fwd; }
        default_action = fwd(0);
        const entries = {
            0x1111 &&& 0x000F : fwd(1) @priority(3);
            0x1181            : fwd(2);
            0x1181 &&& 0xF00F : fwd(3) @priority(1);
        }
    }
    table by_kind {
        key = { hdr.h.k : ternary; }
        actions = { fwd; NoAction; }
        default_action = NoAction;
        const entries = {
            Kind.HIGH &&& 0xFF00 : fwd(4);
        }
    }
    apply {
        by_priority.apply();
        by_kind.apply();
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
