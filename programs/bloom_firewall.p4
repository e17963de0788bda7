/* -*- P4_16 -*- */
/*
 * bloom_firewall.p4 -- a stateful TCP firewall built on a Bloom filter.
 *
 * What it does
 *   IPv4 is routed by ipv4_lpm. For TCP packets the table check_ports
 *   classifies the (ingress_port, egress_spec) pair: internal -> external
 *   is direction 0 (outgoing), external -> internal is direction 1
 *   (incoming); other pairs miss and are not filtered.
 *   Each connection is identified by its 5-tuple written from the inside
 *   host's point of view:
 *       { inside IP, outside IP, inside port, outside port, protocol }
 *   (for incoming packets the addresses and ports are swapped before
 *   hashing, so both directions of one connection hash identically).
 *   Two registers of 4096 one-bit cells form a Bloom filter with two hash
 *   functions: index 1 = crc16(5-tuple) mod 4096 and
 *   index 2 = crc32(5-tuple) mod 4096, both computed with hash(...) with
 *   base 0 and max 4096 (the 5-tuple is 13 bytes: 4+4+2+2+1).
 *   - An outgoing SYN sets both bits.
 *   - An incoming packet is dropped unless both bits are set.
 *   Non-IPv4 frames and routing misses are dropped.
 *
 * Tables and the entries the control plane is expected to install
 *   MyIngress.ipv4_lpm     key: hdr.ipv4.dstAddr (lpm)   default: drop()
 *     10.0.1.1/32 -> ipv4_forward(dstAddr = 00:00:00:00:01:01, port = 1)
 *     10.0.2.2/32 -> ipv4_forward(dstAddr = 00:00:00:00:02:02, port = 2)
 *     10.0.3.3/32 -> ipv4_forward(dstAddr = 00:00:00:00:03:03, port = 3)
 *     10.0.4.4/32 -> ipv4_forward(dstAddr = 00:00:00:00:04:04, port = 4)
 *   MyIngress.check_ports  key: standard_metadata.ingress_port (exact),
 *                               standard_metadata.egress_spec (exact)
 *                          default: NoAction()
 *     (1, 3) -> set_direction(0)    (3, 1) -> set_direction(1)
 *     (1, 4) -> set_direction(0)    (4, 1) -> set_direction(1)
 *     (2, 3) -> set_direction(0)    (3, 2) -> set_direction(1)
 *     (2, 4) -> set_direction(0)    (4, 2) -> set_direction(1)
 *   Registers bloom_filter_1 / bloom_filter_2: bit<1> x 4096, all 0 at start.
 *
 * Example packets, sent in this order (IPv4: ihl 5, diffserv 0,
 * totalLen 40, id 1, flags 0, frag 0, TTL 64, protocol 6; TCP: seq 0,
 * ack 0, dataOffset 5, window 0x2000, checksum 0, urgent 0, no payload)
 *
 *   1. Outgoing SYN, in on port 1: Ethernet dst 00:00:00:00:01:00
 *      src 00:00:00:00:01:01, IPv4 10.0.1.1 -> 10.0.3.3 (checksum
 *      0x62CC), TCP 12345 -> 80 flags 0x02 (SYN).
 *      5-tuple bytes 0A000101 0A000303 3039 0050 06:
 *      crc16 = 0x3AF0 -> index 2800, crc32 = 0x46EF813B -> index 315.
 *      Both bits are set. Out of port 3: Ethernet dst 00:00:00:00:03:03
 *      src 00:00:00:00:01:00, TTL 63, checksum 0x63CC.
 *        in : 00000000010000000000010108004500002800010000400662CC
 *             0A0001010A0003033039005000000000000000005002200000000000
 *        out: 000000000303000000000100080045000028000100003F0663CC
 *             0A0001010A0003033039005000000000000000005002200000000000
 *
 *   2. The SYN-ACK reply, in on port 3: Ethernet dst 00:00:00:00:03:00
 *      src 00:00:00:00:03:03, IPv4 10.0.3.3 -> 10.0.1.1 (checksum
 *      0x62CC), TCP 80 -> 12345 flags 0x12. Direction 1; hashed as
 *      (10.0.1.1, 10.0.3.3, 12345, 80, 6) -> same indices as packet 1,
 *      both bits set -> allowed. Out of port 1: Ethernet
 *      dst 00:00:00:00:01:01 src 00:00:00:00:03:00, TTL 63, checksum
 *      0x63CC.
 *        in : 00000000030000000000030308004500002800010000400662CC
 *             0A0003030A0001010050303900000000000000005012200000000000
 *        out: 000000000101000000000300080045000028000100003F0663CC
 *             0A0003030A0001010050303900000000000000005012200000000000
 *
 *   3. An unsolicited SYN from outside, in on port 3: as packet 2 but TCP
 *      80 -> 23456 (0x5BA0), flags 0x02. Hashed indices 4091 (crc16
 *      0x6FFB) and 2377 (crc32 0x68456949) are not set -> dropped.
 *        in : 00000000030000000000030308004500002800010000400662CC
 *             0A0003030A00010100505BA000000000000000005002200000000000
 *
 *   4. Packet 2 sent on a fresh switch (before any SYN): dropped.
 */

