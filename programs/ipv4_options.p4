/* -*- P4_16 -*- */
/*
 * ipv4_options.p4 -- multi-hop route inspection (MRI) in an IPv4 option.
 *
 * What it does
 *   Hosts send IPv4 packets carrying one IPv4 option of type 31 (copy 0,
 *   class 2, number 31 -> option byte 0x5F):
 *       ipv4_option_t : copyFlag(1) optClass(2) option(5) optionLength(8)
 *       mri_t         : count(16)         -- number of switch ids below
 *       switch_t[count]: swid(32)         -- newest first
 *   optionLength counts the whole option: 4 + 4 * count bytes.
 *   The parser checks ihl >= 5 with verify (error.IPHeaderTooShort),
 *   and walks the switch ids with a loop over swtraces.next, driven by a
 *   remaining-count in metadata. Packets with a parser error are dropped,
 *   and so are packets whose first option is not MRI.
 *   Ingress routes IPv4 by longest prefix (ipv4_forward rewrites MACs and
 *   decrements the TTL). In egress, a packet carrying MRI gets this
 *   switch's id pushed in front of the list (push_front(1) + setValid()):
 *   count += 1, optionLength += 4, ihl += 1, totalLen += 4. Nothing is
 *   added once the list holds MAX_HOPS (9) ids, which is also what fits in
 *   the 40 bytes of IPv4 options.
 *   The header checksum is recomputed over the whole header including the
 *   option (the incoming checksum is not verified). The checksum field list
 *   names the option, mri and all nine swtraces elements; the fields of
 *   headers that are not valid are left out of the checksum input (BMv2
 *   behaviour), so exactly the bytes present in the header are summed.
 *
 * Tables and the entries the control plane is expected to install
 *   MyIngress.ipv4_lpm  key: hdr.ipv4.dstAddr (lpm)   default: drop()
 *     10.0.1.0/24 -> ipv4_forward(dstAddr = 00:00:00:00:01:01, port = 1)
 *     10.0.2.0/24 -> ipv4_forward(dstAddr = 00:00:00:00:02:02, port = 2)
 *   MyEgress.swtrace    keyless; the control plane sets its default action:
 *     default_action = add_swtrace(swid = 7)
 *
 * Example packets (in on port 1; Ethernet dst 00:00:00:00:01:00
 * src 00:00:00:00:01:01 type 0x0800; IPv4 diffserv 0, id 1, flags 0,
 * frag 0, TTL 64, protocol 17, 10.0.1.1 -> 10.0.2.2; after the IPv4
 * header an 8-byte UDP header 1234 -> 80 length 8 checksum 0. All leave
 * on port 2 with Ethernet dst 00:00:00:00:02:02 src 00:00:00:00:01:00 and
 * TTL 63.)
 *
 *   1. MRI with no ids yet: ihl 6, totalLen 32, checksum 0x03C6, option
 *      5F 04, count 0.
 *      Out: ihl 7, totalLen 36, checksum 0x03B6, option 5F 08, count 1,
 *      swid 7.
 *        in : 00000000010000000000010108004600002000010000401103C6
 *             0A0001010A0002025F04000004D2005000080000
 *        out: 000000000202000000000100080047000024000100003F1103B6
 *             0A0001010A0002025F0800010000000704D2005000080000
 *
 *   2. MRI already holding one id (3): ihl 7, totalLen 36, checksum
 *      0x02BA, option 5F 08, count 1, swid 3.
 *      Out: ihl 8, totalLen 40, checksum 0x02AA, option 5F 0C, count 2,
 *      swids 7, 3.
 *        in : 00000000010000000000010108004700002400010000401102BA
 *             0A0001010A0002025F0800010000000304D2005000080000
 *        out: 000000000202000000000100080048000028000100003F1102AA
 *             0A0001010A0002025F0C0002000000070000000304D2005000080000
 *
 *   3. No options (ihl 5, totalLen 28, checksum 0x63CE): routed like
 *      basic IPv4 (TTL 63, checksum 0x64CE), no trace added.
 *        in : 00000000010000000000010108004500001C00010000401163CE
 *             0A0001010A00020204D2005000080000
 *        out: 00000000020200000000010008004500001C000100003F1164CE
 *             0A0001010A00020204D2005000080000
 *
 *   4. ihl 4: verify fails, parser_error = error.IPHeaderTooShort,
 *      ingress drops the packet.
 *
 *   5. ihl 6 with an option other than MRI (e.g. option byte 0x94, router
 *      alert): dropped.
 */

