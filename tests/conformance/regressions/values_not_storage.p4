// Expressions that are values, not storage: a slice of a slice of a cast, isValid() and members of
// headers and structs returned by functions, and a constant struct compared and read.
// Corpus: issue1713-bmv2, strength6, issue3001-1, issue1210.
#include <core.p4>
#include <v1model.p4>

header h_t { bit<16> a; bit<8> c; bit<8> d; bit<8> e; bit<8> f; }
struct port_t { bit<8> v; }
struct pair_t { h_t h; port_t p; }
struct headers_t { h_t h; }
struct meta_t { port_t port; }

const port_t CPU = { 8w0xC0 };

h_t valid_header() { h_t x; x.setValid(); x.c = 5; return x; }
pair_t pair() { pair_t r; r.h.setInvalid(); r.p = { 3 }; return r; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.h); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        hdr.h.c = (bit<8>)((int<32>)(int<16>)hdr.h.a)[14:2][10:3];
        if (valid_header().isValid() && !pair().h.isValid()) {
            hdr.h.d = valid_header().c + pair().p.v;
        }
        m.port.v = hdr.h.f;
        if (m.port == CPU) {
            hdr.h.e = CPU.v;
        }
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.h); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
