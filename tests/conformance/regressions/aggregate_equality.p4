// `==` on headers, header stacks and varbits as P4_16 defines it (p4c's equality-bmv2): two invalid
// headers are equal whatever bits they held; stacks compare their elements, not their nextIndex; two
// varbits are equal when their lengths and their bits are.
#include <core.p4>
#include <v1model.p4>

header v_h { bit<8> s; varbit<16> v; }
header r_h { bit<8> flags; }
struct headers_t { v_h a; v_h b; v_h[2] st; r_h res; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start {
        // The first byte of each header says how many varbit bytes follow it.
        pkt.extract(hdr.a, (bit<32>)pkt.lookahead<bit<8>>() * 8);
        pkt.extract(hdr.b, (bit<32>)pkt.lookahead<bit<8>>() * 8);
        transition accept;
    }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    apply {
        hdr.res.setValid();
        hdr.res.flags = 0;
        if (hdr.a.v == hdr.b.v) { hdr.res.flags = hdr.res.flags | 1; }
        if (hdr.a == hdr.b) { hdr.res.flags = hdr.res.flags | 2; }
        v_h[2] tmp;
        tmp[0] = hdr.a;
        tmp[1] = hdr.b;
        hdr.st.push_front(2);       // nextIndex 2, both elements invalid
        hdr.st[0] = hdr.a;
        hdr.st[1] = hdr.b;
        if (tmp == hdr.st) { hdr.res.flags = hdr.res.flags | 4; }
        v_h x = hdr.a;
        v_h y = hdr.b;
        x.s = 5;                    // x and y hold different bits, but are invalid and so equal
        x.setInvalid();
        y.setInvalid();
        if (x == y) { hdr.res.flags = hdr.res.flags | 8; }
        sm.egress_spec = 1;
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.res); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
