/* -*- P4_16 -*- */
/*
 * flow_controller.p4 -- a flow switch driven by a controller through
 * packet-in / packet-out headers.
 *
 * What it does
 *   The CPU (controller) is reached through port 510 (CPU_PORT).
 *   - Frames from the CPU port start with a packet_out header
 *     (@controller_header("packet_out")):
 *         opcode(8, enum ControllerOpcode_t) pad(7) egress_port(9)
 *     The header is removed, then ingress switches on the opcode:
 *         SEND_TO_PORT (1): send the rest of the frame, untouched, out of
 *                           egress_port;
 *         PIPELINE (2):     process the rest like a frame received from the
 *                           network (below);
 *         anything else:    drop.
 *   - IPv4 packets are looked up in flow_table by exact 5-tuple (the L4
 *     ports are 0 for protocols other than TCP/UDP). A hit on forward()
 *     sends the packet to the given port, decrements the TTL with a
 *     saturating |-| and, when the entry asks for it, rewrites the DSCP
 *     (diffserv[7:2], a slice assignment; chosen with ?:). The Ethernet
 *     header is not changed.
 *   - Packets of unknown flows (table miss) and packets arriving with
 *     TTL <= 1 are punted: cloned to the CPU clone session with
 *     clone_preserving_field_list, so that the punt reason (enum
 *     PuntReason_t) and the ingress port travel with the clone, and the
 *     original is dropped. In egress the clone gets a packet_in header
 *     (@controller_header("packet_in")):
 *         reason(8, enum PuntReason_t) pad(7) ingress_port(9)
 *     in front of the packet exactly as it was received.
 *   - Non-IPv4 frames from the network are dropped.
 *   The IPv4 checksum is recomputed.
 *
 * Tables and other control-plane state
 *   MyIngress.flow_table  key: hdr.ipv4.srcAddr, hdr.ipv4.dstAddr,
 *                              hdr.ipv4.protocol, meta.l4_sport,
 *                              meta.l4_dport (all exact)
 *                         default: NoAction() (a miss punts the packet)
 *     (10.0.1.1, 10.0.2.2, 17, 1234, 80)
 *         -> forward(port = 2, dscp = 46, rewrite_dscp = 1)
 *     (10.0.1.1, 10.0.2.2, 6, 1234, 80)
 *         -> forward(port = 2, dscp = 0, rewrite_dscp = 0)
 *   Clone session 100 (CPU_SESSION) -> port 510 (mirroring_add 100 510).
 *
 * Example packets (network packets: Ethernet dst 00:00:00:00:02:02
 * src 00:00:00:00:01:01 type 0x0800; IPv4 ihl 5, id 1, flags 0, frag 0,
 * 10.0.1.1 -> 10.0.2.2, TTL 64 and TOS 0x00 unless noted, correct
 * checksum; UDP 1234 -> 80 length 8 checksum 0, or TCP 1234 -> 80 seq 0
 * ack 0 dataOffset 5 flags 0x02 window 0x2000 checksum 0)
 *
 *   1. UDP, in on port 1 (checksum 0x63CE). Known flow: out of port 2 with
 *      TOS 0xB8 (DSCP 46), TTL 63, checksum 0x6416.
 *        in : 00000000020200000000010108004500001C00010000401163CE
 *             0A0001010A00020204D2005000080000
 *        out: 000000000202000000000101080045B8001C000100003F116416
 *             0A0001010A00020204D2005000080000
 *   2. TCP with TOS 0x28, in on port 1 (checksum 0x63A5). Known flow, no
 *      DSCP rewrite: out of port 2 with TOS 0x28, TTL 63, checksum 0x64A5.
 *        in : 00000000020200000000010108004528002800010000400663A5
 *             0A0001010A00020204D2005000000000000000005002200000000000
 *        out: 000000000202000000000101080045280028000100003F0664A5
 *             0A0001010A00020204D2005000000000000000005002200000000000
 *   3. UDP to port 81 (unknown flow), in on port 1: nothing on port 2;
 *      out of port 510: packet_in { reason UNKNOWN_FLOW = 1, ingress_port
 *      1 } = 01 0001, then the packet unchanged.
 *        in : 00000000020200000000010108004500001C00010000401163CE
 *             0A0001010A00020204D2005100080000
 *        out: 010001 00000000020200000000010108004500001C000100004011
 *             63CE0A0001010A00020204D2005100080000
 *   4. As 1 but TTL 1 (checksum 0xA2CE): punted with reason
 *      TTL_EXPIRED = 2: out of port 510 only:
 *        out: 020001 00000000020200000000010108004500001C000100000111
 *             A2CE0A0001010A00020204D2005000080000
 *   5. From the CPU (in on port 510): packet_out { SEND_TO_PORT = 1,
 *      egress_port 3 } = 01 0003, then packet 1. Out of port 3: packet 1
 *      unchanged (no packet_out header, TTL still 64).
 *        in : 010003 00000000020200000000010108004500001C000100004011
 *             63CE0A0001010A00020204D2005000080000
 *        out: 00000000020200000000010108004500001C00010000401163CE
 *             0A0001010A00020204D2005000080000
 *   6. From the CPU: packet_out { PIPELINE = 2, egress_port 0 } = 02 0000,
 *      then packet 1: handled like packet 1, out of port 2 with TOS 0xB8,
 *      TTL 63, checksum 0x6416 (and no packet_out header).
 *   7. From the CPU: packet_out with opcode 7: dropped.
 *   8. A non-IPv4 frame from the network: dropped.
 */

