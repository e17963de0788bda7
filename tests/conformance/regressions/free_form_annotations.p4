// Annotation bodies are token sequences, any characters but an unterminated string (free-form-annotation),
// and strings may span lines (pins_fabric, pins_middleblock, pins_wbb: @entry_restriction("...") bodies).
#include <core.p4>
#include <v1model.p4>

@description(
    - It's a header of one byte; 100% of it is f.
    `f` is incremented by the ingress.
)
header h_t { bit<8> f; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action forward() { sm.egress_spec = 2; hdr.h.f = hdr.h.f + 1; }
    @entry_restriction("
        // Only one entry: '' is not a key.
        hdr.h.f != 0;
    ")
    table t { key = { hdr.h.f : exact; } actions = { forward; } default_action = forward(); }
    apply { t.apply(); }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