#include <core.p4>
#include <v1model.p4>

#define BLOOM_FILTER_ENTRIES 4096
#define BLOOM_FILTER_BIT_WIDTH 1

const bit<16> TYPE_IPV4 = 0x0800;
const bit<8>  TYPE_TCP  = 6;

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

// RFC 9293 layout: 4-bit data offset, 4 reserved bits, 8 flag bits.
header tcp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<32> seqNo;
    bit<32> ackNo;
    bit<4>  dataOffset;
    bit<4>  res;
    bit<1>  cwr;
    bit<1>  ece;
    bit<1>  urg;
    bit<1>  ack;
    bit<1>  psh;
    bit<1>  rst;
    bit<1>  syn;
    bit<1>  fin;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgentPtr;
}

struct metadata {
    bit<32> reg_pos_one;
    bit<32> reg_pos_two;
    bit<1>  reg_val_one;
    bit<1>  reg_val_two;
    bit<1>  direction;
}

struct headers {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    tcp_t      tcp;
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
        transition select(hdr.ipv4.protocol) {
            TYPE_TCP: parse_tcp;
            default:  accept;
        }
    }

    state parse_tcp {
        packet.extract(hdr.tcp);
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

    register<bit<BLOOM_FILTER_BIT_WIDTH>>(BLOOM_FILTER_ENTRIES) bloom_filter_1;
    register<bit<BLOOM_FILTER_BIT_WIDTH>>(BLOOM_FILTER_ENTRIES) bloom_filter_2;

    action drop() {
        mark_to_drop(standard_metadata);
    }

    // The two filter positions of one connection; the caller orders the
    // arguments so that the inside endpoint always comes first.
    action compute_hashes(in ip4Addr_t ipAddr1, in ip4Addr_t ipAddr2,
                          in bit<16> port1, in bit<16> port2) {
        hash(meta.reg_pos_one, HashAlgorithm.crc16, (bit<32>)0,
             { ipAddr1, ipAddr2, port1, port2, hdr.ipv4.protocol },
             (bit<32>)BLOOM_FILTER_ENTRIES);
        hash(meta.reg_pos_two, HashAlgorithm.crc32, (bit<32>)0,
             { ipAddr1, ipAddr2, port1, port2, hdr.ipv4.protocol },
             (bit<32>)BLOOM_FILTER_ENTRIES);
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

    action set_direction(bit<1> dir) {
        meta.direction = dir;
    }

    table check_ports {
        key = {
            standard_metadata.ingress_port: exact;
            standard_metadata.egress_spec:  exact;
        }
        actions = {
            set_direction;
            NoAction;
        }
        size = 1024;
        default_action = NoAction();
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            drop();
            return;
        }

        ipv4_lpm.apply();

        if (hdr.tcp.isValid()) {
            meta.direction = 0;
            // check_ports must run after routing: it keys on egress_spec.
            if (check_ports.apply().hit) {
                if (meta.direction == 0) {
                    compute_hashes(hdr.ipv4.srcAddr, hdr.ipv4.dstAddr,
                                   hdr.tcp.srcPort, hdr.tcp.dstPort);
                } else {
                    compute_hashes(hdr.ipv4.dstAddr, hdr.ipv4.srcAddr,
                                   hdr.tcp.dstPort, hdr.tcp.srcPort);
                }

                if (meta.direction == 0) {
                    // Outgoing: a SYN opens the connection.
                    if (hdr.tcp.syn == 1) {
                        bloom_filter_1.write(meta.reg_pos_one, 1);
                        bloom_filter_2.write(meta.reg_pos_two, 1);
                    }
                } else {
                    // Incoming: only for connections opened from inside.
                    bloom_filter_1.read(meta.reg_val_one, meta.reg_pos_one);
                    bloom_filter_2.read(meta.reg_val_two, meta.reg_pos_two);
                    if (meta.reg_val_one != 1 || meta.reg_val_two != 1) {
                        drop();
                    }
                }
            }
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
        packet.emit(hdr.tcp);
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
