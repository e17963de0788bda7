/* -*- P4_16 -*- */
/*
 * parser_features.p4 -- a tour of parser constructs; the output port
 * tells which path the parser took.
 *
 * Constructs shown
 *   select on a range (..), on a value/mask (&&&), on a tuple of keys with
 *   _ wildcards, with and without default (a select without default that
 *   matches nothing ends in error.NoMatch), lookahead<T>() with member
 *   access in a tuple select, advance() to skip bytes, a sub-parser
 *   declared as its own parser, instantiated in the main parser and
 *   applied from a state, verify() with a program-defined error, and
 *   standard_metadata.parser_error read in ingress.
 *
 * What it does
 *   Ethernet's type/length field decides:
 *     0x0000 .. 0x05DC       802.3 frame (a length): an LLC header follows
 *     0x8100 &&& 0xEFFF      a VLAN tag (matches 0x8100 and 0x9100)
 *     0x0800                 IPv4, parsed by the sub-parser IpParser
 *     0x88B5                 a 4-byte tag (version 8, flags 8, nextType 16)
 *     anything else          nothing more is parsed
 *   VLAN: inner type 0x0800 continues with IPv4, 0x0806 stops there;
 *   there is no default, so any other inner type is error.NoMatch.
 *   Tag: peeked at with lookahead<tag_t>() (version, nextType):
 *     (1, 0x0800) the tag is skipped with advance(32) -- it is removed
 *                 from the packet -- and IPv4 is parsed; ingress then
 *                 sets the EtherType to 0x0800;
 *     (1, _)      the tag stays unparsed (it is re-emitted as payload);
 *     default     verify(false, error.UnknownTagVersion).
 *   IpParser extracts IPv4 and, for unfragmented headers without options
 *   (tuple select on ihl, protocol, fragOffset), TCP or UDP.
 *   Ingress picks the port:
 *     parser error: PacketTooShort -> 10, NoMatch -> 11,
 *                   UnknownTagVersion -> 12, any other error -> 13
 *     otherwise:    LLC -> 1, VLAN -> 2, TCP -> 3, UDP -> 4,
 *                   other IPv4 -> 5, anything else -> 6
 *   Apart from the stripped tag (and the EtherType rewritten with it),
 *   packets leave exactly as they arrived: after a parser error the
 *   headers extracted so far are re-emitted, followed by the unparsed rest.
 *
 * Tables and entries
 *   None.
 *
 * Example packets (in on port 0; Ethernet src 00:00:00:00:00:01, dst
 * 00:00:00:00:00:FE unless noted; IPv4 is ihl 5, diffserv 0, id 1,
 * flags 0, TTL 64, 10.0.0.1 -> 10.0.0.2 with a correct checksum; TCP is
 * 1234 -> 80, seq 0, ack 0, dataOffset 5, flags 0x02, window 0x2000;
 * UDP is 1234 -> 53, length 8, checksum 0). Every output below is
 * byte-for-byte the input, except example 7.
 *
 *   1. dst 01:80:C2:00:00:00, length 0x0026, LLC 42 42 03, 4 zero bytes
 *      -> port 1.
 *        0180C2000000000000000001002642420300000000
 *   2. type 0x9100 (matched by the mask), VLAN vid 5 inner type 0x0806,
 *      4 bytes 00 01 08 00 -> port 2.
 *        0000000000FE00000000000191000005080600010800
 *   3. type 0x8100, VLAN vid 5 inner type 0x86DD, 4 bytes 60 00 00 00
 *      -> error.NoMatch -> port 11.
 *        0000000000FE0000000000018100000586DD60000000
 *   4. IPv4 (totalLen 40, protocol 6, checksum 0x66CD) + TCP -> port 3.
 *        0000000000FE00000000000108004500002800010000400666CD
 *        0A0000010A00000204D2005000000000000000005002200000000000
 *   5. IPv4 (totalLen 28, protocol 17, checksum 0x66CE) + UDP -> port 4.
 *        0000000000FE00000000000108004500001C00010000401166CE
 *        0A0000010A00000204D2003500080000
 *   6. As 5 but fragOffset 100 (checksum 0x666A): the UDP header is not
 *      parsed -> port 5.
 *        0000000000FE00000000000108004500001C000100644011666A
 *        0A0000010A00000204D2003500080000
 *   7. type 0x88B5, tag 01 00 08 00, then the IPv4/UDP packet of 5.
 *      The tag is skipped -> port 4, output is exactly packet 5:
 *        in : 0000000000FE00000000000188B5010008004500001C00010000
 *             401166CE0A0000010A00000204D2003500080000
 *        out: 0000000000FE00000000000108004500001C00010000401166CE
 *             0A0000010A00000204D2003500080000
 *   8. As 7 but tag version 2 -> error.UnknownTagVersion -> port 12.
 *        0000000000FE00000000000188B5020008004500001C00010000401166
 *        CE0A0000010A00000204D2003500080000
 *   9. type 0x0800 followed by only 10 bytes of IPv4 header ->
 *      error.PacketTooShort -> port 10.
 *        0000000000FE00000000000108004500001C000100004011
 *   10. type 0x88B5, tag 01 00 86 DD, 4 bytes 60 00 00 00: the tag is
 *      left unparsed -> port 6.
 *        0000000000FE00000000000188B5010086DD60000000
 */

