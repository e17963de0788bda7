// p4c's test programs guard their own skeleton with #ifdef _CORE_P4_ and check V1MODEL_VERSION:
// core.p4 and v1model.p4 must define the same guards as p4c's (arith-bmv2, enum-bmv2, key-bmv2...).
#include <core.p4>
#ifndef _CORE_P4_
#error "core.p4 must define _CORE_P4_"
#endif
#include <v1model.p4>
#ifndef _V1_MODEL_P4_
#error "v1model.p4 must define _V1_MODEL_P4_"
#endif
#if V1MODEL_VERSION < 20180101
#error "V1MODEL_VERSION is missing or too old"
#endif

header h_t { bit<8> f; }
struct headers_t { h_t h; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply { sm.egress_spec = 2; hdr.h.f = hdr.h.f + 1; }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