#include <core.p4>
#include <v1model.p4>

#define MAX_HOPS 9

const bit<16> TYPE_IPV4       = 0x0800;
const bit<5>  IPV4_OPTION_MRI = 31;

// ---------------------------------------------------------------- Headers

typedef bit<9>  egressSpec_t;
typedef bit<48> macAddr_t;
typedef bit<32> ip4Addr_t;
typedef bit<32> switchID_t;

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

header ipv4_option_t {
    bit<1> copyFlag;
    bit<2> optClass;
    bit<5> option;
    bit<8> optionLength;
}

header mri_t {
    bit<16> count;
}

header switch_t {
    switchID_t swid;
}

error { IPHeaderTooShort }

struct parser_metadata_t {
    bit<16> remaining;
}

struct metadata {
    parser_metadata_t parser_metadata;
}

struct headers {
    ethernet_t         ethernet;
    ipv4_t             ipv4;
    ipv4_option_t      ipv4_option;
    mri_t              mri;
    switch_t[MAX_HOPS] swtraces;
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
        verify(hdr.ipv4.ihl >= 5, error.IPHeaderTooShort);
        transition select(hdr.ipv4.ihl) {
            5:       accept;
            default: parse_ipv4_option;
        }
    }

    state parse_ipv4_option {
        packet.extract(hdr.ipv4_option);
        transition select(hdr.ipv4_option.option) {
            IPV4_OPTION_MRI: parse_mri;
            // Other options are not supported; ingress drops them.
            default:         accept;
        }
    }

    state parse_mri {
        packet.extract(hdr.mri);
        meta.parser_metadata.remaining = hdr.mri.count;
        transition select(meta.parser_metadata.remaining) {
            0:       accept;
            default: parse_swtrace;
        }
    }

    // One iteration per switch id. More than MAX_HOPS ids make .next run
    // past the stack: error.StackOutOfBounds.
    state parse_swtrace {
        packet.extract(hdr.swtraces.next);
        meta.parser_metadata.remaining = meta.parser_metadata.remaining - 1;
        transition select(meta.parser_metadata.remaining) {
            0:       accept;
            default: parse_swtrace;
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

    apply {
        if (standard_metadata.parser_error != error.NoError) {
            // Malformed header (e.g. ihl < 5): do not forward.
            drop();
        } else if (hdr.ipv4_option.isValid() && !hdr.mri.isValid()) {
            // An option other than MRI: its bytes are not parsed, so the
            // header checksum could not be recomputed over them.
            drop();
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

    action add_swtrace(switchID_t swid) {
        hdr.mri.count = hdr.mri.count + 1;
        // push_front leaves element 0 invalid: it must be made valid
        // before it is filled in.
        hdr.swtraces.push_front(1);
        hdr.swtraces[0].setValid();
        hdr.swtraces[0].swid = swid;

        // 4 more bytes of option, i.e. one more 32-bit word of header.
        hdr.ipv4.ihl = hdr.ipv4.ihl + 1;
        hdr.ipv4_option.optionLength = hdr.ipv4_option.optionLength + 4;
        hdr.ipv4.totalLen = hdr.ipv4.totalLen + 4;
    }

    table swtrace {
        actions = {
            add_swtrace;
            NoAction;
        }
        default_action = NoAction();
    }

    apply {
        if (hdr.mri.isValid() && hdr.mri.count < MAX_HOPS) {
            swtrace.apply();
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
              hdr.ipv4.dstAddr,
              // Option bytes; invalid headers contribute nothing.
              hdr.ipv4_option.copyFlag,
              hdr.ipv4_option.optClass,
              hdr.ipv4_option.option,
              hdr.ipv4_option.optionLength,
              hdr.mri.count,
              hdr.swtraces[0].swid,
              hdr.swtraces[1].swid,
              hdr.swtraces[2].swid,
              hdr.swtraces[3].swid,
              hdr.swtraces[4].swid,
              hdr.swtraces[5].swid,
              hdr.swtraces[6].swid,
              hdr.swtraces[7].swid,
              hdr.swtraces[8].swid },
            hdr.ipv4.hdrChecksum,
            HashAlgorithm.csum16);
    }
}

// ---------------------------------------------------------------- Deparser

control MyDeparser(packet_out packet, in headers hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.ipv4);
        packet.emit(hdr.ipv4_option);
        packet.emit(hdr.mri);
        packet.emit(hdr.swtraces);
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
