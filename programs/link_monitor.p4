/* -*- P4_16 -*- */
/*
 * link_monitor.p4 -- probe packets that collect link utilisation.
 *
 * What it does
 *   Ordinary IPv4 traffic is routed by longest prefix (MAC rewrite, TTL
 *   decrement, checksum update). In egress, every non-probe packet adds its
 *   length to byte_cnt_reg[egress port].
 *   Probe frames (EtherType 0x88B5) are source-routed and record what they
 *   see:
 *       probe_t         hop_cnt(8) fwd_cnt(8)
 *       probe_data_t[hop_cnt]   swid(8) port(8) byte_cnt(32)
 *                               last_time(48) cur_time(48)   -- newest first
 *       probe_fwd_t[fwd_cnt]    port(8)   -- output port for each next hop
 *   The parser walks both lists with loops driven by remaining-counts in
 *   metadata (at most MAX_HOPS = 10 entries each).
 *   Ingress sends a probe out of the port in probe_fwd[0], removes that
 *   entry (pop_front) and decrements fwd_cnt; a probe with no route left
 *   is dropped. In egress the probe gets a new probe_data entry in front
 *   (push_front(1) + setValid()): the egress port, the bytes sent on that
 *   port since the previous probe (byte_cnt_reg, then reset to 0), the
 *   time of the previous probe on that port (last_time_reg, 0 if none)
 *   and the current time (standard_metadata.egress_global_timestamp, which
 *   is then stored in last_time_reg). The switch id comes from the keyless
 *   table switch_id, whose default action the control plane sets. hop_cnt is
 *   incremented. Once MAX_HOPS entries are present nothing more is added.
 *   Frames with a parser error, and other non-IPv4 frames, are dropped.
 *
 * Tables and the entries the control plane is expected to install
 *   MyIngress.ipv4_lpm  key: hdr.ipv4.dstAddr (lpm)  default: drop()
 *     10.0.1.0/24 -> ipv4_forward(dstAddr = 00:00:00:00:01:01, port = 1)
 *     10.0.2.0/24 -> ipv4_forward(dstAddr = 00:00:00:00:02:02, port = 2)
 *   MyEgress.switch_id  keyless; default action set by the control plane:
 *     default_action = set_swid(swid = 7)
 *   Registers byte_cnt_reg (bit<32>) and last_time_reg (bit<48>), 512
 *   cells each, indexed by egress port, all 0 at start.
 *
 * Example packets, sent in this order (timestamps are microseconds since
 * the switch started and cannot be predicted: T1 and T2 are wildcards,
 * with T1 <= T2)
 *
 *   1. Data, in on port 1: Ethernet dst 00:00:00:00:01:00
 *      src 00:00:00:00:01:01 type 0x0800, IPv4 10.0.1.1 -> 10.0.2.2
 *      (ihl 5, diffserv 0, totalLen 28, id 1, flags 0, frag 0, TTL 64,
 *      protocol 17, checksum 0x63CE), UDP 1234 -> 80 length 8 checksum 0;
 *      42 bytes. Out of port 2 with Ethernet dst 00:00:00:00:02:02
 *      src 00:00:00:00:01:00, TTL 63, checksum 0x64CE.
 *      byte_cnt_reg[2] becomes 42.
 *        in : 00000000010000000000010108004500001C00010000401163CE
 *             0A0001010A00020204D2005000080000
 *        out: 00000000020200000000010008004500001C000100003F1164CE
 *             0A0001010A00020204D2005000080000
 *   2. Probe, in on port 1: Ethernet dst FF:FF:FF:FF:FF:FF
 *      src 00:00:00:00:01:01 type 0x88B5, hop_cnt 0, fwd_cnt 1, one route
 *      entry: port 2. Out of port 2: hop_cnt 1, fwd_cnt 0, one data entry
 *      { swid 7, port 2, byte_cnt 42, last_time 0, cur_time T1 }, no
 *      route entries. byte_cnt_reg[2] = 0, last_time_reg[2] = T1.
 *        in : FFFFFFFFFFFF00000000010188B5000102
 *        out: FFFFFFFFFFFF00000000010188B5 0100 07 02 0000002A
 *             000000000000 <T1: 6 bytes>
 *   3. The same probe again: out of port 2 with { swid 7, port 2,
 *      byte_cnt 0, last_time T1, cur_time T2 }.
 *        out: FFFFFFFFFFFF00000000010188B5 0100 07 02 00000000
 *             <T1: 6 bytes> <T2: 6 bytes>
 *   4. A probe with fwd_cnt 0 (no route): dropped.
 */

#include <core.p4>
#include <v1model.p4>

#define MAX_HOPS 10
#define MAX_PORTS 512

const bit<16> TYPE_IPV4  = 0x0800;
const bit<16> TYPE_PROBE = 0x88B5;

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