#include <core.p4>
#include <v1model.p4>

#define CPU_PORT 510

const bit<16> TYPE_IPV4   = 0x0800;
const bit<8>  PROTO_TCP   = 6;
const bit<8>  PROTO_UDP   = 17;
const bit<32> CPU_SESSION = 100;
const bit<8>  FL_PUNT     = 1;    // matches @field_list(1) below

const bit<32> INSTANCE_INGRESS_CLONE = 1;

// What the controller asks for in a packet_out.
enum bit<8> ControllerOpcode_t {
    NO_OP        = 0,
    SEND_TO_PORT = 1,
    PIPELINE     = 2
}

// Why a packet was sent to the controller.
enum bit<8> PuntReason_t {
    UNKNOWN_FLOW = 1,
    TTL_EXPIRED  = 2
}

// ---------------------------------------------------------------- Headers

typedef bit<9>  egressSpec_t;
typedef bit<48> macAddr_t;
typedef bit<32> ip4Addr_t;

@controller_header("packet_in")
header packet_in_t {
    PuntReason_t reason;
    bit<7>       pad0;
    bit<9>       ingress_port;
}

@controller_header("packet_out")
header packet_out_t {
    ControllerOpcode_t opcode;
    bit<7>             pad0;
    bit<9>             egress_port;
}

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
    bit<16> l4_sport;
    bit<16> l4_dport;
    // Copied into the clone for the controller.
    @field_list(1)
    PuntReason_t punt_reason;
    @field_list(1)
    bit<9>       punt_port;
}

struct headers_t {
    packet_out_t packet_out;
    packet_in_t  packet_in;
    ethernet_t   ethernet;
    ipv4_t       ipv4;
    tcp_t        tcp;
    udp_t        udp;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers_t hdr,
                inout metadata_t meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        meta.l4_sport = 0;
        meta.l4_dport = 0;
        // Only frames from the controller carry a packet_out header.
        transition select(standard_metadata.ingress_port) {
            CPU_PORT: parse_packet_out;
            default:  parse_ethernet;
        }
    }

    state parse_packet_out {
        packet.extract(hdr.packet_out);
        transition parse_ethernet;
    }

    state parse_ethernet {
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
        meta.l4_sport = hdr.tcp.srcPort;
        meta.l4_dport = hdr.tcp.dstPort;
        transition accept;
    }

    state parse_udp {
        packet.extract(hdr.udp);
        meta.l4_sport = hdr.udp.srcPort;
        meta.l4_dport = hdr.udp.dstPort;
        transition accept;
    }
}

