/* -*- P4_16 -*- */
/*
 * ipv4_router.p4 -- an IPv4 router for dataplane's router architecture
 * (router.p4): the pipeline forwards, the device's agent handles the rest.
 *
 * Fast path: longest-prefix-match forwarding, next-hop MAC rewrite, TTL
 * decrement with an incremental checksum update (RFC 1624), header
 * validation on receipt (RFC 1812 5.2.2: version 4, IHL >= 5, total length
 * >= IHL * 4 and within the frame, correct checksum; a bad header is dropped
 * silently and counted in drops[0]).
 *
 * Multipath (ECMP): a route may lead to a group of equal-cost next hops
 * instead of one. The flow's 5-tuple (source, destination, protocol and the
 * TCP / UDP / SCTP ports, as Linux hashes with fib_multipath_hash_policy=1)
 * is hashed with CRC-32, multiplied by the router's odd hash seed (register
 * ecmp_seed, written by the agent) and its top 16 bits taken: 0..65535. The
 * seed plays the part of Linux's per-host random flow-hash key: without it
 * every router would compute the same hash, and a router that picked its
 * first uplink would send only flows whose next router also picks its first
 * (hash polarization; a CRC XORed with a seed would not help, being linear).
 * The hash space is cut into as many equal regions as the group has next
 * hops, and the region the hash falls in picks the next hop (hash-threshold,
 * RFC 2992 section 3.2). Every packet of a flow takes the same path, so
 * nothing is reordered. Fragments have no
 * ports to hash (only the first carries them), so every fragment, the first
 * included, is hashed on source, destination and protocol alone, as Linux
 * does: all fragments of a datagram take one path. The region indexes the
 * group's members through v1model's action_selector (BMv2 runs the member at
 * position hash % size; the selector hashes the region with `identity`, so
 * the member is the region's own).
 *
 * Slow path, through CPU_PORT with a cpu_in_t header:
 *   LOCAL       ARP, and IPv4 addressed to one of the router's addresses
 *               (whatever its TTL, RFC 1812 4.2.2.9);
 *   NO_ROUTE    no entry in ipv4_lpm: the agent sends Destination Unreachable;
 *   TTL_EXPIRED TTL <= 1 when forwarding: the agent sends Time Exceeded;
 *   NEEDS_FRAG  longer than the egress MTU: the agent fragments it, or sends
 *               Fragmentation Needed if DF is set.
 *
 * Tables (filled by the agent from the device's interface configuration,
 * and by the topology's routing):
 *   interfaces         ingress_port : exact -> set_interface(mac)
 *   egress_interfaces  meta.out_port : exact -> set_egress(mac, mtu)
 *   local_addresses    hdr.ipv4.dstAddr : exact -> local()
 *   ipv4_lpm           hdr.ipv4.dstAddr : lpm -> forward(nhop_mac, port) or multipath(group, paths);
 *                      default no_route()
 *   ecmp_nhop          meta.ecmp_group : exact, meta.ecmp_region : selector -> a group of the action
 *                      selector ecmp_selector whose members are forward(nhop_mac, port), one per next hop,
 *                      `paths` of them, in the order of the regions
 *
 * Counters: drops[0] bad IPv4 header, drops[1] frame not addressed to the
 * router's MAC, drops[2] multicast or broadcast IPv4 (not routed), drops[3]
 * neither ARP nor IPv4.
 *
 * Example: interface 1 has MAC 00:00:00:00:01:00, interface 2 MAC
 * 00:00:00:00:02:00 (MTU 1500), route 10.0.2.0/24 -> forward(00:00:00:00:02:02, 2).
 * A UDP packet 10.0.1.1 -> 10.0.2.2 with TTL 64 sent to 00:00:00:00:01:00 on
 * port 1 leaves port 2 from 00:00:00:00:02:00 to 00:00:00:00:02:02 with TTL
 * 63 and the checksum increased by 0x0100; with TTL 1 it goes to the CPU
 * (reason 2) instead.
 */
#include <core.p4>
#include <v1model.p4>
#include <inet.p4>
#include <router.p4>

struct headers_t {
    cpu_in_t       cpu_in;
    cpu_out_t      cpu_out;
    ethernet_t     ethernet;
    arp_t          arp;
    ipv4_t         ipv4;
    ipv4_options_t ipv4_options;
}

struct metadata_t {
    bit<48> my_mac;          // the MAC of the ingress interface
    bit<8>  cpu_reason;
    bit<9>  out_port;        // the port chosen by ipv4_lpm
    bit<48> nhop_mac;        // the next hop's MAC, written into the frame once the packet is forwarded
    bit<16> mtu;             // that port's MTU
    bit<32> l4_ports;        // TCP, UDP or SCTP source and destination port of an unfragmented datagram, else 0
    bit<16> ecmp_group;      // multipath: the group of next hops (ecmp_nhop)
    bit<16> ecmp_region;     // multipath: the region of the hash space the flow falls in, 0 .. paths - 1
}

