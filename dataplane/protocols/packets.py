"""Building packets from the inet.p4 layouts: one function per protocol, lengths and checksums filled in.

Addresses are integers (use ``ip4``, ``ip6`` and ``mac`` to convert from
text). Every builder returns bytes; the result of one is the payload of the
next, as layering works::

    frame = ethernet(dst, src, ETH_IPV4, ipv4(a, b, IP_UDP, udp(a, b, 1234, 53, b"query")))
"""

from __future__ import annotations

import ipaddress
import struct

from .checksums import data_sum, internet_checksum, transport_checksum, transport_checksum_of, with_sctp_checksum
from .library import inet

_LIB = inet()
ETH_IPV4 = _LIB.const("ETHERTYPE_IPV4")
ETH_ARP = _LIB.const("ETHERTYPE_ARP")
ETH_IPV6 = _LIB.const("ETHERTYPE_IPV6")
ETH_VLAN = _LIB.const("ETHERTYPE_VLAN")
IP_ICMP = _LIB.const("IP_PROTO_ICMP")
IP_TCP = _LIB.const("IP_PROTO_TCP")
IP_UDP = _LIB.const("IP_PROTO_UDP")
IP_ICMPV6 = _LIB.const("IP_PROTO_ICMPV6")
IP_SCTP = _LIB.const("IP_PROTO_SCTP")
IP_FRAG6 = _LIB.const("IP_PROTO_IPV6_FRAG")

BROADCAST_MAC = (1 << 48) - 1

_ETH = _LIB.header("ethernet_t")
_ARP = _LIB.header("arp_t")
_IPV4 = _LIB.header("ipv4_t")
_IPV6 = _LIB.header("ipv6_t")
_ICMP = _LIB.header("icmp_t")
_ICMPV6 = _LIB.header("icmpv6_t")
_UDP = _LIB.header("udp_t")
_TCP = _LIB.header("tcp_t")
_SCTP = _LIB.header("sctp_t")
_CHUNK = _LIB.header("sctp_chunk_t")
_FRAG6 = _LIB.header("ipv6_frag_t")


def _fields_in_order(codec, names: str) -> None:
    """The builders below pass these headers' fields by position: fail at import if inet.p4 changed them."""
    if codec.field_names != tuple(names.split()):
        raise AssertionError(f"{codec.name} fields are {codec.field_names}, the builders expect {names}")


_fields_in_order(_ETH, "dstAddr srcAddr etherType")
_fields_in_order(_IPV4, "version ihl dscp ecn totalLen identification reserved df mf fragOffset ttl protocol "
                        "hdrChecksum srcAddr dstAddr")
_fields_in_order(_IPV6, "version trafficClass flowLabel payloadLen nextHdr hopLimit srcAddr dstAddr")
_fields_in_order(_UDP, "srcPort dstPort length checksum")
_fields_in_order(_TCP, "srcPort dstPort seqNo ackNo dataOffset reserved cwr ece urg ack psh rst syn fin window "
                       "checksum urgentPtr")
_fields_in_order(_ICMP, "type code checksum restOfHeader")
_ETH_PACK = _ETH.pack_fields
_IPV4_PACK = _IPV4.pack_fields
_IPV6_PACK = _IPV6.pack_fields
_UDP_PACK = _UDP.pack_fields
_TCP_PACK = _TCP.pack_fields
if not _UDP.compiled["plain"]:
    raise AssertionError("udp_t is no longer four 16-bit fields")
_UDP_STRUCT_PACK = _UDP.compiled["struct"].pack
# An IPv4 header without options followed by a UDP header, as one struct from the two compiled layouts (the
# hosts' per-datagram paths): version and ihl, dscp and ecn, totalLen, identification, the flags and
# fragOffset, ttl, protocol, hdrChecksum, srcAddr, dstAddr, then srcPort, dstPort, length, checksum.
IPV4_UDP = struct.Struct(_IPV4.compiled["struct"].format + _UDP.compiled["struct"].format[1:])
if IPV4_UDP.format != "!BBHHHBBHIIHHHH":
    raise AssertionError(f"ipv4_t and udp_t pack as {IPV4_UDP.format}, the UDP fast paths expect !BBHHHBBHIIHHHH")