header probe_t {
    bit<8> hop_cnt;     // number of probe_data entries
    bit<8> fwd_cnt;     // number of probe_fwd entries
}

header probe_data_t {
    bit<8>  swid;
    bit<8>  port;
    bit<32> byte_cnt;
    bit<48> last_time;
    bit<48> cur_time;
}

header probe_fwd_t {
    bit<8> port;
}

struct parser_metadata_t {
    bit<8> data_left;
    bit<8> fwd_left;
}

struct metadata {
    parser_metadata_t parser_metadata;
}

struct headers {
    ethernet_t             ethernet;
    ipv4_t                 ipv4;
    probe_t                probe;
    probe_data_t[MAX_HOPS] probe_data;
    probe_fwd_t[MAX_HOPS]  probe_fwd;
}

// ---------------------------------------------------------------- Parser

parser MyParser(packet_in packet,
                out headers hdr,
                inout metadata meta,
                inout standard_metadata_t standard_metadata) {

    state start {
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            TYPE_IPV4:  parse_ipv4;
            TYPE_PROBE: parse_probe;
            default:    accept;
        }
    }

    state parse_ipv4 {
        packet.extract(hdr.ipv4);
        transition accept;
    }

    state parse_probe {
        packet.extract(hdr.probe);
        meta.parser_metadata.data_left = hdr.probe.hop_cnt;
        transition select(hdr.probe.hop_cnt) {
            0:       parse_fwd_start;
            default: parse_probe_data;
        }
    }

    state parse_probe_data {
        packet.extract(hdr.probe_data.next);
        meta.parser_metadata.data_left = meta.parser_metadata.data_left - 1;
        transition select(meta.parser_metadata.data_left) {
            0:       parse_fwd_start;
            default: parse_probe_data;
        }
    }

    state parse_fwd_start {
        meta.parser_metadata.fwd_left = hdr.probe.fwd_cnt;
        transition select(hdr.probe.fwd_cnt) {
            0:       accept;
            default: parse_probe_fwd;
        }
    }

    state parse_probe_fwd {
        packet.extract(hdr.probe_fwd.next);
        meta.parser_metadata.fwd_left = meta.parser_metadata.fwd_left - 1;
        transition select(meta.parser_metadata.fwd_left) {
            0:       accept;
            default: parse_probe_fwd;
        }
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

    // Follow the probe's own route and consume the entry used.
    action probe_next_hop() {
        standard_metadata.egress_spec = (egressSpec_t)hdr.probe_fwd[0].port;
        hdr.probe_fwd.pop_front(1);
        hdr.probe.fwd_cnt = hdr.probe.fwd_cnt - 1;
    }

    apply {
        if (standard_metadata.parser_error != error.NoError) {
            drop();
        } else if (hdr.probe.isValid()) {
            if (hdr.probe_fwd[0].isValid()) {
                probe_next_hop();
            } else {
                drop();
            }
        } else if (hdr.ipv4.isValid()) {
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

    // Bytes sent on each port since the last probe went out of it.
    register<bit<32>>(MAX_PORTS) byte_cnt_reg;
    // When the last probe went out of each port.
    register<bit<48>>(MAX_PORTS) last_time_reg;

    action set_swid(bit<8> swid) {
        hdr.probe_data[0].swid = swid;
    }

    table switch_id {
        actions = {
            set_swid;
            NoAction;
        }
        default_action = NoAction();
    }

    apply {
        bit<32> port_idx = (bit<32>)standard_metadata.egress_port;
        bit<32> byte_cnt;
        byte_cnt_reg.read(byte_cnt, port_idx);

        if (hdr.probe.isValid()) {
            if (hdr.probe.hop_cnt < MAX_HOPS) {
                bit<48> last_time;
                bit<48> cur_time = standard_metadata.egress_global_timestamp;
                last_time_reg.read(last_time, port_idx);

                hdr.probe_data.push_front(1);
                hdr.probe_data[0].setValid();
                hdr.probe_data[0].swid = 0;      // filled in by switch_id below
                hdr.probe_data[0].port = (bit<8>)standard_metadata.egress_port;
                hdr.probe_data[0].byte_cnt = byte_cnt;
                hdr.probe_data[0].last_time = last_time;
                hdr.probe_data[0].cur_time = cur_time;
                switch_id.apply();
                hdr.probe.hop_cnt = hdr.probe.hop_cnt + 1;

                // A new measurement interval starts now.
                byte_cnt_reg.write(port_idx, 0);
                last_time_reg.write(port_idx, cur_time);
            }
        } else {
            byte_cnt_reg.write(port_idx, byte_cnt + standard_metadata.packet_length);
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
        packet.emit(hdr.probe);
        packet.emit(hdr.probe_data);
        packet.emit(hdr.probe_fwd);
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
