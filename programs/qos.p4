/* -*- P4_16 -*- */
/*
 * qos.p4 -- DiffServ marking by transport protocol, plus IPv4 forwarding.
 *
 * What it does
 *   Every IPv4 packet gets a DSCP chosen by its protocol field, written
 *   into the upper six bits of the TOS byte (diffserv[7:2]) so that the
 *   two ECN bits are kept:
 *       UDP (17) -> EF   46 (TOS 0xB8 with ECN 0)
 *       TCP (6)  -> AF11 10 (TOS 0x28 with ECN 0)
 *       anything else -> best effort 0
 *   The mapping is fixed (const entries). The packet is then forwarded by
 *   longest prefix (MAC rewrite, TTL decrement) and the IPv4 checksum is
 *   recomputed. Non-IPv4 frames and routing misses are dropped.
 *
 * Tables and entries
 *   MyIngress.dscp_by_protocol  key: hdr.ipv4.protocol (exact)
 *     const entries: 17 -> set_dscp(46), 6 -> set_dscp(10)
 *     const default_action = set_dscp(0)
 *   MyIngress.ipv4_lpm  key: hdr.ipv4.dstAddr (lpm)  default: drop()
 *     control-plane entries:
 *       10.0.1.0/24 -> ipv4_forward(dstAddr = 00:00:00:00:01:01, port = 1)
 *       10.0.2.0/24 -> ipv4_forward(dstAddr = 00:00:00:00:02:02, port = 2)
 *
 * Example packets (in on port 1; Ethernet dst 00:00:00:00:01:00
 * src 00:00:00:00:01:01; IPv4 ihl 5, id 1, flags 0, frag 0, TTL 64,
 * 10.0.1.1 -> 10.0.2.2. All leave on port 2 with Ethernet
 * dst 00:00:00:00:02:02 src 00:00:00:00:01:00 and TTL 63.)
 *
 *   1. UDP 1234 -> 80 (length 8, checksum 0), TOS 0x00, totalLen 28,
 *      checksum 0x63CE -> TOS 0xB8, checksum 0x6416.
 *        in : 00000000010000000000010108004500001C00010000401163CE
 *             0A0001010A00020204D2005000080000
 *        out: 000000000202000000000100080045B8001C000100003F116416
 *             0A0001010A00020204D2005000080000
 *   2. TCP 1234 -> 80 (seq 0, ack 0, dataOffset 5, flags 0x02, window
 *      0x2000, checksum 0, urgent 0), TOS 0x00, totalLen 40, checksum
 *      0x63CD -> TOS 0x28, checksum 0x64A5.
 *        in : 00000000010000000000010108004500002800010000400663CD
 *             0A0001010A00020204D2005000000000000000005002200000000000
 *        out: 000000000202000000000100080045280028000100003F0664A5
 *             0A0001010A00020204D2005000000000000000005002200000000000
 *   3. ICMP echo request (08 00 F7 FF 00 00 00 00), TOS 0xB8, totalLen 28,
 *      checksum 0x6326 -> best effort, TOS 0x00, checksum 0x64DE.
 *        in : 000000000100000000000101080045B8001C0001000040016326
 *             0A0001010A0002020800F7FF00000000
 *        out: 00000000020200000000010008004500001C000100003F0164DE
 *             0A0001010A0002020800F7FF00000000
 *   4. As 1 but TOS 0x01 (ECN 1), checksum 0x63CD -> TOS 0xB9 (EF, ECN
 *      kept), checksum 0x6415.
 *        in : 00000000010000000000010108004501001C00010000401163CD
 *             0A0001010A00020204D2005000080000
 *        out: 000000000202000000000100080045B9001C000100003F116415
 *             0A0001010A00020204D2005000080000
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_IPV4 = 0x0800;
const bit<8>  PROTO_TCP = 6;
const bit<8>  PROTO_UDP = 17;

const bit<6>  DSCP_BE   = 0;     // best effort
const bit<6>  DSCP_AF11 = 10;
const bit<6>  DSCP_EF   = 46;    // expedited forwarding

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
    bit<8>    diffserv;     // DSCP in [7:2], ECN in [1:0]
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

    // Only the DSCP bits change; the ECN bits belong to the transport.
    action set_dscp(bit<6> dscp) {
        hdr.ipv4.diffserv[7:2] = dscp;
    }

    table dscp_by_protocol {
        key = {
            hdr.ipv4.protocol: exact;
        }
        actions = {
            set_dscp;
        }
        const default_action = set_dscp(DSCP_BE);
        const entries = {
            PROTO_UDP: set_dscp(DSCP_EF);
            PROTO_TCP: set_dscp(DSCP_AF11);
        }
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
            dscp_by_protocol.apply();
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
