/* -*- P4_16 -*- */
/*
 * source_routing.p4 -- the sender lists the output port of every hop.
 *
 * What it does
 *   A source-routed frame has EtherType 0x1234 followed by a stack of 16-bit
 *   entries
 *       srcRoute_t: bos(1) port(15)
 *   terminated by the entry whose bos ("bottom of stack") bit is 1, then an
 *   IPv4 packet. The parser loops over srcRoutes.next until it has read
 *   the bos entry (at most MAX_HOPS = 9 entries; a longer list ends in
 *   error.StackOutOfBounds).
 *   Each switch sends the packet out of the port in the first entry and
 *   removes that entry (pop_front(1)). When the entry removed is the last
 *   one (bos = 1), the packet leaves the source-routed domain: the
 *   EtherType becomes 0x0800 again and the IPv4 TTL is decremented (the
 *   IPv4 checksum is recomputed). Frames without a source route and frames
 *   with a parser error are dropped.
 *
 * Tables and entries
 *   None: all forwarding state is in the packet.
 *
 * Example packets (in on port 1; Ethernet dst 00:00:00:00:02:02
 * src 00:00:00:00:01:01; inner IPv4: ihl 5, diffserv 0, totalLen 28,
 * id 1, flags 0, frag 0, TTL 64, protocol 17, checksum 0x63CE,
 * 10.0.1.1 -> 10.0.2.2, then UDP 1234 -> 80 length 8 checksum 0)
 *
 *   1. Two hops: type 0x1234, entries 0x0002 (bos 0, port 2) and 0x8003
 *      (bos 1, port 3), IPv4. Out of port 2 with only the entry 0x8003
 *      left; everything else unchanged (EtherType still 0x1234, TTL 64).
 *        in : 0000000002020000000001011234000280034500001C0001000040
 *             1163CE0A0001010A00020204D2005000080000
 *        out: 000000000202000000000101123480034500001C00010000401163
 *             CE0A0001010A00020204D2005000080000
 *
 *   2. Last hop: type 0x1234, entry 0x8003 (bos 1, port 3), IPv4. Out of
 *      port 3: EtherType 0x0800, no source-route entries, TTL 63,
 *      checksum 0x64CE.
 *        in : 000000000202000000000101123480034500001C00010000401163
 *             CE0A0001010A00020204D2005000080000
 *        out: 00000000020200000000010108004500001C000100003F1164CE
 *             0A0001010A00020204D2005000080000
 *
 *   3. A plain IPv4 frame (EtherType 0x0800): dropped.
 *
 *   4. Ten entries all with bos 0: the tenth does not fit in the stack,
 *      parser_error = error.StackOutOfBounds, dropped.
 */

#include <core.p4>
#include <v1model.p4>

#define MAX_HOPS 9

const bit<16> TYPE_IPV4       = 0x0800;
const bit<16> TYPE_SRCROUTING = 0x1234;

// ---------------------------------------------------------------- Headers

typedef bit<9>  egressSpec_t;
typedef bit<48> macAddr_t;
typedef bit<32> ip4Addr_t;

header ethernet_t {
    macAddr_t dstAddr;
    macAddr_t srcAddr;
    bit<16>   etherType;
}

header srcRoute_t {
    bit<1>  bos;
    bit<15> port;
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
    ethernet_t           ethernet;
    srcRoute_t[MAX_HOPS] srcRoutes;
    ipv4_t               ipv4;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers hdr,
                inout metadata meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            TYPE_SRCROUTING: parse_srcRouting;
            default:         accept;
        }
    }

    state parse_srcRouting {
        packet.extract(hdr.srcRoutes.next);
        transition select(hdr.srcRoutes.last.bos) {
            1:       parse_ipv4;
            default: parse_srcRouting;
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

    action drop() {
        mark_to_drop(standard_metadata);
    }

    // Leave through the port named by the first entry and consume it.
    action srcRoute_nhop() {
        standard_metadata.egress_spec = (egressSpec_t)hdr.srcRoutes[0].port;
        hdr.srcRoutes.pop_front(1);
    }

    // The last entry is being consumed: what follows is plain IPv4 again.
    action srcRoute_finish() {
        hdr.ethernet.etherType = TYPE_IPV4;
    }

    action update_ttl() {
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
    }

    apply {
        if (standard_metadata.parser_error != error.NoError) {
            drop();
        } else if (hdr.srcRoutes[0].isValid()) {
            if (hdr.srcRoutes[0].bos == 1) {
                srcRoute_finish();
                if (hdr.ipv4.isValid()) {
                    update_ttl();
                }
            }
            // Read bos before this: pop_front shifts the stack.
            srcRoute_nhop();
        } else {
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
        packet.emit(hdr.srcRoutes);
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