#include <core.p4>
#include <v1model.p4>

const bit<16> TYPE_IPV4 = 0x0800;
const bit<16> TYPE_ARP  = 0x0806;
const bit<16> TYPE_VLAN = 0x8100;
const bit<16> TYPE_TAG  = 0x88B5;
const bit<8>  TAG_V1    = 1;
const bit<32> TAG_BITS  = 32;

const bit<8>  PROTO_TCP = 6;
const bit<8>  PROTO_UDP = 17;

const bit<9>  PORT_LLC         = 1;
const bit<9>  PORT_VLAN        = 2;
const bit<9>  PORT_TCP         = 3;
const bit<9>  PORT_UDP         = 4;
const bit<9>  PORT_IPV4        = 5;
const bit<9>  PORT_OTHER       = 6;
const bit<9>  PORT_ERR_SHORT   = 10;
const bit<9>  PORT_ERR_NOMATCH = 11;
const bit<9>  PORT_ERR_TAG     = 12;
const bit<9>  PORT_ERR_OTHER   = 13;

error { UnknownTagVersion }

// ---------------------------------------------------------------- Headers

header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

header llc_t {
    bit<8> dsap;
    bit<8> ssap;
    bit<8> ctrl;       // LLC control field ("control" is a keyword)
}

header vlan_t {
    bit<3>  pcp;
    bit<1>  dei;
    bit<12> vid;
    bit<16> etherType;
}

// Never extracted: only looked at with lookahead, then skipped.
header tag_t {
    bit<8>  version;
    bit<8>  flags;
    bit<16> nextType;
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

header tcp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<32> seqNo;
    bit<32> ackNo;
    bit<4>  dataOffset;
    bit<4>  res;
    bit<8>  flags;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgentPtr;
}

header udp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<16> length_;
    bit<16> checksum;
}

struct metadata_t {
    bit<1> tag_stripped;
}

struct headers_t {
    ethernet_t ethernet;
    llc_t      llc;
    vlan_t     vlan;
    ipv4_t     ipv4;
    tcp_t      tcp;
    udp_t      udp;
}

// ---------------------------------------------------------------- Parsers

// IPv4 and its transport header, as a reusable sub-parser.
parser IpParser(packet_in pkt,
                out ipv4_t ipv4,
                out tcp_t tcp,
                out udp_t udp) {

    state start {
        pkt.extract(ipv4);
        // The transport header is only where we expect it in the first
        // fragment of a header without options.
        transition select(ipv4.ihl, ipv4.protocol, ipv4.fragOffset) {
            (4w5, PROTO_TCP, 13w0): parse_tcp;
            (4w5, PROTO_UDP, 13w0): parse_udp;
            (_, _, _):              accept;
        }
    }

    state parse_tcp {
        pkt.extract(tcp);
        transition accept;
    }

    state parse_udp {
        pkt.extract(udp);
        transition accept;
    }
}

