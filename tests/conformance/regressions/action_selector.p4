// v1model's action_selector: an indirect table whose entries point to members or to groups of
// members; a group runs the member at position hash % size (members in handle order), the hash
// taken over the table's `selector` keys with the selector's algorithm (BMv2's indirect_ws tables).
// Also a selector constructed in the property with @name, @max_group_size, and a selector key on a
// table without a selector, which BMv2 ignores. Corpus: action_selector_shared-bmv2,
// action_selector_unused-bmv2, action_profile_max_group_size_annotation, issue1560-bmv2,
// fabric_20190420/fabric, omec/up4.
#include <core.p4>
#include <v1model.p4>

header ethernet_t { bit<48> dst; bit<48> src; bit<16> etherType; }
header flow_t { bit<16> id; bit<8> tag; }
struct headers_t { ethernet_t ethernet; flow_t flow; }
struct meta_t { bit<16> unused; }

parser P(packet_in pkt, out headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start {
        pkt.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) { 0x88b5: flow; default: accept; }
    }
    state flow { pkt.extract(hdr.flow); transition accept; }
}
control NoCheck(inout headers_t hdr, inout meta_t m) { apply { } }
control Ing(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) {
    action set_port(bit<9> port) { sm.egress_spec = port; }
    action tag(bit<8> t) { hdr.flow.tag = t; }
    action drop() { mark_to_drop(sm); }

    // Groups of up to 3 members; the identity hash of a 16-bit id is the id.
    @max_group_size(3)
    action_selector(HashAlgorithm.identity, 32w16, 32w16) ecmp_selector;

    table ecmp {
        key = {
            hdr.ethernet.etherType : exact;
            hdr.flow.id : selector;
        }
        actions = { set_port; drop; }
        default_action = drop();
        implementation = ecmp_selector;
    }
    // Shares the selector (and its members and groups): the same selector keys, as BMv2 requires.
    table ecmp_by_src {
        key = {
            hdr.ethernet.src : exact;
            hdr.flow.id : selector;
        }
        actions = { set_port; drop; }
        default_action = drop();
        implementation = ecmp_selector;
    }
    // A selector of its own, hashing with crc16; keyless, so only its default can point to a group.
    table tagger {
        key = { hdr.flow.id : selector; hdr.flow.tag : selector; }
        actions = { tag; NoAction; }
        @name("tag_selector") implementation = action_selector(HashAlgorithm.crc16, 32w4, 32w16);
    }
    // No selector: BMv2 ignores the selector key (dataplane warns).
    table plain {
        key = { hdr.ethernet.dst : exact; m.unused : selector; }
        actions = { set_port; NoAction; }
    }

    apply {
        if (!ecmp.apply().hit) {
            ecmp_by_src.apply();
        }
        if (hdr.flow.isValid()) {
            tagger.apply();
        }
        plain.apply();
    }
}
control Eg(inout headers_t hdr, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control Dep(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.ethernet); pkt.emit(hdr.flow); } }

V1Switch(P(), NoCheck(), Ing(), Eg(), NoCheck(), Dep()) main;
