// Function-like macros, as cpp expands them for P4 (ipv6-switch-ml-bmv2, v1model-special-ops-bmv2 test
// the packet's instance type with `#define IS_REPLICATED(std_meta) (std_meta.instance_type == ...)`).
#include <core.p4>
#include <v1model.p4>

#define IS_NORMAL(std_meta) (std_meta.instance_type == 0)
#define ADD(a, b) ((a) + (b))
#define TWICE(x) ADD(x, x)
#define FIELD(h, n) h.f ## n
#define SET(dst, ...) dst = ADD(__VA_ARGS__)
#define NEXT_OF(x) (x + 1)
#define NEXT NEXT_OF

header h_t { bit<8> f1; bit<8> f2; bit<8> f3; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        if (IS_NORMAL(sm)) {
            sm.egress_spec = 2;
        }
        // Arguments span lines; commas inside parentheses belong to the argument.
        FIELD(hdr.h, 1) = TWICE(
            FIELD(hdr.h, 1));
        SET(FIELD(hdr.h, 2), FIELD(hdr.h, 2), (bit<8>)ADD(1, 2));
        // A macro's name followed by '(' only after its expansion: NEXT(x) is NEXT_OF(x).
        hdr.h.f3 = NEXT(hdr.h.f3);
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
