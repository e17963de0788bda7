// v1model's action_profile: indirect tables whose entries point to members (an action with its
// arguments) that the control plane creates in the profile, as BMv2's indirect tables do; a profile
// declared once and shared by two tables, and one constructed in the table's `implementation`
// property (named by the property's @name). A miss runs the default action unless the control plane
// made a member the default. Corpus: action_profile-bmv2, issue297-bmv2,
// action_profile_sum_of_members_annotation.
#include <core.p4>
#include <v1model.p4>

header ethernet_t { bit<48> dst; bit<48> src; bit<16> etherType; }
struct headers_t { ethernet_t ethernet; }
struct meta_t { }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.ethernet); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action set_port(bit<9> port) { sm.egress_spec = port; }
    action set_type(bit<16> t) { hdr.ethernet.etherType = t; }
    action drop() { mark_to_drop(sm); }

    action_profile(32w4) shared;

    table by_dst {
        key = { hdr.ethernet.dst : exact; }
        actions = { set_port; set_type; drop; }
        default_action = drop();
        implementation = shared;
    }
    table by_src {
        key = { hdr.ethernet.src : ternary; }
        actions = { set_port; set_type; drop; }
        default_action = drop();
        implementation = shared;
    }
    table by_type {
        key = { hdr.ethernet.etherType : exact; }
        actions = { set_port; NoAction; }
        @name("type_profile") implementation = action_profile(32w2);
    }

    apply {
        by_dst.apply();
        by_src.apply();
        by_type.apply();
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.ethernet); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
