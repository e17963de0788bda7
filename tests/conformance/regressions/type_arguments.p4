// Explicit type arguments wherever P4_16 allows them: the package (V1Switch<H, M>, which p4c's
// checksum1-bmv2, issue355-bmv2, slice-def-use1... use), an extern (register<bit<8>, bit<32>>), a
// generic function and packet_in's methods (extract<T>, lookahead<T>, and extract<T>(_) that skips a
// header: issue774-4-bmv2). The size argument of a varbit
// extract is evaluated before the call, so a lookahead in it sees the header's first byte
// (checksum-l4-bmv2 reads an IPv4 header's length that way); a size too large fails before any byte is
// taken, so the whole header stays in the payload (issue1025-bmv2).
#include <core.p4>
#define V1MODEL_VERSION 20200408
#include <v1model.p4>

header len_h { bit<4> words; bit<4> kind; }
header opt_h { bit<4> words; bit<4> kind; varbit<64> rest; }
header out_h { bit<8> copy; bit<8> twice; bit<8> rest_bytes; }
struct headers_t { opt_h opt; out_h res; }
struct meta_t { bit<8> unused; }

T first<T>(in T a, in T b) { return a; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start {
        // words counts bytes of the whole header, its first byte included.
        pkt.extract<opt_h>(hdr.opt, (bit<32>)(pkt.lookahead<len_h>().words - 1) * 8);
        pkt.extract<len_h>(_);      // skips one byte
        transition accept;
    }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    register<bit<8>, bit<32>>(4) seen;
    apply {
        seen.write(1, first<bit<8>>(8w7, 8w9));
        bit<8> x = seen.read(1);
        hdr.res.setValid();
        hdr.res.copy = x;
        hdr.res.twice = first<bit<8>>(x + x, 0);
        hdr.res.rest_bytes = hdr.opt.isValid() ? (bit<8>)hdr.opt.words - 1 : 8w0xFF;
        sm.egress_spec = 1;
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit<out_h>(hdr.res); pkt.emit(hdr.opt); } }

V1Switch<headers_t, meta_t>(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
