/* -*- P4_16 -*- */
/*
 * acl_stateful.p4 -- a stateful ACL: ternary/range access control plus
 * per-flow packet and byte counters kept in registers indexed by a CRC-32
 * hash of the 5-tuple. Used by `dataplane bench` and as an example of
 * tuple-space ternary matching with ranges, registers and hashing together.
 *
 * Tables and the entries the control plane installs:
 *   MyIngress.acl   keys hdr.ipv4.srcAddr : ternary, hdr.ipv4.dstAddr : ternary,
 *                        hdr.ipv4.protocol : ternary, meta.l4_dport : range
 *                   actions allow(bit<9> port), deny(); default deny()
 *                   (every entry needs a priority: the larger wins)
 *
 * Registers: flow_packets[4096] and flow_bytes[4096] (bit<32>), indexed by
 * crc32(srcAddr, dstAddr, protocol, l4_sport, l4_dport) mod 4096.
 *
 * Example, with the entry
 *     acl: srcAddr 10.0.0.0 &&& 255.0.0.0, dstAddr * , protocol 17 &&& 0xff,
 *          l4_dport 1000..2000 -> allow(port 3), priority 10
 *   - a UDP packet 10.1.2.3:5000 -> 192.168.0.1:1500 in on port 1 leaves on
 *     port 3 unchanged, and its flow's packet counter becomes 1;
 *   - the same packet to port 3000 matches no entry and is dropped (deny);
 *   - a non-IPv4 frame is dropped.
 */
#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_IPV4 = 0x0800;
const bit<8>  PROTO_TCP = 6;
const bit<8>  PROTO_UDP = 17;
const bit<32> FLOW_SLOTS = 4096;

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;
    bit<8>  diffserv;
    bit<16> totalLen;
    bit<16> identification;
    bit<3>  flags;
    bit<13> fragOffset;
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> hdrChecksum;
    bit<32> srcAddr;
    bit<32> dstAddr;
}

header ports_t {       // the first four bytes of TCP and UDP
    bit<16> srcPort;
    bit<16> dstPort;
}

struct headers_t {
    ethernet_t ethernet;
    ipv4_t     ipv4;
    ports_t    ports;
}

struct metadata_t {
    bit<16> l4_sport;
    bit<16> l4_dport;
    bit<32> flow;
}

parser MyParser(packet_in packet, out headers_t hdr, inout metadata_t meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            TYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }
    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        transition select(hdr.ipv4.protocol) {
            PROTO_TCP: parse_ports;
            PROTO_UDP: parse_ports;
            default: accept;
        }
    }
    state parse_ports {
        packet.extract(hdr.ports);
        meta.l4_sport = hdr.ports.srcPort;
        meta.l4_dport = hdr.ports.dstPort;
        transition accept;
    }
}

control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

control MyIngress(inout headers_t hdr, inout metadata_t meta,
                  inout standard_metadata_t standard_metadata) {
    register<bit<32>>(FLOW_SLOTS) flow_packets;
    register<bit<32>>(FLOW_SLOTS) flow_bytes;

    action allow(bit<9> port) {
        standard_metadata.egress_spec = port;
    }
    action deny() {
        mark_to_drop(standard_metadata);
    }
    table acl {
        key = {
            hdr.ipv4.srcAddr  : ternary;
            hdr.ipv4.dstAddr  : ternary;
            hdr.ipv4.protocol : ternary;
            meta.l4_dport     : range;
        }
        actions = { allow; deny; }
        default_action = deny();
        size = 1024;
    }

    apply {
        if (!hdr.ipv4.isValid()) {
            deny();
            return;
        }
        // Count the flow before deciding: denied flows are worth counting too.
        hash(meta.flow, HashAlgorithm.crc32, (bit<32>)0,
             { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, hdr.ipv4.protocol, meta.l4_sport, meta.l4_dport },
             FLOW_SLOTS);
        bit<32> n;
        flow_packets.read(n, meta.flow);
        flow_packets.write(meta.flow, n + 1);
        flow_bytes.read(n, meta.flow);
        flow_bytes.write(meta.flow, n + standard_metadata.packet_length);
        acl.apply();
    }
}

control MyEgress(inout headers_t hdr, inout metadata_t meta,
                 inout standard_metadata_t standard_metadata) {
    apply { }
}

control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.ipv4);
        packet.emit(hdr.ports);
    }
}

V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), MyComputeChecksum(), MyDeparser()) main;
