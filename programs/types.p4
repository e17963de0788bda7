/* -*- P4_16 -*- */
/*
 * types.p4 -- a tour of the P4_16 type system, wrapped around a small
 * IPv4/IPv6 router.
 *
 * Constructs shown
 *   typedef (mac_addr_t, vlan_stack_t), `type` (ipv4_addr_t, port_id_t:
 *   explicit casts needed to mix them with bit<W>), a plain enum
 *   (direction_t), serializable enums `enum bit<16>` / `enum bit<8>` used
 *   as header field types and in select, additions to `error`, a
 *   header_union of IPv4 and IPv6, a header stack of VLAN tags, a varbit
 *   field filled by the two-argument extract, tuple<...> with indexing,
 *   int<W> signed arithmetic with two-step casts, list and struct
 *   initializers, const declarations of several types (int, bool, a `type`)
 *   and bool metadata.
 *
 * What it does
 *   Parser: Ethernet, then up to two VLAN tags (0x8100), then IPv4
 *   (0x0800) or IPv6 (0x86DD) into the union hdr.ip. IPv4 must have
 *   version 4 (else error.UnsupportedIpVersion) and ihl >= 5 (else
 *   error.Ipv4HeaderTooShort); options (ihl > 5) are extracted whole into a
 *   varbit<320> of (ihl - 5) * 32 bits. IPv6 must have version 6. A third
 *   VLAN tag gives error.StackOutOfBounds.
 *   Ingress drops: packets with any parser error, non-IP packets,
 *   transport protocols other than ICMP (1), TCP (6), UDP (17) and
 *   ICMPv6 (58), and packets whose TTL / hop limit is 0 or 1 (the hop
 *   count is computed as a signed int<16>: TTL - 1 <= 0 means expired).
 *   Other packets are routed: IPv4 by exact match on the destination,
 *   IPv6 by longest prefix; set_route rewrites the MACs (new source = old
 *   destination) and picks the port. TTL / hop limit are decremented.
 *   IPv4 packets that arrive on the uplink port (1) get their DSCP cleared
 *   (markings from outside are not trusted); ECN is kept. VLAN tags and
 *   IPv4 options are passed through unchanged. The IPv4 checksum is
 *   recomputed over the header including the options (the options header
 *   is left out of the checksum input when it is not valid, as BMv2 does).
 *
 * Tables and the entries the control plane is expected to install
 *   MyIngress.ipv4_route  key: hdr.ip.v4.dstAddr (exact)  default: drop()
 *     10.0.1.1 -> set_route(dmac = 00:00:00:00:0A:01, port = 1)
 *     10.0.2.2 -> set_route(dmac = 00:00:00:00:0A:02, port = 2)
 *   MyIngress.ipv6_route  key: hdr.ip.v6.dstAddr (lpm)    default: drop()
 *     2001:db8:1::/48 -> set_route(dmac = 00:00:00:00:0A:01, port = 1)
 *     2001:db8:2::/48 -> set_route(dmac = 00:00:00:00:0A:02, port = 2)
 *
 * Example packets (Ethernet dst 00:00:00:00:0A:00 is the router; IPv4:
 * version 4, DSCP 46 / ECN 0 (byte 0xB8) unless noted, id 1, flags 0,
 * frag 0, TTL 64, protocol 17; every packet ends with UDP 1234 -> 80
 * length 8 checksum 0)
 *
 *   1. In on port 2 (a host): Ethernet src 00:00:00:00:0A:02 type 0x0800,
 *      IPv4 ihl 5 totalLen 28 10.0.2.2 -> 10.0.1.1 checksum 0x6316.
 *      Out of port 1: Ethernet dst 00:00:00:00:0A:01
 *      src 00:00:00:00:0A:00, TTL 63, DSCP kept, checksum 0x6416.
 *        in : 000000000A00000000000A02080045B8001C0001000040116316
 *             0A0002020A00010104D2005000080000
 *        out: 000000000A01000000000A00080045B8001C000100003F116416
 *             0A0002020A00010104D2005000080000
 *
 *   2. In on port 1 (the uplink): src 00:00:00:00:0A:01, IPv4 10.0.1.1 ->
 *      10.0.2.2 checksum 0x6316. Out of port 2: Ethernet
 *      dst 00:00:00:00:0A:02 src 00:00:00:00:0A:00, DSCP 0 (byte 0x00),
 *      TTL 63, checksum 0x64CE.
 *        in : 000000000A00000000000A01080045B8001C0001000040116316
 *             0A0001010A00020204D2005000080000
 *        out: 000000000A02000000000A0008004500001C000100003F1164CE
 *             0A0001010A00020204D2005000080000
 *
 *   3. As 1 but ihl 6, totalLen 32, with the 4 option bytes 01 01 01 00
 *      (NOP NOP NOP EOL), checksum 0x6011. Out of port 1, options kept,
 *      TTL 63, checksum 0x6111 (computed over all 24 header bytes).
 *        in : 000000000A00000000000A02080046B8002000010000401160110A00
 *             02020A0001010101010004D2005000080000
 *        out: 000000000A01000000000A00080046B80020000100003F1161110A00
 *             02020A0001010101010004D2005000080000
 *
 *   4. In on port 2: one VLAN tag (pcp 0, dei 0, vid 10, type 0x86DD),
 *      IPv6 traffic class 0, flow label 0, payload length 8, next header
 *      17, hop limit 64, 2001:db8:2::2 -> 2001:db8:1::1. Out of port 1:
 *      Ethernet dst 00:00:00:00:0A:01 src 00:00:00:00:0A:00, VLAN tag
 *      unchanged, hop limit 63.
 *        in : 000000000A00000000000A028100000A86DD6000000000081140
 *             20010DB8000200000000000000000002
 *             20010DB8000100000000000000000001 04D2005000080000
 *        out: 000000000A01000000000A008100000A86DD600000000008113F
 *             20010DB8000200000000000000000002
 *             20010DB8000100000000000000000001 04D2005000080000
 *
 *   5. As 1 but TTL 1 (checksum 0xA216): expired, dropped.
 *   6. As 1 but protocol 47 (checksum 0x62F8): dropped.
 *   7. Three VLAN tags (vids 10, 20, 30) before IPv4: StackOutOfBounds,
 *      dropped.
 *   8. As 1 but IPv4 version 5: error.UnsupportedIpVersion, dropped.
 */