parser MyParser(packet_in packet, out headers_t hdr, inout metadata_t meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        transition select(standard_metadata.ingress_port) {
            CPU_PORT: parse_cpu_out;
            default: parse_ethernet;
        }
    }
    state parse_cpu_out {
        packet.extract(hdr.cpu_out);
        transition parse_ethernet;
    }
    state parse_ethernet {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            ETHERTYPE_ARP: parse_arp;
            ETHERTYPE_IPV4: parse_ipv4;
            default: accept;
        }
    }
    state parse_arp {
        packet.extract(hdr.arp);
        transition accept;
    }
    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        transition select(hdr.ipv4.ihl) {
            0 .. 4: accept;          // ihl < 5 is checked (and dropped) in ingress
            5: parse_ports;
            default: parse_ipv4_options;
        }
    }
    state parse_ipv4_options {
        packet.extract(hdr.ipv4_options, ((bit<32>)hdr.ipv4.ihl - 5) * 32);
        transition parse_ports;
    }
    /* The ports, for the multipath hash: the first 32 bits of TCP, UDP and SCTP, read with lookahead
     * (not extracted: the packet goes on as it came). Fragments are hashed without ports (Linux). */
    state parse_ports {
        transition select(hdr.ipv4.mf, hdr.ipv4.fragOffset, hdr.ipv4.protocol) {
            (0, 0, IP_PROTO_TCP): check_ports_length;
            (0, 0, IP_PROTO_UDP): check_ports_length;
            (0, 0, IP_PROTO_SCTP): check_ports_length;
            default: accept;
        }
    }
    state check_ports_length {
        // A datagram too short to hold the ports is hashed without them (and forwarded as any other).
        bit<16> l4_length = hdr.ipv4.totalLen - ((bit<16>)hdr.ipv4.ihl << 2);
        transition select(l4_length) {
            0 .. 3: accept;
            default: read_ports;
        }
    }
    state read_ports {
        meta.l4_ports = packet.lookahead<bit<32>>();
        transition accept;
    }
}

control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply {
        verify_checksum(hdr.ipv4.isValid(),
            { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn, hdr.ipv4.totalLen,
              hdr.ipv4.identification, hdr.ipv4.reserved, hdr.ipv4.df, hdr.ipv4.mf,
              hdr.ipv4.fragOffset, hdr.ipv4.ttl, hdr.ipv4.protocol, hdr.ipv4.srcAddr,
              hdr.ipv4.dstAddr, hdr.ipv4_options.options },
            hdr.ipv4.hdrChecksum, HashAlgorithm.csum16);
    }
}

