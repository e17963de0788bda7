"""TCP segments on the wire, built and checked without the generic header codec: tcp.py's per-segment path.

The bytes are exactly those of protocols.packets.tcp (the header of inet.p4's tcp_t, options padded with
End of Option List, the RFC 9293 3.1 checksum over the pseudo header); tests/net/test_tcp_wire.py holds
them to it. What makes it cheaper is arithmetic: the Internet checksum is a sum modulo 0xFFFF (RFC 1071),
and since 2**16 is 1 modulo 0xFFFF a 32-bit field, an address or a whole even-length run of bytes
contributes its value modulo 0xFFFF. So the pseudo header and the header's fields are added as numbers,
the payload once with int.from_bytes, and the header is packed once with its checksum already in place:
no pseudo-header bytes, no concatenation to checksum, no second copy to patch the checksum in. The
NOP, NOP, TS layout that nearly every segment of a connection with timestamps carries is one Struct.
"""

from __future__ import annotations

import struct

from ...protocols.checksums import data_sum
from .tcp_options import TS_OPTION_HEAD

__all__ = ["FIN", "SYN", "RST", "PSH", "ACK", "URG", "ECE", "CWR", "FLAG_SETS", "flag_bits",
           "HEADER", "checksum_base", "checksum_ok", "segment", "segment_with_timestamps"]

# The control bits, as the header's 13th byte carries them (RFC 9293 3.1, RFC 3168 6.1).
FIN, SYN, RST, PSH, ACK, URG, ECE, CWR = 0x01, 0x02, 0x04, 0x08, 0x10, 0x20, 0x40, 0x80
_NAMES = {"fin": FIN, "syn": SYN, "rst": RST, "psh": PSH, "ack": ACK, "urg": URG, "ece": ECE, "cwr": CWR}
# The flags byte -> the names tcp.Segment keeps (one frozenset per value, made once).
FLAG_SETS = tuple(frozenset(name for name, bit in _NAMES.items() if value & bit) for value in range(256))

IP_PROTO_TCP = 6
# srcPort, dstPort, seqNo, ackNo, dataOffset and reserved, the flags, window (then checksum, urgentPtr).
HEADER = struct.Struct("!HHIIBBH")
_FULL_HEADER = struct.Struct("!HHIIBBHHH")
# The same followed by NOP, NOP, kind 8, length 10 (one 32-bit word), TSval, TSecr.
_HEADER_TS = struct.Struct("!HHIIBBHHHIII")
_TS_HEAD_WORD = int.from_bytes(TS_OPTION_HEAD, "big")
_TS_OFFSET = 8 << 4                   # dataOffset 8 words: 20 bytes of header, 12 of options
_TS_FIXED_SUM = (_TS_OFFSET << 8) + _TS_HEAD_WORD + 32     # its offset word, the option head, its 32 bytes


def flag_bits(flags) -> int:
    """The flags byte of a set of names ("syn", "ack", ...)."""
    bits = 0
    for name in flags:
        bits |= _NAMES[name]
    return bits


def checksum_base(src: int, dst: int, sport: int, dport: int) -> int:
    """What a connection's every segment adds to its checksum: the pseudo header's addresses and protocol
    (IPv4 or IPv6: each address adds its value) and the two ports. The segment length is added per segment."""
    return (src + dst + IP_PROTO_TCP + sport + dport) % 0xFFFF


def _fold(total: int) -> int:
    """The checksum field for a one's-complement sum whose value modulo 0xFFFF is total's (never all zero:
    the protocol number is in it): ~sum, where a sum that is a multiple of 0xFFFF is 0xFFFF."""
    return (0xFFFF - total % 0xFFFF) % 0xFFFF


def segment(base: int, sport: int, dport: int, seq: int, ack: int, flags: int, window: int,
            options: bytes = b"", data=b"") -> bytes:
    """A segment with any options (padded to 32 bits with End of Option List, as packets.tcp pads them)."""
    if len(options) % 4:
        options += b"\x00" * (4 - len(options) % 4)
    offset = (5 + len(options) // 4) << 4
    total = (base + seq + ack + (offset << 8) + flags + window + 20 + len(options) + len(data)
             + int.from_bytes(options, "big") + data_sum(data))
    return _FULL_HEADER.pack(sport, dport, seq, ack, offset, flags, window, _fold(total), 0) + options + data


def segment_with_timestamps(base: int, sport: int, dport: int, seq: int, ack: int, flags: int, window: int,
                            tsval: int, tsecr: int, data=b"") -> bytes:
    """A segment whose only options are NOP, NOP, TS (RFC 7323 appendix A's layout, Linux's): one pack."""
    n = len(data)
    value = int.from_bytes(data, "big")                              # data_sum and _fold, inline
    total = (base + seq + ack + flags + window + _TS_FIXED_SUM + tsval + tsecr + n
             + (value << 8 if n & 1 else value)) % 0xFFFF
    header = _HEADER_TS.pack(sport, dport, seq, ack, _TS_OFFSET, flags, window, (0xFFFF - total) % 0xFFFF, 0,
                             _TS_HEAD_WORD, tsval, tsecr)
    return header + data if n else header


def checksum_ok(src: int, dst: int, raw) -> bool:
    """The segment's checksum verifies (the sum over pseudo header and segment is all ones), as
    checksums.verify_transport finds it for TCP."""
    n = len(raw)
    value = int.from_bytes(raw, "big")
    return (src + dst + IP_PROTO_TCP + n + (value << 8 if n & 1 else value)) % 0xFFFF == 0