#include <core.p4>
#include <v1model.p4>

// ---------------------------------------------------------------- Types

typedef bit<48> mac_addr_t;     // a synonym: mixes freely with bit<48>
type    bit<32> ipv4_addr_t;    // a new type: needs explicit casts
type    bit<9>  port_id_t;

// Serializable enums: the underlying type fixes the wire format, and values
// without a name (e.g. EtherType 0x0806) are still representable.
enum bit<16> ether_type_t {
    VLAN = 0x8100,
    IPV4 = 0x0800,
    IPV6 = 0x86dd
}

enum bit<8> ip_proto_t {
    ICMP   = 1,
    TCP    = 6,
    UDP    = 17,
    ICMPV6 = 58
}

// A plain enum: no representation, only == and != are defined.
enum direction_t {
    FROM_UPLINK,
    FROM_HOST
}

// Program-specific parser errors, added to those of core.p4.
error {
    UnsupportedIpVersion,
    Ipv4HeaderTooShort
}

const int         IPV4_MIN_IHL = 5;                 // arbitrary precision
const bool        FORWARD_IPV6 = true;
const port_id_t   UPLINK_PORT  = (port_id_t)9w1;    // a `type` constant
const bit<6>      DSCP_DEFAULT = 0;

// ---------------------------------------------------------------- Headers

header ethernet_t {
    mac_addr_t   dst;
    mac_addr_t   src;
    ether_type_t etherType;
}

header vlan_tag_t {
    bit<3>       pcp;
    bit<1>       dei;
    bit<12>      vid;
    ether_type_t etherType;
}

typedef vlan_tag_t[2] vlan_stack_t;   // a typedef of a header stack type

header ipv4_t {
    bit<4>      version;
    bit<4>      ihl;
    bit<6>      dscp;
    bit<2>      ecn;
    bit<16>     totalLen;
    bit<16>     identification;
    bit<3>      flags;
    bit<13>     fragOffset;
    bit<8>      ttl;
    ip_proto_t  protocol;
    bit<16>     hdrChecksum;
    ipv4_addr_t srcAddr;
    ipv4_addr_t dstAddr;
}

// Up to 40 bytes of options, sized from ihl at parse time.
header ipv4_options_t {
    varbit<320> options;
}

header ipv6_t {
    bit<4>     version;
    bit<8>     trafficClass;
    bit<20>    flowLabel;
    bit<16>    payloadLen;
    ip_proto_t nextHdr;
    bit<8>     hopLimit;
    bit<128>   srcAddr;
    bit<128>   dstAddr;
}

// At most one member is valid at a time.
header_union ip_t {
    ipv4_t v4;
    ipv6_t v6;
}

struct l3_info_t {
    bit<8> hops_left;
    bool   is_v6;
}

struct metadata_t {
    l3_info_t   l3;
    direction_t dir;
    port_id_t   out_port;
    bool        routed;
}

