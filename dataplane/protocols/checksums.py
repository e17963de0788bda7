"""Checksums of the Internet protocols, used by host stacks, router agents and tests.

- internet_checksum: RFC 1071 (R2).
- incremental_update: RFC 1624 equation 3, HC' = ~(~HC + ~m + m') (R3).
- pseudo headers for TCP, UDP and ICMPv6 over IPv4 (RFC 768, RFC 9293) and
  IPv6 (RFC 8200 section 8.1).
- UDP's zero rules (R29): a computed 0 is sent as 0xFFFF; a received 0 means
  "no checksum" over IPv4 and is invalid over IPv6.
- SCTP's CRC32c (R33), computed with the checksum field zeroed and stored
  low byte first.
"""

from __future__ import annotations

import struct
import sys
from functools import partial

from ..runtime.hashing import crc32c, csum16, ones_complement_sum

if sys.version_info >= (3, 11):
    # int.from_bytes(data, "big"): big-endian is the default from Python 3.11 on, and not passing it saves parsing
    # an argument (about 115 instructions a call) where every datagram is summed (the hosts' UDP input).
    big_endian_int = int.from_bytes
else:
    big_endian_int = partial(int.from_bytes, byteorder="big")


# The RFC 1071 checksum: the complement of the one's-complement sum of the 16-bit words (csum16 itself, not
# a wrapper: it is computed for every IPv4 header sent and received).
internet_checksum = csum16


def ones_sum(data: bytes) -> int:
    """The 16-bit one's-complement sum itself (not complemented)."""
    if len(data) & 1:
        data += b"\x00"
    return ones_complement_sum(int.from_bytes(data, "big"))


def incremental_update(hc: int, old: int, new: int) -> int:
    """RFC 1624 eqn 3: the checksum after a 16-bit word of the header changes from old to new."""
    s = (~hc & 0xFFFF) + (~old & 0xFFFF) + (new & 0xFFFF)
    s = (s & 0xFFFF) + (s >> 16)
    s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def pseudo_header_v4(src: int, dst: int, proto: int, length: int) -> bytes:
    return struct.pack("!IIBBH", src, dst, 0, proto, length)


def pseudo_header_v6(src: int, dst: int, length: int, next_header: int) -> bytes:
    return src.to_bytes(16, "big") + dst.to_bytes(16, "big") + struct.pack("!I3xB", length, next_header)


def data_sum(data) -> int:
    """What data adds to a one's-complement sum when it starts at an even offset: its bytes as one number,
    an odd length padded with a zero byte at the end. That number is congruent modulo 0xFFFF to the sum of
    its 16-bit words (2**16 is 1 modulo 0xFFFF), which is all a checksum needs."""
    value = big_endian_int(data)
    return value << 8 if len(data) & 1 else value


def transport_sum(src: int, dst: int, proto: int, segment: bytes, v6: bool) -> int:
    """The one's-complement sum of the pseudo header and the segment, without building the pseudo header.

    The sum of the 16-bit words of a number is the number modulo 0xFFFF (ones_complement_sum), and the
    pseudo header's words are those of the addresses, the protocol and the length; the segment follows
    the pseudo header (an even number of bytes), so its words line up. Both forms give the same sum."""
    n = len(segment)
    if (src | dst) >> (128 if v6 else 32) or proto >> 8 or n >> (32 if v6 else 16):
        # Fields that do not fit the pseudo header: building it raises, as it always has.
        pseudo = pseudo_header_v6(src, dst, n, proto) if v6 else pseudo_header_v4(src, dst, proto, n)
        return ones_sum(pseudo + segment)
    total = src + dst + proto + n + data_sum(segment)
    s = total % 0xFFFF
    return s if s or not total else 0xFFFF


def transport_checksum(src: int, dst: int, proto: int, segment: bytes, v6: bool) -> int:
    """The checksum of a TCP, UDP or ICMPv6 segment whose checksum field is zero."""
    value = ~transport_sum(src, dst, proto, segment, v6) & 0xFFFF
    if proto == 17 and value == 0:
        return 0xFFFF           # R29: a computed zero is transmitted as all ones
    return value


def transport_checksum_of(src: int, dst: int, proto: int, header: bytes, payload: bytes, v6: bool) -> int:
    """transport_checksum(src, dst, proto, header + payload, v6), without joining them: a builder makes the
    segment once, with its checksum in the header. The header has an even length, so the payload's words
    line up and the sum of the whole is the sum of the parts."""
    n = len(header) + len(payload)
    if len(header) & 1 or (src | dst) >> (128 if v6 else 32) or proto >> 8 or n >> (32 if v6 else 16):
        return transport_checksum(src, dst, proto, header + payload, v6)
    total = src + dst + proto + n + int.from_bytes(header, "big") + data_sum(payload)
    s = total % 0xFFFF
    value = ~s & 0xFFFF if s or not total else 0
    if proto == 17 and value == 0:
        return 0xFFFF
    return value


def verify_transport(src: int, dst: int, proto: int, segment: bytes, v6: bool) -> str | None:
    """None if the segment's checksum is acceptable, else the reason it is not (R29 for UDP)."""
    offset = _CHECKSUM_OFFSET[proto]
    if len(segment) < offset + 2:
        return "truncated"
    if proto == 17 and segment[6] == 0 and segment[7] == 0:
        return "UDP over IPv6 without a checksum" if v6 else None
    if transport_sum(src, dst, proto, segment, v6) != 0xFFFF:
        return "bad checksum"
    return None


_CHECKSUM_OFFSET = {6: 16, 17: 6, 58: 2}      # where TCP, UDP and ICMPv6 keep their checksum


def sctp_checksum(packet: bytes) -> bytes:
    """The CRC32c of an SCTP packet (common header and chunks), as the 4 bytes to store (R33)."""
    zeroed = packet[:8] + b"\x00\x00\x00\x00" + packet[12:]
    return crc32c(zeroed).to_bytes(4, "little")


def with_sctp_checksum(packet: bytes) -> bytes:
    return packet[:8] + sctp_checksum(packet) + packet[12:]


def sctp_checksum_ok(packet: bytes) -> bool:
    return len(packet) >= 12 and packet[8:12] == sctp_checksum(packet)