# An Ethernet header and those two headers as Ipv4UdpFramer packs them, in fewer fields (each one packed costs):
# the Ethernet header with version and IHL, DSCP and ECN (made once per framer); totalLen; identification; flags
# and fragOffset; TTL and protocol as one 16-bit word; hdrChecksum; both addresses (made once); the UDP header.
_FRAME_HEAD = struct.Struct("!14sBB").pack
_FRAME_ADDRESSES = struct.Struct("!II").pack
_FRAME_IPV4_UDP = struct.Struct("!16sHHHHH8sHHHH")
if _FRAME_IPV4_UDP.size != 14 + IPV4_UDP.size:
    raise AssertionError("the frame Ipv4UdpFramer packs is not an Ethernet header and IPV4_UDP")
_FRAME_IPV4_UDP_PACK = _FRAME_IPV4_UDP.pack


# ---------------------------------------------------------------------------- addresses


def ip4(text: str) -> int:
    return int(ipaddress.IPv4Address(text))


def ip6(text: str) -> int:
    return int(ipaddress.IPv6Address(text))


def mac(text: str) -> int:
    return int(text.replace(":", "").replace("-", ""), 16)


def ip4_str(v: int) -> str:
    return str(ipaddress.IPv4Address(v))


def ip6_str(v: int) -> str:
    return str(ipaddress.IPv6Address(v))


def mac_str(v: int) -> str:
    return ":".join(f"{(v >> s) & 0xFF:02x}" for s in range(40, -8, -8))


def solicited_node(addr: int) -> int:
    """The solicited-node multicast address ff02::1:ffXX:XXXX of an IPv6 address (RFC 4291 2.7.1)."""
    return ip6("ff02::1:ff00:0") | (addr & 0xFFFFFF)


def link_local_address(mac: int, addresses=()) -> int:
    """An interface's IPv6 link-local address: an fe80::/10 one it has, else the modified EUI-64 one from its
    MAC (RFC 4291 appendix A: ff:fe in the middle, the universal/local bit flipped)."""
    for a in addresses:
        if a.ip.is_link_local:
            return int(a.ip)
    eui = ((mac >> 24) << 40) | (0xFFFE << 24) | (mac & 0xFFFFFF)
    return ip6("fe80::") | (eui ^ (1 << 57))


def multicast_mac_v6(addr: int) -> int:
    """The Ethernet address 33:33:xx:xx:xx:xx of an IPv6 multicast address (RFC 2464 section 7)."""
    return (0x3333 << 32) | (addr & 0xFFFFFFFF)


# ---------------------------------------------------------------------------- link layer


def ethernet(dst: int, src: int, ethertype: int, payload: bytes) -> bytes:
    return _ETH_PACK(dst, src, ethertype) + payload


def arp(oper: int, sha: int, spa: int, tha: int, tpa: int) -> bytes:
    return _ARP.pack(htype=1, ptype=ETH_IPV4, hlen=6, plen=4, oper=oper, sha=sha, spa=spa, tha=tha, tpa=tpa)


# ---------------------------------------------------------------------------- IPv4


def ipv4_header(src: int, dst: int, proto: int, payload_len: int, ttl: int = 64, ident: int = 0,
                df: bool = False, mf: bool = False, frag_offset: int = 0, options: bytes = b"",
                dscp: int = 0, ecn: int = 0) -> bytes:
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)      # pad with End of Option List
    ihl = 5 + len(options) // 4
    total = ihl * 4 + payload_len
    try:
        # The header's checksum from its fields, before it is packed: the one's-complement sum of its 16-bit
        # words is the sum of the words' values modulo 0xFFFF, and a 32-bit address is worth its two words.
        s = (0x4000 | ihl << 8 | dscp << 2 | ecn) + total + ident + (df << 14 | mf << 13 | frag_offset) + \
            (ttl << 8 | proto) + src + dst
    except TypeError:
        # Values that are not ints: the generic pack converts them with int(), or says why it cannot.
        raw = _IPV4_PACK(4, ihl, dscp, ecn, total, ident, 0, df, mf, frag_offset, ttl, proto, 0, src, dst) + options
        ck = internet_checksum(raw)
        return raw[:10] + ck.to_bytes(2, "big") + raw[12:]
    if options:
        s = (s + int.from_bytes(options, "big")) % 0xFFFF
        return _IPV4_PACK(4, ihl, dscp, ecn, total, ident, 0, df, mf, frag_offset, ttl, proto, ~s & 0xFFFF if s else 0,
                          src, dst) + options
    s %= 0xFFFF           # never 0 before: the version is 4 (values that do not fit fail in the pack)
    return _IPV4_PACK(4, ihl, dscp, ecn, total, ident, 0, df, mf, frag_offset, ttl, proto, ~s & 0xFFFF if s else 0,
                      src, dst)


