/* -*- P4_16 -*- */
/*
 * ipv6_router.p4 -- an IPv6 router for dataplane's router architecture
 * (router.p4): the pipeline forwards, the device's agent handles the rest.
 *
 * Fast path: longest-prefix-match forwarding, next-hop MAC rewrite, hop
 * limit decrement (IPv6 has no header checksum), header validation on
 * receipt (version 6, and the payload length must fit in the frame:
 * packet_length - 14 - 40 >= payloadLen; a bad or truncated header is
 * dropped silently and counted in drops[0]). Extension headers are payload:
 * they are not parsed, and leave unchanged behind the IPv6 header.
 *
 * Multipath (ECMP), as in ipv4_router.p4: a route may lead to a group of
 * equal-cost next hops. The flow hash is CRC-32 over the source and
 * destination addresses, the Next Header field and the TCP / UDP / SCTP
 * source and destination ports (37 bytes; Linux's IPv6 keys with
 * fib_multipath_hash_policy=1), multiplied by the router's odd seed
 * (register ecmp_seed) and cut into `paths` equal regions of its top 16
 * bits (hash-threshold, RFC 2992 section 3.2); the region picks the member
 * of the group (v1model action_selector). Every packet of a flow takes the
 * same path, so nothing is reordered.
 *   - The flow label is not hashed. Linux hashes it with policy 0 (addresses,
 *     flow label, next header) and not with policy 1; policy 1 is what the
 *     IPv4 routers do (the same 5-tuple, so both families spread alike), and
 *     the 5-tuple alone is fixed for a flow's whole life, while a sender may
 *     change its flow label (Linux rehashes it after a retransmission
 *     timeout), which would move the flow to another path mid-way.
 *   - Extension headers are not walked (they stay payload): only a Next
 *     Header of TCP, UDP or SCTP right after the fixed header gives ports.
 *     Any other packet -- ICMPv6, a packet with a Fragment header (Next
 *     Header 44) or other extension headers -- is hashed on its addresses
 *     and Next Header with both ports 0. So every fragment of a datagram,
 *     the first included, hashes alike and takes one path: Linux too hashes
 *     fragments without ports (only the first has them), though it walks
 *     the extension headers and hashes the transport protocol where this
 *     program hashes 44. A flow whose packets all carry the same extension
 *     headers keeps to one path too.
 *   - ICMPv6 errors are hashed as any ICMPv6 packet, on their own header
 *     (the reporting router's address, the offending packet's source, 58),
 *     not on the packet they quote (Linux's policy 0 looks inside, so that
 *     an error follows the flow it is about). Every ICMPv6 message between
 *     two addresses -- echo requests, replies and errors -- thus keeps to
 *     one path, and traceroute6's answers from one router arrive in order.
 *     At the router that sends it, the agent picks the next hop of a
 *     multipath route by the hash of (0, destination, 0), its own packets
 *     to one destination all taking one path (router/agent.py).
 *
 * Slow path, through CPU_PORT with a cpu_in_t header:
 *   LOCAL       IPv6 addressed to one of local_addresses_v6, whatever its hop
 *               limit: the router's addresses and their solicited-node
 *               multicast addresses (so Neighbor Solicitations reach the agent);
 *   NO_ROUTE    no entry in ipv6_lpm: the agent sends Destination Unreachable;
 *   TTL_EXPIRED hop limit <= 1 when forwarding, i.e. received as 0 or
 *               decremented to 0 (R6): the agent sends Time Exceeded;
 *   NEEDS_FRAG  40 + payloadLen larger than the egress MTU: the agent sends
 *               Packet Too Big (routers never fragment IPv6).
 * For NEEDS_FRAG the packet is the one that would have been sent (MACs
 * rewritten, hop limit decremented) and cpu_in carries the egress port and
 * MTU; for the others it is the packet as received (cpu_in.egress_port is
 * the port ipv6_lpm chose, if it was applied, and cpu_in.mtu is 0).
 * Other multicast destinations (ff00::/8) are not routed: dropped, drops[2].
 *
 * Tables (filled by the agent from the device's interface configuration,
 * and by the topology's routing):
 *   interfaces         ingress_port : exact -> set_interface(mac)
 *   egress_interfaces  meta.out_port : exact -> set_egress(mac, mtu)
 *   local_addresses_v6 hdr.ipv6.dstAddr : exact -> local()
 *   ipv6_lpm           hdr.ipv6.dstAddr : lpm -> forward(nhop_mac, port) or multipath(group, paths);
 *                      default no_route()
 *   ecmp_nhop          meta.ecmp_group : exact, meta.ecmp_region : selector -> a group of the action
 *                      selector ecmp_selector whose members are forward(nhop_mac, port), one per next hop,
 *                      `paths` of them, in the order of the regions
 *
 * Counters: drops[0] runt frame, truncated or bad IPv6 header, drops[1]
 * frame not addressed to the router's MAC (nor broadcast / multicast),
 * drops[2] multicast IPv6 destination not in local_addresses_v6, drops[3]
 * neither IPv6 nor from the CPU (other EtherTypes are not routed).
 *
 * Example: interface 1 has MAC 00:00:00:00:01:00, interface 2 MAC
 * 00:00:00:00:02:00 (MTU 1500), route 2001:db8:2::/48 ->
 * forward(00:00:00:00:02:02, 2). A UDP packet 2001:db8:1::1 -> 2001:db8:2::2
 * with hop limit 64 sent to 00:00:00:00:01:00 on port 1 leaves port 2 from
 * 00:00:00:00:02:00 to 00:00:00:00:02:02 with hop limit 63; with hop limit 1
 * it goes to the CPU (reason 2) instead, as received. A Neighbor
 * Solicitation to ff02::1:ff00:1 (installed in local_addresses_v6 for the
 * router address 2001:db8:1::1) goes to the CPU with reason 1.
 */
