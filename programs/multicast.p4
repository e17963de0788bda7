/* -*- P4_16 -*- */
/*
 * multicast.p4 -- an L2 switch that floods with a multicast group.
 *
 * What it does
 *   Frames are switched on their destination MAC address. Known addresses
 *   are sent to one port (forward). Broadcast frames, and frames to
 *   addresses the table does not know (the default action), are flooded:
 *   broadcast() sets standard_metadata.mcast_grp = 1 and the traffic
 *   manager makes one copy per port of group 1. In egress, a copy whose
 *   egress_port equals the port the frame came in on is dropped, so the
 *   sender never gets its own frame back (this also stops a unicast frame
 *   from being sent back out of its ingress port). Frames are never
 *   modified. Runts too short for an Ethernet header are dropped.
 *
 * Tables, entries and other control-plane state
 *   MyIngress.mac_lookup  key: hdr.ethernet.dstAddr (exact)
 *                         default: broadcast()
 *     00:00:00:00:00:01 -> forward(port = 1)
 *     00:00:00:00:00:02 -> forward(port = 2)
 *     00:00:00:00:00:03 -> forward(port = 3)
 *     00:00:00:00:00:04 -> forward(port = 4)
 *     FF:FF:FF:FF:FF:FF -> broadcast()
 *   Multicast group 1 (packet replication engine): ports 1, 2, 3, 4
 *   (one node, rid 1).
 *
 * Example packets (payload after the Ethernet header: DE AD BE EF;
 * EtherType 0x88B5; copies are byte-for-byte identical to the input and
 * their relative order across ports is not specified)
 *
 *   1. In on port 1: dst 00:00:00:00:00:02 src 00:00:00:00:00:01.
 *      One copy out of port 2.
 *        in/out: 00000000000200000000000188B5DEADBEEF
 *
 *   2. In on port 1: dst FF:FF:FF:FF:FF:FF src 00:00:00:00:00:01.
 *      Copies out of ports 2, 3 and 4; the copy for port 1 is pruned in
 *      egress.
 *        in/out: FFFFFFFFFFFF00000000000188B5DEADBEEF
 *
 *   3. In on port 3: dst 00:00:00:00:00:09 (unknown) src
 *      00:00:00:00:00:03. Default action broadcast(): copies out of ports
 *      1, 2 and 4.
 *        in/out: 00000000000900000000000388B5DEADBEEF
 *
 *   4. In on port 1: dst 00:00:00:00:00:01 src 00:00:00:00:00:05.
 *      forward(1) sends it back to port 1, where egress drops it: no
 *      output.
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> FLOOD_GROUP = 1;

// ---------------------------------------------------------------- Headers

typedef bit<9>  egressSpec_t;
typedef bit<48> macAddr_t;

header ethernet_t {
    macAddr_t dstAddr;
    macAddr_t srcAddr;
    bit<16>   etherType;
}

struct metadata {
    /* nothing needed */
}

struct headers {
    ethernet_t ethernet;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers hdr,
                inout metadata meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        packet.extract(hdr.ethernet);
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

    action forward(egressSpec_t port) {
        standard_metadata.egress_spec = port;
    }

    action broadcast() {
        standard_metadata.mcast_grp = FLOOD_GROUP;
    }

    table mac_lookup {
        key = {
            hdr.ethernet.dstAddr: exact;
        }
        actions = {
            forward;
            broadcast;
            drop;
        }
        size = 1024;
        // Unknown destinations are flooded, like a learning switch
        // before it has learnt anything.
        default_action = broadcast();
    }

    apply {
        if (hdr.ethernet.isValid()) {
            mac_lookup.apply();
        } else {
            drop();
        }
    }
}

// ---------------------------------------------------------------- Egress

control MyEgress(inout headers hdr,
                 inout metadata meta,
                 inout standard_metadata_t standard_metadata) {

    action drop() {
        mark_to_drop(standard_metadata);
    }

    apply {
        // Never send a frame back out of the port it arrived on.
        if (standard_metadata.egress_port == standard_metadata.ingress_port) {
            drop();
        }
    }
}

// ---------------------------------------------------------------- Checksum update

control MyComputeChecksum(inout headers hdr, inout metadata meta) {
    apply { }
}

// ---------------------------------------------------------------- Deparser

control MyDeparser(packet_out packet, in headers hdr) {
    apply {
        packet.emit(hdr.ethernet);
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
