/* -*- P4_16 -*- */
/*
 * basic_ipv4.p4 -- IPv4 longest-prefix-match forwarding.
 *
 * What it does
 *   Parses Ethernet and (for EtherType 0x0800) IPv4. The IPv4 header
 *   checksum is verified; packets that fail verification are dropped, and so
 *   are packets that are not IPv4. Valid IPv4 packets are looked up in
 *   ipv4_lpm by destination address. A hit on ipv4_forward rewrites the
 *   Ethernet addresses (new source = old destination, new destination = the
 *   next hop MAC from the entry), decrements the TTL and sends the packet to
 *   the port from the entry. A miss runs the default action drop(). The IPv4
 *   checksum is recomputed in MyComputeChecksum.
 *
 * Tables and the entries the control plane is expected to install
 *   MyIngress.ipv4_lpm   key: hdr.ipv4.dstAddr (lpm)   default: drop()
 *     10.0.1.0/24  -> ipv4_forward(dstAddr = 00:00:00:00:01:01, port = 1)
 *     10.0.2.0/24  -> ipv4_forward(dstAddr = 00:00:00:00:02:02, port = 2)
 *     10.0.2.5/32  -> ipv4_forward(dstAddr = 00:00:00:00:02:05, port = 3)
 *
 * Example packets (all received on port 0; every IPv4 packet carries an
 * 8-byte UDP header 1234 -> 80, length 8, checksum 0, and nothing else;
 * IPv4 fields not mentioned are: version 4, ihl 5, diffserv 0,
 * totalLen 28, identification 1, flags 0, fragOffset 0, protocol 17)
 *
 *   1. Ethernet dst 00:00:00:00:01:00 src 00:00:00:00:01:01 type 0x0800,
 *      IPv4 10.0.1.1 -> 10.0.2.2, TTL 64, checksum 0x63CE (correct).
 *      Matches 10.0.2.0/24. Out of port 2:
 *      Ethernet dst 00:00:00:00:02:02 src 00:00:00:00:01:00, TTL 63,
 *      checksum 0x64CE; everything else unchanged.
 *        in : 00000000010000000000010108004500001C00010000401163CE
 *             0A0001010A00020204D2005000080000
 *        out: 00000000020200000000010008004500001C000100003F1164CE
 *             0A0001010A00020204D2005000080000
 *
 *   2. As 1 but destination 10.0.2.5 (checksum 0x63CB). Both 10.0.2.0/24
 *      and 10.0.2.5/32 match; the longer prefix wins. Out of port 3:
 *      Ethernet dst 00:00:00:00:02:05 src 00:00:00:00:01:00, TTL 63,
 *      checksum 0x64CB.
 *        in : 00000000010000000000010108004500001C00010000401163CB
 *             0A0001010A00020504D2005000080000
 *        out: 00000000020500000000010008004500001C000100003F1164CB
 *             0A0001010A00020504D2005000080000
 *
 *   3. As 1 but destination 192.168.1.1 (checksum 0xAE26). No entry
 *      matches: default action drop(), no packet out.
 *
 *   4. As 1 but with a wrong header checksum 0x1234. verify_checksum sets
 *      standard_metadata.checksum_error = 1 and ingress drops the packet.
 *
 *   5. Any non-IPv4 frame (e.g. EtherType 0x0806): dropped.
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_IPV4 = 0x0800;

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

struct metadata {
    /* nothing needed */
}

struct headers {
    ethernet_t ethernet;
    ipv4_t     ipv4;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers hdr,
                inout metadata meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        transition parse_ethernet;
    }

    state parse_ethernet {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            TYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }

    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        transition accept;
    }
}

// ---------------------------------------------------------------- Checksum verification

control MyVerifyChecksum(inout headers hdr, inout metadata meta) {
    apply {
        // Only the 20-byte header is covered: this program does not parse
        // IPv4 options.
        verify_checksum(
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

// ---------------------------------------------------------------- Ingress

control MyIngress(inout headers hdr,
                  inout metadata meta,
                  inout standard_metadata_t standard_metadata) {

    action drop() {
        mark_to_drop(standard_metadata);
    }

    action ipv4_forward(macAddr_t dstAddr, egressSpec_t port) {
        standard_metadata.egress_spec = port;
        // The router's own address (the frame's old destination) becomes
        // the source of the outgoing frame.
        hdr.ethernet.srcAddr = hdr.ethernet.dstAddr;
        hdr.ethernet.dstAddr = dstAddr;
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
    }

    table ipv4_lpm {
        key = {
            hdr.ipv4.dstAddr: lpm;
        }
        actions = {
            ipv4_forward;
            drop;
        }
        size = 1024;
        default_action = drop();
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            // Only IPv4 is routed; egress_spec would otherwise stay 0.
            drop();
        } else if (standard_metadata.checksum_error == 1) {
            // A corrupted header must not be forwarded.
            drop();
        } else {
            ipv4_lpm.apply();
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
        // The TTL changed, so the header checksum must be recomputed.
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
