/* -*- P4_16 -*- */
/*
 * externs.p4 -- a tour of the v1model externs.
 *
 * Constructs shown
 *   counter (indexed), meter with execute_meter into a colour, register
 *   read-modify-write, random, digest of a struct to the control plane,
 *   clone (ingress to egress) to a clone session,
 *   resubmit_preserving_field_list and recirculate_preserving_field_list
 *   with @field_list metadata and a metadata loop counter, log_msg with
 *   and without data, assert, truncate.
 *
 * What it does
 *   Test frames carry, after Ethernet (EtherType 0x88B6), a 12-byte header
 *       ext_t: op(8) resubmits(8) recircs(8) color(8) seen(32) rand(8)
 *              is_clone(8) reserved(16)
 *   followed by any payload. op is the sender's request; the other fields
 *   are written by the switch. Frames without it are dropped.
 *   On every pass through ingress (p = the port the packet first arrived
 *   on, carried in meta.in_port, which is in both field lists):
 *     - port_counter[p] counts the packet (packets and bytes);
 *     - port_meter[p] gives a colour (GREEN unless rates are configured);
 *       RED packets are dropped;
 *     - pkt_seen[p] (register) is incremented and the new value is written
 *       to ext.seen;
 *     - random(0..255) goes into ext.rand (unpredictable: wildcard it);
 *     - ext.color, ext.resubmits and ext.recircs are filled from metadata;
 *     - the packet is sent to port 2;
 *     - on the first pass only (instance_type 0), a digest
 *       { srcAddr, ingress_port } is sent to the control plane (receiver 1).
 *   op = 1: the packet is resubmitted once. The resubmitted packet is the
 *           original one, parsed again; only meta.resubmits (field list 1)
 *           survives, so the forwarded copy shows resubmits = 1.
 *   op = 2: egress recirculates the packet twice. The deparsed packet is
 *           parsed again with only meta.recircs (field list 2) kept; the
 *           third pass is forwarded with recircs = 2.
 *   op = 3: ingress also clones the packet to clone session 100. The clone
 *           is the original packet as received (parsed again); in egress it
 *           gets is_clone = 1 and is truncated to 26 bytes (Ethernet + ext).
 *   Each ingress and egress pass logs a line with log_msg; assert checks
 *   the loop counters never exceed their bounds.
 *
 * Tables and other control-plane state
 *   No tables. Clone session 100 -> port 5 (mirroring_add 100 5).
 *   Counter port_counter and meter port_meter: 512 cells each, index =
 *   ingress port, no meter rates configured. Register pkt_seen: bit<32> x
 *   512, all 0 at start. Digest receiver 1: learn_t { mac, port }.
 *
 * Example packets, sent in this order on port 1 (Ethernet
 * dst 00:00:00:00:00:02 src 00:00:00:00:00:01 type 0x88B6; ext with the
 * given op and all other fields 0; payload 00 11 22 33 44 55 66 77).
 * In outputs, "**" is the random byte.
 *
 *   1. op 0. Out of port 2 with seen = 1. One digest
 *      (00:00:00:00:00:01, 1).
 *        in : 00000000000200000000000188B6 00000000 00000000 00 00 0000
 *             0011223344556677
 *        out: 00000000000200000000000188B6 00000000 00000001 ** 00 0000
 *             0011223344556677
 *   2. op 1. The first pass (seen = 2) is resubmitted and not sent; the
 *      second pass is sent out of port 2 with resubmits = 1, seen = 3.
 *      One digest (first pass only).
 *        in : 00000000000200000000000188B6 01000000 00000000 00 00 0000
 *             0011223344556677
 *        out: 00000000000200000000000188B6 01010000 00000003 ** 00 0000
 *             0011223344556677
 *   3. op 2. Passes 1 and 2 (seen 4, 5) are recirculated from egress;
 *      pass 3 is sent out of port 2 with recircs = 2, seen = 6.
 *        in : 00000000000200000000000188B6 02000000 00000000 00 00 0000
 *             0011223344556677
 *        out: 00000000000200000000000188B6 02000200 00000006 ** 00 0000
 *             0011223344556677
 *   4. op 3. Out of port 2 with seen = 7 (as for op 0), and a clone out of
 *      port 5: the input's header fields with is_clone = 1, cut to 26
 *      bytes (the rand byte of the clone is 00: the clone is re-parsed
 *      from the original packet):
 *        out port 2: 00000000000200000000000188B6 03000000 00000007 ** 00
 *                    0000 0011223344556677
 *        out port 5: 00000000000200000000000188B6 03000000 00000000 00 01
 *                    0000
 *   After these, port_counter[1] = 7 packets (one per ingress pass).
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_EXT = 0x88B6;

const bit<8>  OP_FORWARD     = 0;
const bit<8>  OP_RESUBMIT    = 1;
const bit<8>  OP_RECIRCULATE = 2;
const bit<8>  OP_CLONE       = 3;

const bit<8>  MAX_RESUBMITS = 1;
const bit<8>  MAX_RECIRCS   = 2;

// Field list ids; they must match the @field_list annotations below.
const bit<8>  FL_RESUBMIT = 1;
const bit<8>  FL_RECIRC   = 2;

const bit<32> CLONE_SESSION = 100;
const bit<32> TRUNC_BYTES   = 26;    // Ethernet (14) + ext_t (12)
const bit<9>  OUT_PORT      = 2;
const bit<32> DIGEST_LEARN  = 1;

// standard_metadata.instance_type values used by BMv2.
const bit<32> INSTANCE_NORMAL        = 0;
const bit<32> INSTANCE_INGRESS_CLONE = 1;

// ---------------------------------------------------------------- Headers

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header ext_t {
    bit<8>  op;
    bit<8>  resubmits;
    bit<8>  recircs;
    bit<8>  color;
    bit<32> seen;
    bit<8>  rand;
    bit<8>  is_clone;
    bit<16> reserved;
}

struct learn_t {
    bit<48> mac;
    bit<9>  port;
}

struct metadata_t {
    @field_list(1)          // FL_RESUBMIT: kept across resubmission
    bit<8> resubmits;
    @field_list(2)          // FL_RECIRC: kept across recirculation
    bit<8> recircs;
    // The port the packet first arrived on, kept across both (the
    // standard metadata of a resubmitted or recirculated packet is reset).
    @field_list(1, 2)
    bit<9> in_port;
    bit<2> color;
    bit<8> rand;
}

struct headers_t {
    ethernet_t ethernet;
    ext_t      ext;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers_t hdr,
                inout metadata_t meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            TYPE_EXT: parse_ext;
            default:  accept;
        }
    }

    state parse_ext {
        packet.extract(hdr.ext);
        transition accept;
    }
}

// ---------------------------------------------------------------- Checksum verification

control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

// ---------------------------------------------------------------- Ingress

control MyIngress(inout headers_t hdr,
                  inout metadata_t meta,
                  inout standard_metadata_t standard_metadata) {

    counter(512, CounterType.packets_and_bytes) port_counter;
    meter(512, MeterType.packets) port_meter;
    register<bit<32>>(512) pkt_seen;

    action drop() {
        mark_to_drop(standard_metadata);
    }

    apply {
        if (!hdr.ext.isValid()) {
            log_msg("externs: not an ext frame, dropped");
            drop();
            return;
        }

        log_msg("externs: ingress port={} instance_type={}",
                { standard_metadata.ingress_port, standard_metadata.instance_type });
        assert(meta.resubmits <= MAX_RESUBMITS);

        if (standard_metadata.instance_type == INSTANCE_NORMAL) {
            meta.in_port = standard_metadata.ingress_port;
        }
        bit<32> idx = (bit<32>)meta.in_port;

        port_counter.count(idx);

        port_meter.execute_meter(idx, meta.color);
        if (meta.color == V1MODEL_METER_COLOR_RED) {
            drop();
            return;
        }

        // Read-modify-write of the per-port packet count.
        bit<32> seen;
        pkt_seen.read(seen, idx);
        seen = seen + 1;
        pkt_seen.write(idx, seen);

        random(meta.rand, 8w0, 8w255);

        hdr.ext.seen      = seen;
        hdr.ext.rand      = meta.rand;
        hdr.ext.color     = (bit<8>)meta.color;
        hdr.ext.resubmits = meta.resubmits;
        hdr.ext.recircs   = meta.recircs;

        standard_metadata.egress_spec = OUT_PORT;

        // Tell the control plane where the sender is, once per packet.
        if (standard_metadata.instance_type == INSTANCE_NORMAL) {
            digest<learn_t>(DIGEST_LEARN,
                            { hdr.ethernet.srcAddr, standard_metadata.ingress_port });
        }

        if (hdr.ext.op == OP_RESUBMIT && meta.resubmits < MAX_RESUBMITS) {
            // The loop counter travels with the resubmitted packet.
            meta.resubmits = meta.resubmits + 1;
            resubmit_preserving_field_list(FL_RESUBMIT);
        } else if (hdr.ext.op == OP_CLONE) {
            clone(CloneType.I2E, CLONE_SESSION);
            log_msg("externs: cloned to session 100");
        }
    }
}

// ---------------------------------------------------------------- Egress

control MyEgress(inout headers_t hdr,
                 inout metadata_t meta,
                 inout standard_metadata_t standard_metadata) {
    apply {
        log_msg("externs: egress port={}", { standard_metadata.egress_port });

        if (standard_metadata.instance_type == INSTANCE_INGRESS_CLONE) {
            // The copy only needs the headers.
            hdr.ext.is_clone = 1;
            truncate(TRUNC_BYTES);
            return;
        }

        assert(meta.recircs <= MAX_RECIRCS);
        if (hdr.ext.op == OP_RECIRCULATE && meta.recircs < MAX_RECIRCS) {
            meta.recircs = meta.recircs + 1;
            recirculate_preserving_field_list(FL_RECIRC);
        }
    }
}

// ---------------------------------------------------------------- Checksum update

control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

// ---------------------------------------------------------------- Deparser

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.ext);
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
