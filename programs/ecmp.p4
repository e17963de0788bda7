/* -*- P4_16 -*- */
/*
 * ecmp.p4 -- ECMP load balancing of flows over several next hops.
 *
 * What it does
 *   IPv4 packets whose destination hits ecmp_group get a group size
 *   (ecmp_count). The flow's 5-tuple
 *       { srcAddr, dstAddr, protocol, L4 srcPort, L4 dstPort }
 *   (13 bytes; the L4 ports are 0 for protocols other than TCP and UDP)
 *   is hashed with
 *       hash(meta.ecmp_select, HashAlgorithm.crc16, base 0, 5-tuple,
 *            max ecmp_count)
 *   i.e. ecmp_select = crc16(5-tuple) mod ecmp_count, so every packet of
 *   a flow takes the same path. ecmp_nhop maps the select value to a next
 *   hop: destination MAC, destination IPv4 address (the group address is a
 *   virtual IP that is rewritten to the chosen server) and port; the TTL
 *   is decremented. In egress, send_frame sets the source MAC of the
 *   outgoing port. The IPv4 checksum is recomputed; the TCP/UDP checksum
 *   is left as it was (this example does not maintain L4 checksums).
 *   Misses in ecmp_group or ecmp_nhop, non-IPv4 frames and IPv4 packets
 *   that arrive with TTL 0 are dropped.
 *
 * Tables and the entries the control plane is expected to install
 *   MyIngress.ecmp_group  key: hdr.ipv4.dstAddr (lpm)     default: drop()
 *     10.0.0.1/32 -> set_ecmp_select(ecmp_count = 2)
 *   MyIngress.ecmp_nhop   key: meta.ecmp_select (exact)   default: drop()
 *     0 -> set_nhop(nhop_dmac = 00:00:00:00:01:01, nhop_ipv4 = 10.0.1.1,
 *                   port = 1)
 *     1 -> set_nhop(nhop_dmac = 00:00:00:00:02:02, nhop_ipv4 = 10.0.2.2,
 *                   port = 2)
 *   MyEgress.send_frame   key: standard_metadata.egress_port (exact)
 *                         default: drop()
 *     1 -> rewrite_mac(smac = 00:00:00:00:01:00)
 *     2 -> rewrite_mac(smac = 00:00:00:00:02:00)
 *
 * Example packets (in on port 3; Ethernet dst 00:00:00:00:03:00
 * src 00:00:00:00:03:03 type 0x0800; IPv4 ihl 5, diffserv 0, totalLen 40,
 * id 1, flags 0, frag 0, TTL 64, protocol 6, 10.0.3.3 -> 10.0.0.1,
 * checksum 0x63CC; TCP dstPort 80, seq 0, ack 0, dataOffset 5, flags 0x02,
 * window 0x2000, checksum 0, urgent 0)
 *
 *   1. TCP srcPort 1000. 5-tuple 0A000303 0A000001 06 03E8 0050:
 *      crc16 = 0x7C90, mod 2 = 0 -> next hop 0. Out of port 1: Ethernet
 *      dst 00:00:00:00:01:01 src 00:00:00:00:01:00, IPv4 dst 10.0.1.1,
 *      TTL 63, checksum 0x63CC.
 *        in : 00000000030000000000030308004500002800010000400663CC
 *             0A0003030A00000103E8005000000000000000005002200000000000
 *        out: 000000000101000000000100080045000028000100003F0663CC
 *             0A0003030A00010103E8005000000000000000005002200000000000
 *
 *   2. TCP srcPort 1001. crc16 = 0xBCC1, mod 2 = 1 -> next hop 1. Out of
 *      port 2: Ethernet dst 00:00:00:00:02:02 src 00:00:00:00:02:00,
 *      IPv4 dst 10.0.2.2, TTL 63, checksum 0x62CB.
 *        in : 00000000030000000000030308004500002800010000400663CC
 *             0A0003030A00000103E9005000000000000000005002200000000000
 *        out: 000000000202000000000200080045000028000100003F0662CB
 *             0A0003030A00020203E9005000000000000000005002200000000000
 *
 *   3. Packet 1 again: same hash, same next hop, same output.
 *
 *   4. Destination 10.0.9.9: ecmp_group miss -> dropped.
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_IPV4 = 0x0800;
const bit<8>  PROTO_TCP = 6;
const bit<8>  PROTO_UDP = 17;

// ---------------------------------------------------------------- Headers

typedef bit<9>  egressSpec_t;
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

struct metadata {
    bit<14> ecmp_select;
    // Transport ports of either TCP or UDP, 0 when there are none.
    bit<16> l4_srcPort;
    bit<16> l4_dstPort;
}

struct headers {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    tcp_t      tcp;
    udp_t      udp;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers hdr,
                inout metadata meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        meta.l4_srcPort = 0;
        meta.l4_dstPort = 0;
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
        meta.l4_srcPort = hdr.tcp.srcPort;
        meta.l4_dstPort = hdr.tcp.dstPort;
        transition accept;
    }

    state parse_udp {
        packet.extract(hdr.udp);
        meta.l4_srcPort = hdr.udp.srcPort;
        meta.l4_dstPort = hdr.udp.dstPort;
        transition accept;
    }
}

// ---------------------------------------------------------------- Checksum verification

control MyVerifyChecksum(inout headers hdr, inout metadata meta) {
    apply { }
}

// ---------------------------------------------------------------- Ingress

control MyIngress(inout headers hdr,
                  inout metadata meta,
                  inout standard_metadata_t standard_metadata) {

    action drop() {
        mark_to_drop(standard_metadata);
    }

    action set_ecmp_select(bit<16> ecmp_count) {
        hash(meta.ecmp_select,
             HashAlgorithm.crc16,
             (bit<14>)0,
             { hdr.ipv4.srcAddr,
               hdr.ipv4.dstAddr,
               hdr.ipv4.protocol,
               meta.l4_srcPort,
               meta.l4_dstPort },
             ecmp_count);
    }

    action set_nhop(macAddr_t nhop_dmac, ip4Addr_t nhop_ipv4, egressSpec_t port) {
        hdr.ethernet.dstAddr = nhop_dmac;
        hdr.ipv4.dstAddr = nhop_ipv4;
        standard_metadata.egress_spec = port;
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
    }

    table ecmp_group {
        key = {
            hdr.ipv4.dstAddr: lpm;
        }
        actions = {
            drop;
            set_ecmp_select;
        }
        size = 1024;
        default_action = drop();
    }

    table ecmp_nhop {
        key = {
            meta.ecmp_select: exact;
        }
        actions = {
            drop;
            set_nhop;
        }
        size = 16;
        default_action = drop();
    }

    apply {
        if (hdr.ipv4.isValid() && hdr.ipv4.ttl > 0) {
            // Only look up a next hop when a group was selected; a group
            // miss has already dropped the packet.
            if (ecmp_group.apply().hit) {
                ecmp_nhop.apply();
            }
        } else {
            drop();
        }
    }
}

// ---------------------------------------------------------------- Egress

control MyEgress(inout headers hdr,
                 inout metadata meta,
                 inout standard_metadata_t standard_metadata) {

    action rewrite_mac(macAddr_t smac) {
        hdr.ethernet.srcAddr = smac;
    }

    action drop() {
        mark_to_drop(standard_metadata);
    }

    table send_frame {
        key = {
            standard_metadata.egress_port: exact;
        }
        actions = {
            rewrite_mac;
            drop;
        }
        size = 256;
        default_action = drop();
    }

    apply {
        send_frame.apply();
    }
}

// ---------------------------------------------------------------- Checksum update

control MyComputeChecksum(inout headers hdr, inout metadata meta) {
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

control MyDeparser(packet_out packet, in headers hdr) {
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