#include <core.p4>
#include <v1model.p4>
#include <inet.p4>
#include <router.p4>

struct headers_t {
    cpu_in_t   cpu_in;
    cpu_out_t  cpu_out;
    ethernet_t ethernet;
    ipv6_t     ipv6;
}

struct metadata_t {
    bit<48> my_mac;          // the MAC of the ingress interface
    bit<8>  cpu_reason;
    bit<9>  out_port;        // the port chosen by ipv6_lpm
    bit<48> nhop_mac;        // the next hop's MAC, written into the frame once the packet is forwarded
    bit<16> mtu;             // that port's MTU
    bit<32> l4_ports;        // TCP, UDP or SCTP source and destination port right after the IPv6 header, else 0
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
            ETHERTYPE_IPV6: parse_ipv6;
            default: accept;
        }
    }
    state parse_ipv6 {
        packet.extract(hdr.ipv6);      // extension headers stay in the payload
        transition select(hdr.ipv6.nextHdr) {
            IP_PROTO_TCP: check_ports_length;
            IP_PROTO_UDP: check_ports_length;
            IP_PROTO_SCTP: check_ports_length;
            default: accept;           // fragments, other extension headers, ICMPv6: hashed without ports
        }
    }
    /* The ports, for the multipath hash: the first 32 bits of TCP, UDP and SCTP, read with lookahead
     * (not extracted: the packet goes on as it came). */
    state check_ports_length {
        // A payload too short to hold the ports is hashed without them (and forwarded as any other).
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
    apply { }   // IPv6 has no header checksum
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
             { hdr.ipv6.srcAddr, hdr.ipv6.dstAddr, hdr.ipv6.nextHdr, meta.l4_ports }, 64w0x100000000);
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
    table local_addresses_v6 {
        key = { hdr.ipv6.dstAddr : exact; }
        actions = { local; NoAction; }
        default_action = NoAction();
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
        if (standard_metadata.parser_error != error.NoError) {
            drop(0);                     // a truncated IPv6 header
            return;
        }
        if (!hdr.ipv6.isValid()) {
            drop(3);                     // not IPv6: nothing to route
            return;
        }
        // Validate the header on receipt; a bad one is dropped silently.
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
                    return;              // no such group: no_route() sent it to the agent
                }
            }
            default: { }
        }
        // The hop limit is checked only when forwarding: received as 0, or decremented to 0 (R6).
        if (hdr.ipv6.hopLimit <= 1) {
            to_cpu(CPU_REASON_TTL_EXPIRED);
            return;
        }
        // Forward: rewrite the MACs (only now, so that the CPU sees slow-path packets as received).
        hdr.ethernet.dstAddr = meta.nhop_mac;
        egress_interfaces.apply();
        hdr.ipv6.hopLimit = hdr.ipv6.hopLimit - 1;
        // Routers never fragment IPv6: too big for the egress link -> Packet Too Big from the agent.
        if (meta.mtu != 0 && (bit<32>)hdr.ipv6.payloadLen + 40 > (bit<32>)meta.mtu) {
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
    apply { }   // no IPv6 header checksum
}

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.cpu_in);
        packet.emit(hdr.ethernet);
        packet.emit(hdr.ipv6);
    }
}

V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), MyComputeChecksum(), MyDeparser()) main;
