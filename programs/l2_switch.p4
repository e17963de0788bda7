/* -*- P4_16 -*- */
/*
 * l2_switch.p4 -- a learning Ethernet switch; its agent is
 * dataplane/router/l2agent.py (L2Agent).
 *
 * Learning: the source MAC and ingress port are looked up in `smac`; on a
 * miss the default action learn() sends a digest learn_t {mac, port} to the
 * agent, which installs the pair in `smac` (NoAction, so that the digest is
 * not repeated) and the MAC in `dmac` (forward(port)); when a MAC moves to
 * another port, the old (mac, port) entry misses and a new digest updates
 * both tables. Group (multicast) source MACs are never learned.
 *
 * Forwarding: a unicast destination found in `dmac` leaves by its port;
 * unknown destinations (dmac's default flood()), broadcast
 * ff:ff:ff:ff:ff:ff and every multicast destination (group bit
 * dstAddr[40:40] == 1) are flooded through multicast group 1, which the
 * agent fills with every port. The egress pipeline drops the copy whose
 * egress port is the ingress port: a frame never goes back out of the port
 * it came in on. A frame that dmac forwards to its own ingress port (both
 * stations on the same segment) is filtered: dropped in ingress. Runts
 * shorter than an Ethernet header are dropped. Frames leave unchanged.
 *
 * Tables (filled by the agent from digests):
 *   smac  hdr.ethernet.srcAddr : exact, standard_metadata.ingress_port : exact
 *         -> NoAction; default learn()
 *   dmac  hdr.ethernet.dstAddr : exact -> forward(port); default flood()
 * Multicast group 1 (FLOOD_GROUP): one copy per port of the switch.
 *
 * Example: ports 1, 2 and 3 in group 1. A frame from 00:00:00:00:00:01 to
 * the unknown 00:00:00:00:00:02 arriving on port 1 leaves ports 2 and 3
 * (and the agent learns 00:00:00:00:00:01 on port 1); the reply from
 * 00:00:00:00:00:02 on port 2 leaves port 1 only once dmac has
 * 00:00:00:00:00:01 -> forward(1). A broadcast frame on port 3 leaves
 * ports 1 and 2.
 */
#include <core.p4>
#include <v1model.p4>
#include <inet.p4>

const bit<16> FLOOD_GROUP = 1;

struct learn_t {
    bit<48> mac;
    bit<9>  port;
}

struct headers_t {
    ethernet_t ethernet;
}

struct metadata_t { }

parser MyParser(packet_in packet, out headers_t hdr, inout metadata_t meta,
                inout standard_metadata_t standard_metadata) {
    state start {
        packet.extract(hdr.ethernet);
        transition accept;
    }
}

control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

control MyIngress(inout headers_t hdr, inout metadata_t meta,
                  inout standard_metadata_t standard_metadata) {
    action drop() {
        mark_to_drop(standard_metadata);
    }
    action learn() {
        digest<learn_t>(1, { hdr.ethernet.srcAddr, standard_metadata.ingress_port });
    }
    action forward(bit<9> port) {
        standard_metadata.egress_spec = port;
    }
    action flood() {
        standard_metadata.mcast_grp = FLOOD_GROUP;
    }

    table smac {
        key = {
            hdr.ethernet.srcAddr : exact;
            standard_metadata.ingress_port : exact;
        }
        actions = { learn; NoAction; }
        default_action = learn();
        size = 4096;
    }
    table dmac {
        key = { hdr.ethernet.dstAddr : exact; }
        actions = { forward; flood; }
        default_action = flood();
        size = 4096;
    }

    apply {
        if (!hdr.ethernet.isValid()) {
            drop();                      // a runt
            return;
        }
        if (hdr.ethernet.srcAddr[40:40] == 0) {
            smac.apply();                // a group address is never a station's: not learned
        }
        if (hdr.ethernet.dstAddr[40:40] == 1) {
            flood();                     // broadcast and multicast
            return;
        }
        dmac.apply();
        // Filtering: the destination is on the segment the frame came from.
        if (standard_metadata.mcast_grp == 0
                && standard_metadata.egress_spec == standard_metadata.ingress_port) {
            drop();
        }
    }
}

control MyEgress(inout headers_t hdr, inout metadata_t meta,
                 inout standard_metadata_t standard_metadata) {
    apply {
        // Never back out of the ingress port (the flood group holds every port).
        if (standard_metadata.egress_port == standard_metadata.ingress_port) {
            mark_to_drop(standard_metadata);
        }
    }
}

control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.ethernet);
    }
}

V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), MyComputeChecksum(), MyDeparser()) main;
