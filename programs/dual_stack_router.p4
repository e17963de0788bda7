/* -*- P4_16 -*- */
/*
 * dual_stack_router.p4 -- an IPv4 and IPv6 router for dataplane's router
 * architecture (router.p4): ipv4_router.p4 and ipv6_router.p4 in one
 * pipeline, sharing the interface tables; the device's agent handles the
 * slow path of both families.
 *
 * Fast path: longest-prefix-match forwarding (ipv4_lpm, ipv6_lpm), next-hop
 * MAC rewrite, TTL decrement with an incremental IPv4 checksum update
 * (RFC 1624), hop limit decrement (IPv6 has no header checksum).
 * Validation on receipt, a bad header being dropped silently and counted in
 * drops[0]: IPv4 as RFC 1812 5.2.2 (version 4, IHL >= 5, total length >=
 * IHL * 4 and within the frame, correct checksum); IPv6 version 6 and
 * packet_length - 14 - 40 >= payloadLen. IPv4 options and IPv6 extension
 * headers are carried unchanged (the latter are payload, not parsed).
 *
 * Multipath (ECMP), for both families: a route of ipv4_lpm or ipv6_lpm may
 * be multipath(group, paths), a group of equal-cost next hops in the one
 * action selector both families share. The flow is hashed as in
 * ipv4_router.p4 for IPv4 (CRC-32 of source, destination, protocol and
 * TCP / UDP / SCTP ports; fragments without ports) and as in
 * ipv6_router.p4 for IPv6 (CRC-32 of source, destination, Next Header and
 * the ports when TCP, UDP or SCTP comes right after the fixed header; the
 * flow label is not hashed, as with Linux's fib_multipath_hash_policy=1;
 * fragments, other extension headers and ICMPv6 without ports); the hash is
 * multiplied by the router's odd seed (register ecmp_seed) and its top 16
 * bits cut into `paths` equal regions (hash-threshold, RFC 2992 section
 * 3.2), the region picking the group's member. Every packet of a flow takes
 * the same path. Those two programs' comments say why.
 *
 * Slow path, through CPU_PORT with a cpu_in_t header:
 *   LOCAL       ARP; IPv4 addressed to one of local_addresses; IPv6 addressed
 *               to one of local_addresses_v6 (the router's addresses and their
 *               solicited-node multicast addresses, so Neighbor Solicitations
 *               reach the agent); whatever the TTL / hop limit;
 *   NO_ROUTE    no entry in ipv4_lpm / ipv6_lpm: Destination Unreachable;
 *   TTL_EXPIRED TTL or hop limit <= 1 when forwarding: Time Exceeded;
 *   NEEDS_FRAG  longer than the egress MTU: the agent fragments IPv4 (or
 *               sends Fragmentation Needed if DF is set), and sends Packet
 *               Too Big for IPv6 (routers never fragment IPv6).
 * For NEEDS_FRAG the packet is the one that would have been sent (MACs
 * rewritten, TTL / hop limit decremented) and cpu_in carries the egress port
 * and MTU; for the others it is the packet as received.
 *
 * Tables (filled by the agent from the device's interface configuration,
 * and by the topology's routing):
 *   interfaces         ingress_port : exact -> set_interface(mac)
 *   egress_interfaces  meta.out_port : exact -> set_egress(mac, mtu)
 *   local_addresses    hdr.ipv4.dstAddr : exact -> local()
 *   local_addresses_v6 hdr.ipv6.dstAddr : exact -> local()
 *   ipv4_lpm           hdr.ipv4.dstAddr : lpm -> forward(nhop_mac, port) or multipath(group, paths);
 *                      default no_route()
 *   ipv6_lpm           hdr.ipv6.dstAddr : lpm -> forward(nhop_mac, port) or multipath(group, paths);
 *                      default no_route()
 *   ecmp_nhop          meta.ecmp_group : exact, meta.ecmp_region : selector -> a group of the action
 *                      selector ecmp_selector whose members are forward(nhop_mac, port), one per next hop,
 *                      `paths` of them, in the order of the regions (groups of both families)
 *
 * Counters: drops[0] runt frame, truncated ARP, truncated or bad IPv4 / IPv6 header,
 * drops[1] frame not addressed to the router's MAC (nor broadcast /
 * multicast), drops[2] multicast or broadcast IPv4 (224/4,
 * 255.255.255.255) and multicast IPv6 (ff00::/8) not in the local tables,
 * drops[3] neither ARP, IPv4 nor IPv6 (other EtherTypes are not routed).
 *
 * Example: interface 1 has MAC 00:00:00:00:01:00, interface 2 MAC
 * 00:00:00:00:02:00 (MTU 1500), routes 10.0.2.0/24 and 2001:db8:2::/48 ->
 * forward(00:00:00:00:02:02, 2). From port 1 to 00:00:00:00:01:00, a UDP
 * packet 10.0.1.1 -> 10.0.2.2 with TTL 64 leaves port 2 from
 * 00:00:00:00:02:00 to 00:00:00:00:02:02 with TTL 63 and the checksum
 * increased by 0x0100, and a UDP packet 2001:db8:1::1 -> 2001:db8:2::2 with
 * hop limit 64 leaves the same way with hop limit 63. An ARP request goes to
 * the CPU with reason 1; either packet with TTL / hop limit 1 goes to the
 * CPU with reason 2, as received.
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
    ipv6_t         ipv6;
}

struct metadata_t {
    bit<48> my_mac;          // the MAC of the ingress interface
    bit<8>  cpu_reason;
    bit<9>  out_port;        // the port chosen by ipv4_lpm or ipv6_lpm
    bit<48> nhop_mac;        // the next hop's MAC, written into the frame once the packet is forwarded
    bit<16> mtu;             // that port's MTU
    bit<32> l4_ports;        // TCP, UDP or SCTP source and destination port (unfragmented IPv4, or right after
                             // the IPv6 header), else 0
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
            ETHERTYPE_IPV6: parse_ipv6;
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
            5: parse_ports_v4;
            default: parse_ipv4_options;
        }
    }
    state parse_ipv4_options {
        packet.extract(hdr.ipv4_options, ((bit<32>)hdr.ipv4.ihl - 5) * 32);
        transition parse_ports_v4;
    }
    /* The ports, for the multipath hash: the first 32 bits of TCP, UDP and SCTP, read with lookahead
     * (not extracted: the packet goes on as it came). IPv4 fragments are hashed without ports (Linux). */
    state parse_ports_v4 {
        transition select(hdr.ipv4.mf, hdr.ipv4.fragOffset, hdr.ipv4.protocol) {
            (0, 0, IP_PROTO_TCP): check_ports_length_v4;
            (0, 0, IP_PROTO_UDP): check_ports_length_v4;
            (0, 0, IP_PROTO_SCTP): check_ports_length_v4;
            default: accept;
        }
    }
    state check_ports_length_v4 {
        // A datagram too short to hold the ports is hashed without them (and forwarded as any other).
        bit<16> l4_length = hdr.ipv4.totalLen - ((bit<16>)hdr.ipv4.ihl << 2);
        transition select(l4_length) {
            0 .. 3: accept;
            default: read_ports;
        }
    }
    state parse_ipv6 {
        packet.extract(hdr.ipv6);      // extension headers stay in the payload
        transition select(hdr.ipv6.nextHdr) {
            IP_PROTO_TCP: check_ports_length_v6;
            IP_PROTO_UDP: check_ports_length_v6;
            IP_PROTO_SCTP: check_ports_length_v6;
            default: accept;           // fragments, other extension headers, ICMPv6: hashed without ports
        }
    }
    state check_ports_length_v6 {
        transition select(hdr.ipv6.payloadLen) {
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

    /* A route over `paths` equal-cost next hops (the members of `group`), of either family: the flow's
     * region of the hash space (RFC 2992 hash-threshold), region = hash * paths / 65536. */
    action multipath(bit<16> group, bit<16> paths) {
        bit<32> flow_hash;
        if (hdr.ipv4.isValid()) {
            hash(flow_hash, HashAlgorithm.crc32, 32w0,
                 { hdr.ipv4.srcAddr, hdr.ipv4.dstAddr, hdr.ipv4.protocol, meta.l4_ports }, 64w0x100000000);
        } else {
            hash(flow_hash, HashAlgorithm.crc32, 32w0,
                 { hdr.ipv6.srcAddr, hdr.ipv6.dstAddr, hdr.ipv6.nextHdr, meta.l4_ports }, 64w0x100000000);
        }
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
    table local_addresses_v6 {
        key = { hdr.ipv6.dstAddr : exact; }
        actions = { local; NoAction; }
        default_action = NoAction();
    }
    table ipv4_lpm {
        key = { hdr.ipv4.dstAddr : lpm; }
        actions = { forward; multipath; no_route; }
        default_action = no_route();
        size = 65536;
    }
    table ipv6_lpm {
        key = { hdr.ipv6.dstAddr : lpm; }
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
        if (!hdr.ethernet.isValid()) {
            drop(0);                     // a runt, shorter than an Ethernet header
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
        if (standard_metadata.parser_error != error.NoError) {
            drop(0);                     // a truncated ARP, IPv4 / IPv6 header or IPv4 options
            return;
        }

        if (hdr.ipv4.isValid()) {
            // RFC 1812 5.2.2: validate the header; a bad one is dropped silently.
            if (standard_metadata.checksum_error == 1
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
                        return;          // no such group: no_route() sent it to the agent
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
        } else if (hdr.ipv6.isValid()) {
            // IPv6: validate the header on receipt; a bad one is dropped silently.
            if (hdr.ipv6.version != 6
                    || (bit<32>)hdr.ipv6.payloadLen > standard_metadata.packet_length - 54) {
                drop(0);
                return;
            }
            // For the router itself (its addresses and their solicited-node groups), whatever the hop limit.
            if (local_addresses_v6.apply().hit) {
                return;
            }
            // Other multicast (ff00::/8) is not routed.
            if (hdr.ipv6.dstAddr[127:120] == 0xFF) {
                drop(2);
                return;
            }
            switch (ipv6_lpm.apply().action_run) {
                no_route: { return; }
                multipath: {
                    if (!ecmp_nhop.apply().hit) {
                        return;          // no such group: no_route() sent it to the agent
                    }
                }
                default: { }
            }
            // The hop limit is checked only when forwarding: received as 0, or decremented to 0 (R6).
            if (hdr.ipv6.hopLimit <= 1) {
                to_cpu(CPU_REASON_TTL_EXPIRED);
                return;
            }
            hdr.ethernet.dstAddr = meta.nhop_mac;
            egress_interfaces.apply();
            hdr.ipv6.hopLimit = hdr.ipv6.hopLimit - 1;
            // Routers never fragment IPv6: too big for the egress link -> Packet Too Big from the agent.
            if (meta.mtu != 0 && (bit<32>)hdr.ipv6.payloadLen + 40 > (bit<32>)meta.mtu) {
                to_cpu(CPU_REASON_NEEDS_FRAG);
            }
        } else {
            drop(3);                     // neither ARP, IPv4 nor IPv6: nothing to route
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
    apply { }   // the TTL update is incremental, in ingress; IPv6 has no header checksum
}

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.cpu_in);
        packet.emit(hdr.ethernet);
        packet.emit(hdr.arp);
        packet.emit(hdr.ipv4);
        packet.emit(hdr.ipv4_options);
        packet.emit(hdr.ipv6);
    }
}

V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), MyComputeChecksum(), MyDeparser()) main;
