/* -*- P4_16 -*- */
/*
 * tunnel.p4 -- a minimal custom tunnel next to plain IPv4 forwarding.
 *
 * What it does
 *   A tunnel header (myTunnel_t: proto_id bit<16>, dst_id bit<16>) sits
 *   between Ethernet and the inner packet and is announced by EtherType
 *   0x1212; proto_id holds the inner EtherType (0x0800 for IPv4).
 *   - Plain IPv4 packets are routed by ipv4_lpm. An entry can either forward
 *     the packet (ipv4_forward: MAC rewrite + TTL decrement) or put it into
 *     a tunnel (myTunnel_encap: push a tunnel header with the given dst_id).
 *   - Tunnelled packets (including ones encapsulated just now) are switched
 *     on dst_id alone by myTunnel_exact: either passed on unchanged
 *     (myTunnel_forward) or, at the tunnel exit, decapsulated
 *     (myTunnel_decap_forward: tunnel header removed, EtherType restored
 *     from proto_id, MAC rewrite; the inner TTL is not touched).
 *   - tunnel_counter (packets and bytes) counts every tunnelled packet under
 *     its dst_id before the lookup, so misses are counted too.
 *   - Misses in either table drop the packet; so do non-IPv4, non-tunnel
 *     frames. The IPv4 checksum is recomputed on the way out.
 *
 * Tables and the entries the control plane is expected to install
 *   MyIngress.ipv4_lpm       key: hdr.ipv4.dstAddr (lpm)     default: drop()
 *     10.0.1.0/24 -> ipv4_forward(dstAddr = 00:00:00:00:01:01, port = 1)
 *     10.0.3.0/24 -> myTunnel_encap(dst_id = 3)
 *   MyIngress.myTunnel_exact key: hdr.myTunnel.dst_id (exact) default: drop()
 *     1 -> myTunnel_decap_forward(dstAddr = 00:00:00:00:01:01, port = 1)
 *     2 -> myTunnel_forward(port = 2)
 *     3 -> myTunnel_forward(port = 3)
 *   Counter MyIngress.tunnel_counter: 65536 cells, index = dst_id.
 *
 * Example packets (received on port 2; every inner IPv4 packet is:
 * version 4, ihl 5, diffserv 0, totalLen 28, id 1, flags 0, frag 0,
 * TTL 64, protocol 17, correct checksum, followed by UDP 1234 -> 80,
 * length 8, checksum 0)
 *
 *   1. Plain IPv4. Ethernet dst 00:00:00:00:02:00 src 00:00:00:00:02:02
 *      type 0x0800, IPv4 10.0.2.2 -> 10.0.1.1 (checksum 0x63CE).
 *      Out of port 1: Ethernet dst 00:00:00:00:01:01
 *      src 00:00:00:00:02:00, TTL 63, checksum 0x64CE.
 *        in : 00000000020000000000020208004500001C00010000401163CE
 *             0A0002020A00010104D2005000080000
 *        out: 00000000010100000000020008004500001C000100003F1164CE
 *             0A0002020A00010104D2005000080000
 *
 *   2. Tunnelled, transit. Ethernet (as 1) type 0x1212, myTunnel
 *      proto_id 0x0800 dst_id 2, IPv4 10.0.1.1 -> 10.0.2.2 (checksum
 *      0x63CE). Out of port 2, byte-for-byte unchanged.
 *      tunnel_counter[2] = 1 packet / 46 bytes.
 *        in : 0000000002000000000002021212080000024500001C0001000040
 *             1163CE0A0001010A00020204D2005000080000
 *
 *   3. Encapsulation. Plain IPv4 (as 1) 10.0.2.2 -> 10.0.3.3 (checksum
 *      0x61CC). Matches 10.0.3.0/24 -> myTunnel_encap(3), then
 *      myTunnel_exact hits dst_id 3. Out of port 3: Ethernet unchanged
 *      except type 0x1212, then myTunnel 0x0800 / 3, then the IPv4
 *      packet unchanged (TTL still 64). tunnel_counter[3] = 1 packet.
 *        in : 00000000020000000000020208004500001C00010000401161CC
 *             0A0002020A00030304D2005000080000
 *        out: 0000000002000000000002021212080000034500001C0001000040
 *             1161CC0A0002020A00030304D2005000080000
 *
 *   4. Decapsulation. Tunnelled (as 2) with dst_id 1, inner IPv4
 *      10.0.2.2 -> 10.0.1.1 (checksum 0x63CE). Out of port 1: Ethernet
 *      dst 00:00:00:00:01:01 src 00:00:00:00:02:00 type 0x0800, no tunnel
 *      header, IPv4 unchanged (TTL 64, checksum 0x63CE).
 *        in : 0000000002000000000002021212080000014500001C0001000040
 *             1163CE0A0002020A00010104D2005000080000
 *        out: 00000000010100000000020008004500001C00010000401163CE
 *             0A0002020A00010104D2005000080000
 *
 *   5. Tunnelled with dst_id 9: counted in tunnel_counter[9], then
 *      dropped (miss -> drop()).
 *
 *   6. Plain IPv4 to 10.9.9.9: ipv4_lpm miss, dropped.
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_MYTUNNEL = 0x1212;
const bit<16> TYPE_IPV4     = 0x0800;

// ---------------------------------------------------------------- Headers

typedef bit<9>  egressSpec_t;
typedef bit<48> macAddr_t;
typedef bit<32> ip4Addr_t;

header ethernet_t {
    macAddr_t dstAddr;
    macAddr_t srcAddr;
    bit<16>   etherType;
}

header myTunnel_t {
    bit<16> proto_id;   // EtherType of what follows the tunnel header
    bit<16> dst_id;     // tunnel endpoint identifier
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

struct metadata {
    /* nothing needed */
}