def ipv4(src: int, dst: int, proto: int, payload: bytes, ttl: int = 64, ident: int = 0, df: bool = False,
         mf: bool = False, frag_offset: int = 0, options: bytes = b"", dscp: int = 0, ecn: int = 0) -> bytes:
    return ipv4_header(src, dst, proto, len(payload), ttl, ident, df, mf, frag_offset, options, dscp, ecn) + payload


def ipv6_header(src: int, dst: int, next_header: int, payload_len: int, hop_limit: int = 64,
                traffic_class: int = 0, flow_label: int = 0) -> bytes:
    return _IPV6_PACK(6, traffic_class, flow_label, payload_len, next_header, hop_limit, src, dst)


def ipv6(src: int, dst: int, next_header: int, payload: bytes, **kw) -> bytes:
    return ipv6_header(src, dst, next_header, len(payload), **kw) + payload


def ipv6_fragment_header(next_header: int, offset_units: int, more: bool, ident: int) -> bytes:
    return _FRAG6.pack(nextHdr=next_header, fragOffset=offset_units, mf=int(more), identification=ident)


# ---------------------------------------------------------------------------- ICMP


def icmp(type_: int, code: int, rest: int = 0, data: bytes = b"") -> bytes:
    raw = _ICMP.pack(type=type_, code=code, restOfHeader=rest) + data
    ck = internet_checksum(raw)      # RFC 792: no pseudo header
    return raw[:2] + ck.to_bytes(2, "big") + raw[4:]


def icmpv6(src: int, dst: int, type_: int, code: int, body: int = 0, data: bytes = b"") -> bytes:
    raw = _ICMPV6.pack(type=type_, code=code, body=body) + data
    ck = transport_checksum(src, dst, IP_ICMPV6, raw, v6=True)      # RFC 4443 2.3: with pseudo header
    return raw[:2] + ck.to_bytes(2, "big") + raw[4:]


# ---------------------------------------------------------------------------- transport


def udp(src: int, dst: int, sport: int, dport: int, payload: bytes, v6: bool = False,
        checksum: bool = True) -> bytes:
    length = 8 + len(payload)
    header = _UDP_PACK(sport, dport, length, 0)
    if not checksum and not v6:
        return header + payload           # R29: zero means "no checksum" over IPv4
    # The values fit (the first pack said so): packed again as they are, with the checksum.
    return _UDP_STRUCT_PACK(int(sport), int(dport), length,
                            transport_checksum_of(src, dst, IP_UDP, header, payload, v6)) + payload


def ipv4_udp_frame(eth_header: bytes, src: int, dst: int, sport: int, dport: int, payload: bytes, ident: int,
                   ttl: int = 64, df: bool = False, payload_sum: int | None = None) -> bytes:
    """eth_header + ipv4(src, dst, IP_UDP, udp(src, dst, sport, dport, payload), ttl, ident, df), the same bytes
    made with one pack (see Ipv4UdpFramer, which a host keeps per destination to send every datagram)."""
    return Ipv4UdpFramer(eth_header, src, dst).frame(sport, dport, payload, ident, ttl, df, payload_sum)


