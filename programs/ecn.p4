/* -*- P4_16 -*- */
/*
 * ecn.p4 -- Explicit Congestion Notification marking on top of IPv4
 * forwarding.
 *
 * What it does
 *   Ingress forwards IPv4 by longest prefix (MAC rewrite, TTL decrement)
 *   and drops everything else. In egress, where the queue depth is known,
 *   an ECN-capable packet (ecn = 1, ECT(1), or ecn = 2, ECT(0)) is marked
 *   Congestion Experienced (ecn = 3) when standard_metadata.enq_qdepth,
 *   the depth of the queue when the packet was enqueued, is at least the
 *   threshold. Not-ECT (0) and already-marked (3) packets are never
 *   changed. The threshold is the constant ECN_THRESHOLD (10 packets),
 *   supplied as the default action of the keyless table ecn_config so
 *   that the control plane can change it (e.g. to 0 to see marking on an
 *   idle switch, where enq_qdepth is 0). The IPv4 checksum is recomputed.
 *
 * Tables and the entries the control plane is expected to install
 *   MyIngress.ipv4_lpm   key: hdr.ipv4.dstAddr (lpm)   default: drop()
 *     10.0.1.0/24 -> ipv4_forward(dstAddr = 00:00:00:00:01:01, port = 1)
 *     10.0.2.0/24 -> ipv4_forward(dstAddr = 00:00:00:00:02:02, port = 2)
 *   MyEgress.ecn_config  keyless; default set_ecn_threshold(10).
 *     For examples 2 and 3 the control plane sets its default action to
 *     set_ecn_threshold(threshold = 0).
 *
 * Example packets (in on port 1; Ethernet dst 00:00:00:00:01:00
 * src 00:00:00:00:01:01; IPv4 ihl 5, DSCP 0, totalLen 28, id 1, flags 0,
 * frag 0, TTL 64, protocol 17, 10.0.1.1 -> 10.0.2.2; UDP 1234 -> 80
 * length 8 checksum 0. All leave on port 2 with Ethernet
 * dst 00:00:00:00:02:02 src 00:00:00:00:01:00 and TTL 63.)
 *
 *   1. Default threshold (10), idle queue (enq_qdepth 0). ECN 2 (ECT(0)),
 *      checksum 0x63CC -> not marked; out checksum 0x64CC.
 *        in : 00000000010000000000010108004502001C00010000401163CC
 *             0A0001010A00020204D2005000080000
 *        out: 00000000020200000000010008004502001C000100003F1164CC
 *             0A0001010A00020204D2005000080000
 *   2. Threshold 0. ECN 1 (ECT(1)), checksum 0x63CD -> marked: ECN 3
 *      (TOS byte 0x03), checksum 0x64CB.
 *        in : 00000000010000000000010108004501001C00010000401163CD
 *             0A0001010A00020204D2005000080000
 *        out: 00000000020200000000010008004503001C000100003F1164CB
 *             0A0001010A00020204D2005000080000
 *   3. Threshold 0. ECN 0 (Not-ECT), checksum 0x63CE -> not marked;
 *      out checksum 0x64CE.
 *        in : 00000000010000000000010108004500001C00010000401163CE
 *             0A0001010A00020204D2005000080000
 *        out: 00000000020200000000010008004500001C000100003F1164CE
 *             0A0001010A00020204D2005000080000
 *   4. Destination 10.0.9.9: no route, dropped.
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_IPV4     = 0x0800;
const bit<19> ECN_THRESHOLD = 10;

const bit<2>  ECN_NOT_ECT = 0;
const bit<2>  ECN_ECT1    = 1;
const bit<2>  ECN_ECT0    = 2;
const bit<2>  ECN_CE      = 3;

// ---------------------------------------------------------------- Headers

typedef bit<9>  egressSpec_t;
typedef bit<48> macAddr_t;
typedef bit<32> ip4Addr_t;

header ethernet_t {
    macAddr_t dstAddr;
    macAddr_t srcAddr;
    bit<16>   etherType;
}

// The old TOS byte split into DSCP and the two ECN bits (RFC 3168).
header ipv4_t {
    bit<4>    version;
    bit<4>    ihl;
    bit<6>    diffserv;
    bit<2>    ecn;
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
    bit<19> ecn_threshold;
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
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
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

    action drop() {
        mark_to_drop(standard_metadata);
    }

    action ipv4_forward(macAddr_t dstAddr, egressSpec_t port) {
        standard_metadata.egress_spec = port;
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
            NoAction;
        }
        size = 1024;
        default_action = drop();
    }

    apply {
        if (hdr.ipv4.isValid()) {
            ipv4_lpm.apply();
        } else {
            drop();
        }
    }
}

// ---------------------------------------------------------------- Egress

control MyEgress(inout headers hdr,
                 inout metadata meta,
                 inout standard_metadata_t standard_metadata) {

    action set_ecn_threshold(bit<19> threshold) {
        meta.ecn_threshold = threshold;
    }

    table ecn_config {
        actions = {
            set_ecn_threshold;
        }
        default_action = set_ecn_threshold(ECN_THRESHOLD);
    }

    action mark_ecn() {
        hdr.ipv4.ecn = ECN_CE;
    }

    apply {
        ecn_config.apply();
        // Only ECN-capable transports understand the mark; the others
        // would have to be dropped instead, which this example does not do.
        if (hdr.ipv4.isValid() &&
            (hdr.ipv4.ecn == ECN_ECT1 || hdr.ipv4.ecn == ECN_ECT0)) {
            if (standard_metadata.enq_qdepth >= meta.ecn_threshold) {
                mark_ecn();
            }
        }
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
              hdr.ipv4.ecn,
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