parser MyParser(packet_in packet,
                out headers_t hdr,
                inout metadata_t meta,
                inout standard_metadata_t standard_metadata) {

    IpParser() ip_parser;

    state start {
        meta.tag_stripped = 0;
        packet.extract(hdr.ethernet);
        transition select(hdr.ethernet.etherType) {
            // Values up to 1500 are an 802.3 length, not an EtherType.
            16w0x0000 .. 16w0x05DC: parse_llc;
            // Bit 12 is "don't care": both 0x8100 and 0x9100 match.
            TYPE_VLAN &&& 16w0xEFFF: parse_vlan;
            TYPE_IPV4:               parse_ipv4;
            TYPE_TAG:                parse_tag;
            default:                 accept;
        }
    }

    state parse_llc {
        packet.extract(hdr.llc);
        transition accept;
    }

    state parse_vlan {
        packet.extract(hdr.vlan);
        // Deliberately no default: other inner types end in NoMatch.
        transition select(hdr.vlan.etherType) {
            TYPE_IPV4: parse_ipv4;
            TYPE_ARP:  accept;
        }
    }

    state parse_tag {
        // Decide from the tag's contents without consuming it.
        transition select(packet.lookahead<tag_t>().version,
                          packet.lookahead<tag_t>().nextType) {
            (TAG_V1, TYPE_IPV4): strip_tag;
            (TAG_V1, _):         accept;
            default:             bad_tag;
        }
    }

    state strip_tag {
        // Skipped bits are consumed but not extracted, so the deparser
        // does not put them back: the tag disappears from the packet.
        packet.advance(TAG_BITS);
        meta.tag_stripped = 1;
        transition parse_ipv4;
    }

    state bad_tag {
        verify(false, error.UnknownTagVersion);
        transition accept;   // not reached: verify(false, ...) rejects
    }

    state parse_ipv4 {
        ip_parser.apply(packet, hdr.ipv4, hdr.tcp, hdr.udp);
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

    action send(bit<9> port) {
        standard_metadata.egress_spec = port;
    }

    apply {
        // Ingress runs even when the parser failed; the error says why.
        if (standard_metadata.parser_error != error.NoError) {
            if (standard_metadata.parser_error == error.PacketTooShort) {
                send(PORT_ERR_SHORT);
            } else if (standard_metadata.parser_error == error.NoMatch) {
                send(PORT_ERR_NOMATCH);
            } else if (standard_metadata.parser_error == error.UnknownTagVersion) {
                send(PORT_ERR_TAG);
            } else {
                send(PORT_ERR_OTHER);
            }
            return;
        }

        if (meta.tag_stripped == 1) {
            hdr.ethernet.etherType = TYPE_IPV4;
        }

        if (hdr.llc.isValid()) {
            send(PORT_LLC);
        } else if (hdr.vlan.isValid()) {
            send(PORT_VLAN);
        } else if (hdr.tcp.isValid()) {
            send(PORT_TCP);
        } else if (hdr.udp.isValid()) {
            send(PORT_UDP);
        } else if (hdr.ipv4.isValid()) {
            send(PORT_IPV4);
        } else {
            send(PORT_OTHER);
        }
    }
}

// ---------------------------------------------------------------- Egress

control MyEgress(inout headers_t hdr,
                 inout metadata_t meta,
                 inout standard_metadata_t standard_metadata) {
    apply { }
}

// ---------------------------------------------------------------- Checksum update

control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { }
}

// ---------------------------------------------------------------- Deparser

control MyDeparser(packet_out packet, in headers_t hdr) {
    apply {
        packet.emit(hdr.ethernet);
        packet.emit(hdr.llc);
        packet.emit(hdr.vlan);
        packet.emit(hdr.ipv4);
        packet.emit(hdr.tcp);
        packet.emit(hdr.udp);
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
