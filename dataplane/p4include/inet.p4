/* inet.p4: the Internet protocol headers, declared once for all of dataplane.
 *
 * P4 programs include it (#include <inet.p4>); the host stacks of the
 * topology runner and the packet dissector of traces read the same
 * declarations (dataplane/protocols/library.py), so there is one source of
 * truth for every layout. Field widths and order are those of the RFCs; names
 * follow the RFCs, spelled as P4 identifiers. Fields that the RFCs define as
 * a single "flags" word are split into their bits where programs test them.
 *
 * Variable-length parts (IPv4 and TCP options, IPv6 extension header data,
 * SCTP chunk values) are separate headers with one varbit field, extracted
 * with the two-argument extract(). */

#ifndef _DATAPLANE_INET_P4_
#define _DATAPLANE_INET_P4_

/* ------------------------------------------------------------------ numbers */

/* EtherTypes (IEEE 802, IANA). */
const bit<16> ETHERTYPE_IPV4 = 0x0800;
const bit<16> ETHERTYPE_ARP  = 0x0806;
const bit<16> ETHERTYPE_VLAN = 0x8100;
const bit<16> ETHERTYPE_IPV6 = 0x86DD;

/* IP protocol numbers (IANA "Assigned Internet Protocol Numbers"). */
const bit<8> IP_PROTO_HOPOPT = 0;
const bit<8> IP_PROTO_ICMP   = 1;
const bit<8> IP_PROTO_TCP    = 6;
const bit<8> IP_PROTO_UDP    = 17;
const bit<8> IP_PROTO_IPV6_ROUTE = 43;
const bit<8> IP_PROTO_IPV6_FRAG  = 44;
const bit<8> IP_PROTO_ICMPV6 = 58;
const bit<8> IP_PROTO_IPV6_NONXT = 59;
const bit<8> IP_PROTO_IPV6_OPTS  = 60;
const bit<8> IP_PROTO_SCTP   = 132;

/* ARP operations (RFC 826). */
const bit<16> ARP_REQUEST = 1;
const bit<16> ARP_REPLY   = 2;

/* ICMP types (RFC 792) and codes. */
const bit<8> ICMP_ECHO_REPLY        = 0;
const bit<8> ICMP_DEST_UNREACHABLE  = 3;
const bit<8> ICMP_SOURCE_QUENCH     = 4;
const bit<8> ICMP_REDIRECT          = 5;
const bit<8> ICMP_ECHO_REQUEST      = 8;
const bit<8> ICMP_TIME_EXCEEDED     = 11;
const bit<8> ICMP_PARAMETER_PROBLEM = 12;

/* ICMPv6 types (RFC 4443, RFC 4861). */
const bit<8> ICMPV6_DEST_UNREACHABLE  = 1;
const bit<8> ICMPV6_PACKET_TOO_BIG    = 2;
const bit<8> ICMPV6_TIME_EXCEEDED     = 3;
const bit<8> ICMPV6_PARAMETER_PROBLEM = 4;
const bit<8> ICMPV6_ECHO_REQUEST      = 128;
const bit<8> ICMPV6_ECHO_REPLY        = 129;
const bit<8> ICMPV6_ROUTER_SOLICIT    = 133;
const bit<8> ICMPV6_ROUTER_ADVERT     = 134;
const bit<8> ICMPV6_NEIGHBOR_SOLICIT  = 135;
const bit<8> ICMPV6_NEIGHBOR_ADVERT   = 136;
const bit<8> ICMPV6_REDIRECT          = 137;

/* SCTP chunk types (RFC 9260 section 3.2). */
const bit<8> SCTP_DATA              = 0;
const bit<8> SCTP_INIT              = 1;
const bit<8> SCTP_INIT_ACK          = 2;
const bit<8> SCTP_SACK              = 3;
const bit<8> SCTP_HEARTBEAT         = 4;
const bit<8> SCTP_HEARTBEAT_ACK     = 5;
const bit<8> SCTP_ABORT             = 6;
const bit<8> SCTP_SHUTDOWN          = 7;
const bit<8> SCTP_SHUTDOWN_ACK      = 8;
const bit<8> SCTP_ERROR             = 9;
const bit<8> SCTP_COOKIE_ECHO       = 10;
const bit<8> SCTP_COOKIE_ACK        = 11;
const bit<8> SCTP_SHUTDOWN_COMPLETE = 14;

/* ------------------------------------------------------------------ link layer */

/* Ethernet II. */
header ethernet_t {
    bit<48> dstAddr;
    bit<48> srcAddr;
    bit<16> etherType;
}

/* IEEE 802.1Q tag, after the source address; etherType is that of the payload. */
header vlan_tag_t {
    bit<3>  pcp;        // priority code point
    bit<1>  dei;        // drop eligible indicator
    bit<12> vid;        // VLAN identifier
    bit<16> etherType;
}

/* ARP for IPv4 over Ethernet (RFC 826). */
header arp_t {
    bit<16> htype;      // hardware type: 1 for Ethernet
    bit<16> ptype;      // protocol type: 0x0800
    bit<8>  hlen;       // 6
    bit<8>  plen;       // 4
    bit<16> oper;       // 1 request, 2 reply
    bit<48> sha;        // sender hardware address
    bit<32> spa;        // sender protocol address
    bit<48> tha;        // target hardware address
    bit<32> tpa;        // target protocol address
}

/* ------------------------------------------------------------------ IPv4 (RFC 791) */