struct headers_t {
    ethernet_t     ethernet;
    vlan_stack_t   vlans;
    ip_t           ip;
    ipv4_options_t ipv4_options;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers_t hdr,
                inout metadata_t meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ether_type_t.VLAN: parse_vlan;
            ether_type_t.IPV4: parse_ipv4;
            ether_type_t.IPV6: parse_ipv6;
            default:           accept;
        }
    }

    state parse_vlan {
        // A third tag does not fit: error.StackOutOfBounds.
        packet.extract(hdr.vlans.next);
        transition select(hdr.vlans.last.etherType) {
            ether_type_t.VLAN: parse_vlan;
            ether_type_t.IPV4: parse_ipv4;
            ether_type_t.IPV6: parse_ipv6;
            default:           accept;
        }
    }

    state parse_ipv4 {
        packet.extract(hdr.ip.v4);
        verify(hdr.ip.v4.version == 4w4, error.UnsupportedIpVersion);
        verify(hdr.ip.v4.ihl >= IPV4_MIN_IHL, error.Ipv4HeaderTooShort);
        transition select(hdr.ip.v4.ihl) {
            IPV4_MIN_IHL: accept;
            default:      parse_ipv4_options;
        }
    }

    state parse_ipv4_options {
        // The varbit size is in bits: 32 per header word beyond the fifth.
        packet.extract(hdr.ipv4_options,
                       ((bit<32>)hdr.ip.v4.ihl - IPV4_MIN_IHL) * 32);
        transition accept;
    }

    state parse_ipv6 {
        packet.extract(hdr.ip.v6);
        verify(hdr.ip.v6.version == 4w6, error.UnsupportedIpVersion);
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

    action set_route(mac_addr_t dmac, port_id_t port) {
        hdr.ethernet.src = hdr.ethernet.dst;
        hdr.ethernet.dst = dmac;
        meta.out_port = port;
        meta.routed = true;
    }

    table ipv4_route {
        key = {
            hdr.ip.v4.dstAddr: exact;
        }
        actions = {
            set_route;
            drop;
        }
        size = 1024;
        default_action = drop();
    }

    table ipv6_route {
        key = {
            hdr.ip.v6.dstAddr: lpm;
        }
        actions = {
            set_route;
            drop;
        }
        size = 1024;
        default_action = drop();
    }

    apply {
        meta.routed = false;

        // error values only support == and !=.
        if (standard_metadata.parser_error != error.NoError) {
            drop();
            return;
        }
        // isValid() of a union: true when any member is valid.
        if (!hdr.ip.isValid()) {
            drop();
            return;
        }

        // A `type` value is compared with another value of the same type,
        // so the port number is cast first.
        meta.dir = ((port_id_t)standard_metadata.ingress_port == UPLINK_PORT)
                   ? direction_t.FROM_UPLINK
                   : direction_t.FROM_HOST;

        ip_proto_t proto = hdr.ip.v4.isValid() ? hdr.ip.v4.protocol
                                                : hdr.ip.v6.nextHdr;
        if (proto != ip_proto_t.ICMP && proto != ip_proto_t.TCP &&
            proto != ip_proto_t.UDP && proto != ip_proto_t.ICMPV6) {
            drop();
            return;
        }

        // Signed arithmetic: bit<8> cannot become int<16> in one cast
        // (that would change both width and signedness), so widen first.
        bit<8>  ttl_in = hdr.ip.v4.isValid() ? hdr.ip.v4.ttl
                                             : hdr.ip.v6.hopLimit;
        int<16> hops = (int<16>)(bit<16>)ttl_in - 16s1;
        if (hops <= 16s0) {
            drop();    // TTL 0 (hops = -1) or 1 (hops = 0): expired
            return;
        }

        l3_info_t info = { 8w0, false };                    // list initializer
        info = { hops_left = (bit<8>)(bit<16>)hops,         // struct initializer
                 is_v6 = hdr.ip.v6.isValid() };
        meta.l3 = info;

        tuple<bit<8>, bool> summary = { meta.l3.hops_left, meta.l3.is_v6 };

        if (summary[1]) {
            if (!FORWARD_IPV6) {
                drop();
                return;
            }
            ipv6_route.apply();
            hdr.ip.v6.hopLimit = summary[0];
        } else {
            ipv4_route.apply();
            hdr.ip.v4.ttl = summary[0];
            if (meta.dir == direction_t.FROM_UPLINK) {
                hdr.ip.v4.dscp = DSCP_DEFAULT;
            }
        }

        if (meta.routed) {
            standard_metadata.egress_spec = (bit<9>)meta.out_port;
        }
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
    apply {
        update_checksum(
            hdr.ip.v4.isValid(),
            { hdr.ip.v4.version,
              hdr.ip.v4.ihl,
              hdr.ip.v4.dscp,
              hdr.ip.v4.ecn,
              hdr.ip.v4.totalLen,
              hdr.ip.v4.identification,
              hdr.ip.v4.flags,
              hdr.ip.v4.fragOffset,
              hdr.ip.v4.ttl,
              hdr.ip.v4.protocol,
              hdr.ip.v4.srcAddr,
              hdr.ip.v4.dstAddr,
              hdr.ipv4_options.options },
            hdr.ip.v4.hdrChecksum,
            HashAlgorithm.csum16);
    }
}

// ---------------------------------------------------------------- Deparser

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.vlans);         // the valid tags, in order
        packet.emit(hdr.ip);            // whichever member is valid
        packet.emit(hdr.ipv4_options);  // with its parsed length
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