class Ipv4UdpFramer:
    """Frames of UDP datagrams from src to dst behind one Ethernet header: frame(...) is
    ipv4_udp_frame(eth_header, src, dst, ...), made with one pack, and what does not change from one datagram
    to the next (the header's first bytes, the addresses' bytes and what they add to both checksums) is made
    once, here.

    Both checksums come from the field values: 2**16 is 1 modulo 0xFFFF, so the one's-complement sum of a
    header's 16-bit words is the sum of its fields (an address is worth its two words) modulo 0xFFFF, and
    the UDP length counts twice (pseudo header and header). The values must be ints; struct refuses those
    that do not fit, here or in frame(), and the arithmetic some that are not ints (TypeError): the caller
    then takes the general builders, which say why."""

    __slots__ = ("_head", "_addresses", "_ip_sum", "_udp_sum")

    def __init__(self, eth_header: bytes, src: int, dst: int):
        self._head = _FRAME_HEAD(eth_header, 0x45, 0)
        self._addresses = _FRAME_ADDRESSES(src, dst)
        # What version and IHL and the addresses add to the IPv4 header's sum, and the protocol and the addresses
        # (pseudo header) to the UDP checksum, modulo 0xFFFF: small numbers, cheaper to add to than addresses.
        self._ip_sum = (0x4500 + src + dst) % 0xFFFF
        self._udp_sum = (IP_UDP + src + dst) % 0xFFFF

    def frame(self, sport: int, dport: int, payload: bytes, ident: int, ttl: int = 64, df: bool = False,
              payload_sum: int | None = None) -> bytes:
        """`payload_sum` is any int >= 0 equal to word_sum(payload) modulo 0xFFFF, from a caller that knows it
        cheaper than summing the payload (an application whose datagrams differ only in a counter); the
        payload is summed when it is None."""
        total = 28 + len(payload)
        flags = 0x4000 if df else 0
        ttl_protocol = (ttl << 8) + IP_UDP       # (a TTL over 255 makes it too big for its 16 bits: refused)
        s = (self._ip_sum + total + ident + flags + ttl_protocol) % 0xFFFF
        if payload_sum is None:
            payload_sum = data_sum(payload)
        length = total - 20
        # The sum s is never 0 before the modulo (version 4 is in it), so an s of 0 is a multiple of 0xFFFF: all
        # ones, whose complement 0 is the checksum. A UDP checksum of 0 is sent as 0xFFFF (R29), which 0xFFFF - u
        # is for a u of 0. (0xFFFF - x is ~x & 0xFFFF for the x below 0xFFFF that a modulo 0xFFFF gives.)
        u = (self._udp_sum + sport + dport + 2 * length + payload_sum) % 0xFFFF
        return _FRAME_IPV4_UDP_PACK(self._head, total, ident, flags, ttl_protocol, 0xFFFF - s if s else 0,
                                    self._addresses, sport, dport, length, 0xFFFF - u) + payload


def word_sum(data: bytes) -> int:
    """The sum of data's 16-bit big-endian words (a zero byte added to an odd length) modulo 0xFFFF: what
    data adds to an Internet checksum. A sum of sums is the sum of the bytes joined, if each part but the
    last has an even length."""
    return data_sum(data) % 0xFFFF


TCP_FLAGS = ("fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr")
_TCP_FLAG_SET = frozenset(TCP_FLAGS)


def tcp(src: int, dst: int, sport: int, dport: int, seq: int, ack: int, flags: set[str] | str,
        window: int = 65535, payload: bytes = b"", options: bytes = b"", v6: bool = False) -> bytes:
    if isinstance(flags, str):
        flags = {f.strip().lower() for f in flags.split(",") if f.strip()}
    unknown = set(flags) - _TCP_FLAG_SET
    if unknown:
        raise ValueError(f"unknown TCP flags {sorted(unknown)}")
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)
    header = _TCP_PACK(sport, dport, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, 5 + len(options) // 4, 0, "cwr" in flags,
                       "ece" in flags, "urg" in flags, "ack" in flags, "psh" in flags, "rst" in flags, "syn" in flags,
                       "fin" in flags, window, 0, 0)
    if options:
        header += options
    ck = transport_checksum_of(src, dst, IP_TCP, header, payload, v6)
    return header[:16] + ck.to_bytes(2, "big") + header[18:] + payload


def tcp_mss_option(mss: int) -> bytes:
    return struct.pack("!BBH", 2, 4, mss)


def sctp_chunk(type_: int, flags: int, value: bytes) -> bytes:
    chunk = _CHUNK.pack(type=type_, flags=flags, length=4 + len(value)) + value
    return chunk + b"\x00" * (-len(chunk) % 4)      # chunks are padded to 4 bytes; length excludes it


def sctp_param(type_: int, value: bytes) -> bytes:
    """A type-length-value parameter or error cause, unpadded: join several with sctp_params."""
    return struct.pack("!HH", type_, 4 + len(value)) + value


def sctp_params(params: list[bytes]) -> bytes:
    """Parameters one after the other, each padded to 4 bytes but the last: a chunk's length counts the
    padding of every parameter except the last one (RFC 9260 3.2), whose padding is the chunk's."""
    return b"".join(p + b"\x00" * (-len(p) % 4) for p in params[:-1]) + (params[-1] if params else b"")


def sctp(sport: int, dport: int, vtag: int, chunks: list[bytes]) -> bytes:
    return with_sctp_checksum(_SCTP.pack(srcPort=sport, dstPort=dport, verificationTag=vtag) + b"".join(chunks))