header ipv4_t {
    bit<4>  version;
    bit<4>  ihl;            // header length in 32-bit words
    bit<6>  dscp;           // differentiated services (RFC 2474)
    bit<2>  ecn;            // explicit congestion notification (RFC 3168)
    bit<16> totalLen;       // header and data, in bytes
    bit<16> identification;
    bit<1>  reserved;       // flags bit 0: must be zero
    bit<1>  df;             // flags bit 1: don't fragment
    bit<1>  mf;             // flags bit 2: more fragments
    bit<13> fragOffset;     // in 8-byte units
    bit<8>  ttl;
    bit<8>  protocol;
    bit<16> hdrChecksum;
    bit<32> srcAddr;
    bit<32> dstAddr;
}

/* The options after the 20 fixed bytes: (ihl - 5) * 32 bits. */
header ipv4_options_t {
    varbit<320> options;
}

/* ------------------------------------------------------------------ IPv6 (RFC 8200) */

header ipv6_t {
    bit<4>   version;
    bit<8>   trafficClass;
    bit<20>  flowLabel;
    bit<16>  payloadLen;    // everything after this header, extension headers included
    bit<8>   nextHdr;
    bit<8>   hopLimit;
    bit<128> srcAddr;
    bit<128> dstAddr;
}

/* Hop-by-hop options (next header 0), destination options (60) and routing (43) headers
 * share this shape: the next header, the length in 8-octet units not counting the first,
 * then (8 * hdrExtLen + 6) bytes of options or routing data. */
header ipv6_ext_t {
    bit<8> nextHdr;
    bit<8> hdrExtLen;
}

header ipv6_ext_data_t {
    varbit<2048> data;
}

/* The routing header's fixed part (after ipv6_ext_t). */
header ipv6_routing_t {
    bit<8> routingType;
    bit<8> segmentsLeft;
}

/* Fragment header (next header 44), RFC 8200 section 4.5. */
header ipv6_frag_t {
    bit<8>  nextHdr;
    bit<8>  reserved;
    bit<13> fragOffset;     // in 8-octet units
    bit<2>  res;
    bit<1>  mf;             // more fragments
    bit<32> identification;
}

/* ------------------------------------------------------------------ ICMP (RFC 792) */

header icmp_t {
    bit<8>  type;
    bit<8>  code;
    bit<16> checksum;
    bit<32> restOfHeader;   // echo: identifier and sequence; errors: unused or next-hop MTU
}

header icmp_echo_t {        // the restOfHeader of echo request and reply
    bit<16> identifier;
    bit<16> sequence;
}

/* ------------------------------------------------------------------ ICMPv6 (RFC 4443, 4861) */

header icmpv6_t {
    bit<8>  type;
    bit<8>  code;
    bit<16> checksum;
    bit<32> body;           // echo: identifier and sequence; PTB: MTU; errors: unused or pointer
}

/* Neighbor Solicitation / Advertisement target (after icmpv6_t, RFC 4861 4.3 and 4.4);
 * for an NA, icmpv6_t.body holds the R, S and O flags in its top three bits. */
header icmpv6_nd_t {
    bit<128> targetAddr;
}

/* Source / target link-layer address option (RFC 4861 4.6.1) for Ethernet. */
header icmpv6_lladdr_option_t {
    bit<8>  type;           // 1 source, 2 target
    bit<8>  length;         // in 8-octet units: 1
    bit<48> addr;
}

/* ------------------------------------------------------------------ transport */

/* UDP (RFC 768). */
header udp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<16> length;         // header and data
    bit<16> checksum;
}

/* TCP (RFC 9293 section 3.1). */
header tcp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<32> seqNo;
    bit<32> ackNo;
    bit<4>  dataOffset;     // header length in 32-bit words
    bit<4>  reserved;
    bit<1>  cwr;
    bit<1>  ece;
    bit<1>  urg;
    bit<1>  ack;
    bit<1>  psh;
    bit<1>  rst;
    bit<1>  syn;
    bit<1>  fin;
    bit<16> window;
    bit<16> checksum;
    bit<16> urgentPtr;
}

header tcp_options_t {      // (dataOffset - 5) * 32 bits
    varbit<320> options;
}

/* SCTP common header (RFC 9260 section 3.1); the checksum is CRC32c, stored low byte first. */
header sctp_t {
    bit<16> srcPort;
    bit<16> dstPort;
    bit<32> verificationTag;
    bit<32> checksum;
}

/* Every chunk starts with this (RFC 9260 section 3.2); length counts these 4 bytes. */
header sctp_chunk_t {
    bit<8>  type;
    bit<8>  flags;
    bit<16> length;
}

/* INIT and INIT ACK fixed parameters (sections 3.3.2, 3.3.3). */
header sctp_init_t {
    bit<32> initiateTag;
    bit<32> a_rwnd;
    bit<16> numOutboundStreams;
    bit<16> numInboundStreams;
    bit<32> initialTsn;
}

/* DATA chunk fields before the user data (section 3.3.1); flags: U, B, E bits. */
header sctp_data_t {
    bit<32> tsn;
    bit<16> streamId;
    bit<16> streamSeq;
    bit<32> ppid;
}

/* SACK fixed fields (section 3.3.4), followed by gap blocks and duplicate TSNs. */
header sctp_sack_t {
    bit<32> cumTsnAck;
    bit<32> a_rwnd;
    bit<16> numGapBlocks;
    bit<16> numDupTsns;
}

/* SHUTDOWN (section 3.3.8). */
header sctp_shutdown_t {
    bit<32> cumTsnAck;
}

/* A chunk parameter or error cause: type (or cause code), length, then the value. */
header sctp_param_t {
    bit<16> type;
    bit<16> length;
}

/* Variable-length chunk contents: INIT parameters, the state cookie of COOKIE ECHO,
 * user data, ABORT error causes. */
header sctp_chunk_value_t {
    varbit<4096> value;
}

#endif  /* _DATAPLANE_INET_P4_ */
