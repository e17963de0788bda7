/* -*- P4_16 -*- */
/*
 * control_features.p4 -- a tour of control-block constructs around an
 * IPv4 router with an ACL and DSCP marking.
 *
 * Constructs shown
 *   Tables with exact, lpm, ternary, range and optional keys; a keyless
 *   table; const default_action; const entries (matched in program order);
 *   mutable `entries` with explicit `priority = N:` (largest priority
 *   wins, listed out of priority order on purpose); @name and @defaultonly
 *   annotations; switch (t.apply().action_run) with an action label and
 *   default; if (t.apply().miss); exit (in an action and in the apply
 *   block); return (in an action and in apply blocks); a top-level function
 *   with local variables; an action with directional (inout / in)
 *   parameters called directly; a control declared separately, instantiated
 *   as a local (acl) and applied; direct_counter and direct_meter attached
 *   with the table properties `counters` and `meters`.
 *
 * What it does
 *   Non-IPv4 frames are dropped (exit). The keyless table router_config
 *   supplies the router MAC 00:00:00:00:AA:00 through its const default
 *   action. The lpm table route gives a next-hop id; a miss runs the
 *   default-only action drop_and_exit. nexthop maps the id to a MAC and a
 *   port (a miss drops). The nested control Acl then matches source
 *   address (ternary), L4 destination port (range) and protocol (optional)
 *   and drops denied packets. dscp_classify (ternary, const entries) sets
 *   DSCP = diffserv[7:2]. flow_stats counts per source address (direct
 *   counter) and reads a direct meter; RED packets are dropped (an
 *   unconfigured meter is always GREEN). Finally the TTL is decremented
 *   (by the directional action decrement) and the header checksum is
 *   patched incrementally (RFC 1624) by the function csum_replace16 for the
 *   two 16-bit words that may have changed (version/ihl/diffserv and
 *   ttl/protocol). ECN bits are preserved. The L4 destination port is 0
 *   for protocols other than TCP and UDP.
 *
 * Tables and entries
 *   MyIngress.router_config  keyless
 *     const default_action = set_router_mac(00:00:00:00:AA:00)
 *   MyIngress.route (declared as ipv4_lpm, renamed with @name)
 *     key: hdr.ipv4.dstAddr (lpm)
 *     const default_action = drop_and_exit()      (@defaultonly)
 *     control-plane entries:
 *       10.0.1.0/24 -> set_nhop(nhop_id = 1)
 *       10.0.2.0/24 -> set_nhop(nhop_id = 2)
 *       10.0.3.0/24 -> set_nhop(nhop_id = 3)   (no next hop 3: dropped)
 *   MyIngress.nexthop  key: meta.nhop_id (exact)   default: NoAction()
 *     control-plane entries:
 *       1 -> set_dmac_port(dmac = 00:00:00:00:01:01, port = 1)
 *       2 -> set_dmac_port(dmac = 00:00:00:00:02:02, port = 2)
 *   MyIngress.acl.acl_rules (table acl of control Acl, instance acl)
 *     key: hdr.ipv4.srcAddr (ternary), meta.l4_dport (range),
 *          hdr.ipv4.protocol (optional)
 *     default: permit(); entries in the program (largest priority wins):
 *       priority 10: 10.0.0.0 &&& 255.0.0.0, 0 .. 1023,    _  -> deny()
 *       priority 20: 10.0.0.1 &&& 255.255.255.255, _,      17 -> permit()
 *       priority 5 : _,                     8000 .. 8999,   6 -> deny()
 *   MyIngress.dscp_classify  key: hdr.ipv4.protocol (ternary),
 *                                 meta.l4_dport (ternary)
 *     const entries, first match wins:
 *       (17, 5060) -> set_dscp(46)
 *       (17, _)    -> set_dscp(10)
 *       (_, _)     -> set_dscp(0)
 *   MyIngress.flow_stats  key: hdr.ipv4.srcAddr (exact)  default: NoAction()
 *     counters = flow_counter (packets and bytes), meters = flow_meter
 *     control-plane entries:
 *       10.0.0.1 -> meter_flow()
 *       10.0.0.2 -> meter_flow()
 *     (no meter rates configured: every packet is GREEN)
 *
 * Example packets (in on port 0; Ethernet dst 00:00:00:00:AA:00
 * src 00:00:00:00:00:01 type 0x0800; IPv4 ihl 5, diffserv 0, id 1,
 * flags 0, frag 0, TTL 64, correct checksum; UDP 1234 -> dport length 8
 * checksum 0, or TCP 1234 -> dport seq 0 ack 0 dataOffset 5 flags 0x02
 * window 0x2000 checksum 0. Forwarded packets leave with Ethernet
 * src 00:00:00:00:AA:00, dst = next-hop MAC, TTL 63.)
 *
 *   1. UDP 10.0.0.1 -> 10.0.1.1 dport 5060 (checksum 0x65CF). ACL: only
 *      the priority-20 entry matches -> permit. DSCP 46 (diffserv 0xB8).
 *      Out of port 1, checksum 0x6617.
 *        in : 00000000AA0000000000000108004500001C00010000401165CF
 *             0A0000010A00010104D213C400080000
 *        out: 00000000010100000000AA00080045B8001C000100003F116617
 *             0A0000010A00010104D213C400080000
 *   2. UDP 10.0.0.1 -> 10.0.2.2 dport 53 (checksum 0x64CE). ACL: the
 *      priority-10 deny and the priority-20 permit both match; 20 wins
 *      -> permit (in program order the deny would come first). DSCP 10
 *      (diffserv 0x28). Out of port 2, checksum 0x65A6.
 *        in : 00000000AA0000000000000108004500001C00010000401164CE
 *             0A0000010A00020204D2003500080000
 *        out: 00000000020200000000AA0008004528001C000100003F1165A6
 *             0A0000010A00020204D2003500080000
 *   3. UDP 10.0.0.2 -> 10.0.2.2 dport 53 (checksum 0x64CD): only the
 *      priority-10 deny matches -> dropped.
 *   4. TCP 10.0.0.2 -> 10.0.2.2 dport 2000 (totalLen 40, checksum
 *      0x64CC): no ACL entry matches -> default permit; DSCP 0. Out of
 *      port 2, checksum 0x65CC.
 *        in : 00000000AA0000000000000108004500002800010000400664CC
 *             0A0000020A00020204D207D000000000000000005002200000000000
 *        out: 00000000020200000000AA00080045000028000100003F0665CC
 *             0A0000020A00020204D207D000000000000000005002200000000000
 *   5. As 4 but dport 8080: the priority-5 deny matches -> dropped.
 *   6. UDP to 10.9.9.9: route miss -> drop_and_exit -> dropped.
 *   7. UDP to 10.0.3.3: next hop 3 unknown (nexthop miss) -> dropped.
 *   8. Any non-IPv4 frame: dropped.
 *   After packets 1-8 the direct counter shows 2 packets for the 10.0.0.1
 *   entry (1, 2) and 1 packet for 10.0.0.2 (4); denied and unrouted
 *   packets never reach flow_stats.
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_IPV4 = 0x0800;
const bit<8>  PROTO_TCP = 6;
const bit<8>  PROTO_UDP = 17;

// ---------------------------------------------------------------- Headers

typedef bit<48> macAddr_t;
typedef bit<32> ip4Addr_t;

header ethernet_t {
    macAddr_t dstAddr;
    macAddr_t srcAddr;
    bit<16>   etherType;
}

header ipv4_t {
    bit<4>    version;
    bit<4>    ihl;
    bit<8>    diffserv;
    bit<16>   totalLen;
    bit<16>   identification;
    bit<3>    flags;
    bit<13>   fragOffset;
    bit<8>    ttl;
    bit<8>    protocol;
    bit<16>   hdrChecksum;
    ip4Addr_t srcAddr;
    ip4Addr_t dstAddr;
}

header tcp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<32> seqNo;
    bit<32> ackNo;
    bit<4>  dataOffset;
    bit<4>  res;
    bit<8>  flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgentPtr;
}

header udp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<16> length_;
    bit<16> checksum;
}

struct metadata_t {
    macAddr_t router_mac;
    bit<16>   nhop_id;
    bit<16>   l4_dport;
    bit<2>    color;
    bool      acl_deny;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    tcp_t      tcp;
    udp_t      udp;
}

// ---------------------------------------------------------------- Functions

// RFC 1624, eqn. 3: the new one's-complement checksum after one 16-bit
// word of the covered data changed from old_word to new_word.
bit<16> csum_replace16(in bit<16> csum, in bit<16> old_word, in bit<16> new_word) {
    bit<32> sum = (bit<32>)(~csum) + (bit<32>)(~old_word) + (bit<32>)new_word;
    sum = (sum & 32w0xFFFF) + (sum >> 16);
    sum = (sum & 32w0xFFFF) + (sum >> 16);
    return ~sum[15:0];
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers_t hdr,
                inout metadata_t meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        meta.l4_dport = 0;
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            TYPE_IPV4: parse_ipv4;
            default:   accept;
        }
    }

    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        transition select(hdr.ipv4.protocol) {
            PROTO_TCP: parse_tcp;
            PROTO_UDP: parse_udp;
            default:   accept;
        }
    }

    state parse_tcp {
        packet.extract(hdr.tcp);
        meta.l4_dport = hdr.tcp.dstPort;
        transition accept;
    }

    state parse_udp {
        packet.extract(hdr.udp);
        meta.l4_dport = hdr.udp.dstPort;
        transition accept;
    }
}

// ---------------------------------------------------------------- Checksum verification

control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

// ---------------------------------------------------------------- Nested control: ACL

control Acl(in headers_t hdr,
            inout metadata_t meta,
            inout standard_metadata_t standard_metadata) {

    action permit() {
        meta.acl_deny = false;
    }

    action deny() {
        meta.acl_deny = true;
    }

    @name("acl_rules")
    table acl {
        key = {
            hdr.ipv4.srcAddr:  ternary;
            meta.l4_dport:     range;
            hdr.ipv4.protocol: optional;
        }
        actions = {
            permit;
            deny;
        }
        default_action = permit();
        largest_priority_wins = true;
        // Initial entries the control plane may change; the priorities,
        // not the order, decide between overlapping entries.
        @noWarn("entries_out_of_priority_order")
        entries = {
            priority = 10: (32w0x0A000000 &&& 32w0xFF000000, 16w0 .. 16w1023, _)
                           : deny();
            priority = 20: (32w0x0A000001 &&& 32w0xFFFFFFFF, _, PROTO_UDP)
                           : permit();
            priority = 5:  (_, 16w8000 .. 16w8999, PROTO_TCP)
                           : deny();
        }
    }

    apply {
        meta.acl_deny = false;
        acl.apply();
        if (meta.acl_deny) {
            mark_to_drop(standard_metadata);
        }
    }
}

// ---------------------------------------------------------------- Ingress

control MyIngress(inout headers_t hdr,
                  inout metadata_t meta,
                  inout standard_metadata_t standard_metadata) {

    direct_counter(CounterType.packets_and_bytes) flow_counter;
    direct_meter<bit<2>>(MeterType.bytes) flow_meter;

    Acl() acl;

    action drop() {
        mark_to_drop(standard_metadata);
    }

    // Used only as a default action: nothing more to do for this packet.
    action drop_and_exit() {
        mark_to_drop(standard_metadata);
        exit;
    }

    // Directional parameters: bound by the caller, never by a table.
    action decrement(inout bit<8> value, in bit<8> amount) {
        if (value < amount) {
            value = 0;
            return;
        }
        value = value - amount;
    }

    action set_router_mac(macAddr_t mac) {
        meta.router_mac = mac;
    }

    // No key: always runs its default action.
    table router_config {
        actions = {
            set_router_mac;
        }
        const default_action = set_router_mac(48w0x00_00_00_00_AA_00);
    }

    action set_nhop(bit<16> nhop_id) {
        meta.nhop_id = nhop_id;
    }

    @name("route")
    table ipv4_lpm {
        key = {
            hdr.ipv4.dstAddr: lpm;
        }
        actions = {
            set_nhop;
            @defaultonly drop_and_exit;
        }
        size = 1024;
        const default_action = drop_and_exit();
    }

    action set_dmac_port(macAddr_t dmac, bit<9> port) {
        hdr.ethernet.srcAddr = meta.router_mac;
        hdr.ethernet.dstAddr = dmac;
        standard_metadata.egress_spec = port;
    }

    table nexthop {
        key = {
            meta.nhop_id: exact;
        }
        actions = {
            set_dmac_port;
            NoAction;
        }
        size = 64;
        default_action = NoAction();
    }

    action set_dscp(bit<6> dscp) {
        hdr.ipv4.diffserv[7:2] = dscp;
    }

    table dscp_classify {
        key = {
            hdr.ipv4.protocol: ternary;
            meta.l4_dport:     ternary;
        }
        actions = {
            set_dscp;
            NoAction;
        }
        default_action = NoAction();
        // Overlapping entries: the first one listed wins.
        const entries = {
            (PROTO_UDP, 16w5060): set_dscp(46);
            (PROTO_UDP, _):       set_dscp(10);
            (_, _):               set_dscp(0);
        }
    }

    action meter_flow() {
        flow_meter.read(meta.color);
    }

    table flow_stats {
        key = {
            hdr.ipv4.srcAddr: exact;
        }
        actions = {
            meter_flow;
            NoAction;
        }
        size = 1024;
        default_action = NoAction();
        counters = flow_counter;
        meters = flow_meter;
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            drop();
            exit;
        }

        // The two header words the pipeline may change, as they arrived.
        bit<16> old_word0 = hdr.ipv4.version ++ hdr.ipv4.ihl ++ hdr.ipv4.diffserv;
        bit<16> old_word4 = hdr.ipv4.ttl ++ hdr.ipv4.protocol;

        router_config.apply();

        switch (ipv4_lpm.apply().action_run) {
            set_nhop: {
                if (nexthop.apply().miss) {
                    drop();
                    return;
                }
            }
            default: {
                // drop_and_exit has already ended the control.
                return;
            }
        }

        acl.apply(hdr, meta, standard_metadata);
        if (meta.acl_deny) {
            return;
        }

        dscp_classify.apply();

        meta.color = V1MODEL_METER_COLOR_GREEN;
        flow_stats.apply();
        if (meta.color == V1MODEL_METER_COLOR_RED) {
            drop();
            return;
        }

        decrement(hdr.ipv4.ttl, 1);

        bit<16> new_word0 = hdr.ipv4.version ++ hdr.ipv4.ihl ++ hdr.ipv4.diffserv;
        bit<16> new_word4 = hdr.ipv4.ttl ++ hdr.ipv4.protocol;
        hdr.ipv4.hdrChecksum = csum_replace16(
            csum_replace16(hdr.ipv4.hdrChecksum, old_word0, new_word0),
            old_word4, new_word4);
    }
}

// ---------------------------------------------------------------- Egress

control MyEgress(inout headers_t hdr,
                 inout metadata_t meta,
                 inout standard_metadata_t standard_metadata) {
    apply { }
}

// ---------------------------------------------------------------- Checksum update

control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    // Ingress already patched the checksum incrementally.
    apply { }
}

// ---------------------------------------------------------------- Deparser

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.ipv4);
        packet.emit(hdr.tcp);
        packet.emit(hdr.udp);
    }
}

// ---------------------------------------------------------------- Package

V1Switch(
    MyParser(),
    MyVerifyChecksum(),
    MyIngress(),
    MyEgress(),
    MyComputeChecksum(),
    MyDeparser()
) main;