// ---------------------------------------------------------------- Checksum verification

control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

// ---------------------------------------------------------------- Ingress

control MyIngress(inout headers_t hdr,
                  inout metadata_t meta,
                  inout standard_metadata_t standard_metadata) {

    action drop() {
        mark_to_drop(standard_metadata);
    }

    // Hand the packet to the controller: a clone with the reason attached
    // goes to the CPU session, the original goes nowhere.
    action punt(in PuntReason_t reason) {
        meta.punt_reason = reason;
        meta.punt_port = standard_metadata.ingress_port;
        clone_preserving_field_list(CloneType.I2E, CPU_SESSION, FL_PUNT);
        mark_to_drop(standard_metadata);
    }

    action forward(egressSpec_t port, bit<6> dscp, bit<1> rewrite_dscp) {
        standard_metadata.egress_spec = port;
        // Saturating: a TTL can never wrap round to 255.
        hdr.ipv4.ttl = hdr.ipv4.ttl |-| 1;
        hdr.ipv4.diffserv[7:2] = (rewrite_dscp == 1) ? dscp : hdr.ipv4.diffserv[7:2];
    }

    table flow_table {
        key = {
            hdr.ipv4.srcAddr:  exact;
            hdr.ipv4.dstAddr:  exact;
            hdr.ipv4.protocol: exact;
            meta.l4_sport:     exact;
            meta.l4_dport:     exact;
        }
        actions = {
            forward;
            drop;
            NoAction;
        }
        size = 4096;
        default_action = NoAction();
    }

    apply {
        if (hdr.packet_out.isValid()) {
            ControllerOpcode_t opcode = hdr.packet_out.opcode;
            egressSpec_t out_port = hdr.packet_out.egress_port;
            // The controller header never leaves the switch.
            hdr.packet_out.setInvalid();

            switch (opcode) {
                ControllerOpcode_t.SEND_TO_PORT: {
                    standard_metadata.egress_spec = out_port;
                    return;
                }
                ControllerOpcode_t.PIPELINE: {
                    // Continue below as if received from the network.
                }
                default: {
                    drop();
                    return;
                }
            }
        }

        if (!hdr.ipv4.isValid()) {
            drop();
            return;
        }

        if (hdr.ipv4.ttl <= 1) {
            punt(PuntReason_t.TTL_EXPIRED);
            return;
        }

        if (flow_table.apply().miss) {
            punt(PuntReason_t.UNKNOWN_FLOW);
        }
    }
}

// ---------------------------------------------------------------- Egress

control MyEgress(inout headers_t hdr,
                 inout metadata_t meta,
                 inout standard_metadata_t standard_metadata) {
    apply {
        if (standard_metadata.instance_type == INSTANCE_INGRESS_CLONE) {
            // The copy for the controller: say why and where from.
            hdr.packet_in.setValid();
            hdr.packet_in.reason = meta.punt_reason;
            hdr.packet_in.pad0 = 0;
            hdr.packet_in.ingress_port = meta.punt_port;
            hdr.packet_out.setInvalid();
        }
    }
}

// ---------------------------------------------------------------- Checksum update

control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply {
        update_checksum(
            hdr.ipv4.isValid(),
            { hdr.ipv4.version,
              hdr.ipv4.ihl,
              hdr.ipv4.diffserv,
              hdr.ipv4.totalLen,
              hdr.ipv4.identification,
              hdr.ipv4.flags,
              hdr.ipv4.fragOffset,
              hdr.ipv4.ttl,
              hdr.ipv4.protocol,
              hdr.ipv4.srcAddr,
              hdr.ipv4.dstAddr },
            hdr.ipv4.hdrChecksum,
            HashAlgorithm.csum16);
    }
}

// ---------------------------------------------------------------- Deparser

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        // packet_out is consumed by the switch and never emitted.
        packet.emit(hdr.packet_in);
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