struct headers {
    ethernet_t ethernet;
    myTunnel_t myTunnel;
    ipv4_t     ipv4;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers hdr,
                inout metadata meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            TYPE_MYTUNNEL: parse_myTunnel;
            TYPE_IPV4:     parse_ipv4;
            default:       accept;
        }
    }

    state parse_myTunnel {
        packet.extract(hdr.myTunnel);
        transition select(hdr.myTunnel.proto_id) {
            TYPE_IPV4: parse_ipv4;
            default:   accept;
        }
    }

    state parse_ipv4 {
        packet.extract(hdr.ipv4);
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

    // One cell per possible dst_id.
    counter(65536, CounterType.packets_and_bytes) tunnel_counter;

    action drop() {
        mark_to_drop(standard_metadata);
    }

    action ipv4_forward(macAddr_t dstAddr, egressSpec_t port) {
        standard_metadata.egress_spec = port;
        hdr.ethernet.srcAddr = hdr.ethernet.dstAddr;
        hdr.ethernet.dstAddr = dstAddr;
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
    }

    action myTunnel_encap(bit<16> dst_id) {
        // The tunnel header goes right after Ethernet, so the frame's
        // EtherType moves into proto_id.
        hdr.myTunnel.setValid();
        hdr.myTunnel.proto_id = hdr.ethernet.etherType;
        hdr.myTunnel.dst_id = dst_id;
        hdr.ethernet.etherType = TYPE_MYTUNNEL;
    }

    action myTunnel_forward(egressSpec_t port) {
        standard_metadata.egress_spec = port;
    }

    action myTunnel_decap_forward(macAddr_t dstAddr, egressSpec_t port) {
        standard_metadata.egress_spec = port;
        hdr.ethernet.srcAddr = hdr.ethernet.dstAddr;
        hdr.ethernet.dstAddr = dstAddr;
        hdr.ethernet.etherType = hdr.myTunnel.proto_id;
        hdr.myTunnel.setInvalid();
    }

    table ipv4_lpm {
        key = {
            hdr.ipv4.dstAddr: lpm;
        }
        actions = {
            ipv4_forward;
            myTunnel_encap;
            drop;
        }
        size = 1024;
        default_action = drop();
    }

    table myTunnel_exact {
        key = {
            hdr.myTunnel.dst_id: exact;
        }
        actions = {
            myTunnel_forward;
            myTunnel_decap_forward;
            drop;
        }
        size = 1024;
        default_action = drop();
    }

    apply {
        if (hdr.ipv4.isValid() && !hdr.myTunnel.isValid()) {
            // Plain IPv4: route it (possibly into a tunnel).
            ipv4_lpm.apply();
        }

        if (hdr.myTunnel.isValid()) {
            // Count before the lookup: decapsulation invalidates the
            // header, after which dst_id could no longer be read.
            tunnel_counter.count((bit<32>)hdr.myTunnel.dst_id);
            myTunnel_exact.apply();
        } else if (!hdr.ipv4.isValid()) {
            // Neither IPv4 nor tunnel: nothing to forward on.
            drop();
        }
    }
}

// ---------------------------------------------------------------- Egress

control MyEgress(inout headers hdr,
                 inout metadata meta,
                 inout standard_metadata_t standard_metadata) {
    apply { }
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
        packet.emit(hdr.myTunnel);
        packet.emit(hdr.ipv4);
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
