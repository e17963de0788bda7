// extract(h, size): the size is evaluated before anything is extracted (here it looks ahead at the header's
// own length byte), and a failed extract (too long for the varbit, or past the packet's end) consumes no byte,
// so the deparser emits the unparsed bytes unchanged (issue1025-bmv2). extract(stack.next.member) on a stack
// of header unions fills the member, invalidates its siblings and advances the stack (issue561-6-bmv2).
#include <core.p4>
#include <v1model.p4>

header base_t { bit<8> t; }
header opt_h { bit<8> len; varbit<16> data; }
header one_h { bit<8> v; }
header two_h { bit<16> v; }
header_union u_t { one_h byte; two_h short; }
struct headers_t { base_t base; opt_h opt; u_t[2] u; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.base);
        transition select(hdr.base.t) { 0: options; 1: unions; default: accept; }
    }
    state options {
        pkt.extract(hdr.opt, (bit<32>)(8 * (bit<9>)pkt.lookahead<bit<8>>()));
        transition accept;
    }
    state unions {
        pkt.extract(hdr.u.next.short);
        pkt.extract(hdr.u.next.byte);
        transition accept;
    }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (hdr.opt.isValid()) { hdr.base.t = hdr.base.t | 0x10; }
        if (hdr.u[0].short.isValid()) { hdr.base.t = hdr.base.t | 0x20; }
        if (hdr.u[1].byte.isValid()) { hdr.base.t = hdr.base.t | 0x40; }
        if (hdr.u[0].byte.isValid()) { hdr.base.t = hdr.base.t | 0x80; }
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.base); pkt.emit(hdr.opt); pkt.emit(hdr.u); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