control MyIngress(inout headers_t hdr, inout metadata_t meta,
                  inout standard_metadata_t standard_metadata) {
    counter(4, CounterType.packets) drops;

    action drop(bit<32> why) {
        drops.count(why);
        mark_to_drop(standard_metadata);
    }
    action to_cpu(bit<8> reason) {
        meta.cpu_reason = reason;
        standard_metadata.egress_spec = CPU_PORT;
    }
    action set_interface(bit<48> mac) {
        meta.my_mac = mac;
    }
    action local() {
        to_cpu(CPU_REASON_LOCAL);
    }
    action forward(bit<48> nhop_mac, bit<9> port) {
        standard_metadata.egress_spec = port;
        meta.out_port = port;
        meta.nhop_mac = nhop_mac;
    }
    action no_route() {
        to_cpu(CPU_REASON_NO_ROUTE);
    }
    register<bit<32>>(1) ecmp_seed;      // the router's multipath hash seed (made odd when read)

    /* A route over `paths` equal-cost next hops (the members of `group`): the flow's region of the hash
     * space (RFC 2992 hash-threshold), region = hash * paths / 65536. */
    action multipath(bit<16> group, bit<16> paths) {
        bit<32> flow_hash;
        hash(flow_hash, HashAlgorithm.crc32, 32w0,
             { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, hdr.ipv4.protocol, meta.l4_ports }, 64w0x100000000);
        bit<32> seed;
        ecmp_seed.read(seed, 0);
        bit<32> mixed = flow_hash * (seed | 1);
        meta.ecmp_group = group;
        meta.ecmp_region = (bit<16>)(((bit<32>)mixed[31:16] * (bit<32>)paths) >> 16);
    }
    action set_egress(bit<48> mac, bit<16> mtu) {
        hdr.ethernet.srcAddr = mac;
        meta.mtu = mtu;
    }

    table interfaces {
        key = { standard_metadata.ingress_port : exact; }
        actions = { set_interface; NoAction; }
        default_action = NoAction();
    }
    table local_addresses {
        key = { hdr.ipv4.dstAddr : exact; }
        actions = { local; NoAction; }
        default_action = NoAction();
    }
    table ipv4_lpm {
        key = { hdr.ipv4.dstAddr : lpm; }
        actions = { forward; multipath; no_route; }
        default_action = no_route();
        size = 65536;
    }
    // The identity of the 16-bit region is the region: BMv2's member choice, hash % size, is the region.
    action_selector(HashAlgorithm.identity, 32w4096, 32w16) ecmp_selector;
    table ecmp_nhop {
        key = { meta.ecmp_group : exact; meta.ecmp_region : selector; }
        actions = { forward; @defaultonly no_route; }
        default_action = no_route();
        implementation = ecmp_selector;
        size = 4096;
    }
    table egress_interfaces {
        key = { meta.out_port : exact; }
        actions = { set_egress; NoAction; }
        default_action = NoAction();
    }

    apply {
        if (hdr.cpu_out.isValid()) {
            // From the agent: out of the port it names, unchanged.
            standard_metadata.egress_spec = (bit<9>)hdr.cpu_out.egress_port;
            hdr.cpu_out.setInvalid();
            return;
        }
        interfaces.apply();
        // Layer 2: only frames for this interface's MAC, or broadcast / multicast.
        if (hdr.ethernet.dstAddr != meta.my_mac && hdr.ethernet.dstAddr[40:40] == 0) {
            drop(1);
            return;
        }
        if (hdr.arp.isValid()) {
            to_cpu(CPU_REASON_LOCAL);
            return;
        }
        if (!hdr.ipv4.isValid()) {
            drop(3);                     // neither ARP nor IPv4: nothing to route
            return;
        }
        // RFC 1812 5.2.2: validate the header; a bad one is dropped silently.
        if (standard_metadata.parser_error != error.NoError
                || standard_metadata.checksum_error == 1
                || hdr.ipv4.version != 4 || hdr.ipv4.ihl < 5
                || hdr.ipv4.totalLen < (bit<16>)hdr.ipv4.ihl * 4
                || (bit<32>)hdr.ipv4.totalLen > standard_metadata.packet_length - 14) {
            drop(0);
            return;
        }
        // For the router itself, whatever the TTL (RFC 1812 4.2.2.9).
        if (local_addresses.apply().hit) {
            return;
        }
        // Not routed: multicast (224/4) and limited broadcast destinations, and martian sources
        // (RFC 1812 5.3.7: 0/8 "this network", 127/8 loopback, 240/4 class E and broadcast).
        if (hdr.ipv4.dstAddr[31:28] == 0xE || hdr.ipv4.dstAddr == 0xFFFFFFFF ||
                hdr.ipv4.srcAddr[31:24] == 0 || hdr.ipv4.srcAddr[31:24] == 127 || hdr.ipv4.srcAddr[31:28] == 0xF) {
            drop(2);
            return;
        }
        switch (ipv4_lpm.apply().action_run) {
            no_route: { return; }
            multipath: {
                if (!ecmp_nhop.apply().hit) {
                    return;              // no such group: no_route() sent it to the agent
                }
            }
            default: { }
        }
        // TTL is checked only when forwarding (RFC 1812 5.3.1).
        if (hdr.ipv4.ttl <= 1) {
            to_cpu(CPU_REASON_TTL_EXPIRED);
            return;
        }
        // Forward: rewrite the MACs (only now, so that the CPU sees slow-path packets as received).
        hdr.ethernet.dstAddr = meta.nhop_mac;
        egress_interfaces.apply();
        bit<16> old_word = hdr.ipv4.ttl ++ hdr.ipv4.protocol;
        hdr.ipv4.ttl = hdr.ipv4.ttl - 1;
        // The TTL is the high byte of its 16-bit word (R3).
        hdr.ipv4.hdrChecksum = csum16_update(hdr.ipv4.hdrChecksum, old_word, hdr.ipv4.ttl ++ hdr.ipv4.protocol);
        if (meta.mtu != 0 && hdr.ipv4.totalLen > meta.mtu) {
            to_cpu(CPU_REASON_NEEDS_FRAG);
        }
    }
}

control MyEgress(inout headers_t hdr, inout metadata_t meta,
                 inout standard_metadata_t standard_metadata) {
    apply {
        if (standard_metadata.egress_port == CPU_PORT) {
            hdr.cpu_in.setValid();
            hdr.cpu_in.reason = meta.cpu_reason;
            hdr.cpu_in.reserved = 0;
            hdr.cpu_in.ingress_port = (bit<16>)standard_metadata.ingress_port;
            hdr.cpu_in.egress_port = (bit<16>)meta.out_port;
            hdr.cpu_in.mtu = meta.mtu;
        }
    }
}

control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }   // the TTL update is incremental, in ingress
}

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.cpu_in);
        packet.emit(hdr.ethernet);
        packet.emit(hdr.arp);
        packet.emit(hdr.ipv4);
        packet.emit(hdr.ipv4_options);
    }
}

V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), MyComputeChecksum(), MyDeparser()) main;
