"""Hash and checksum algorithms of v1model (HashAlgorithm), on byte strings.

- crc16: CRC-16/ARC (polynomial 0x8005 reflected, initial value 0, no final
  XOR), as BMv2's crc16: b"123456789" -> 0xBB3D.
- crc32: the standard CRC-32 (zlib): b"123456789" -> 0xCBF43926.
- crc16_custom / crc32_custom: the same algorithms unless the control plane
  changes the parameters (not supported yet; the defaults are used).
- csum16: the Internet checksum (RFC 1071) of the bytes, padded with a zero
  byte to an even length.
- xor16: the XOR of all 16-bit words.
- identity: the bytes as a big-endian number.
- crc32c: CRC-32C (Castagnoli), used by SCTP (RFC 9260 appendix A):
  b"123456789" -> 0xE3069283.
"""

from __future__ import annotations

import zlib


def _reflected_table(poly: int, width: int) -> list[int]:
    table = []
    for i in range(256):
        c = i
        for _ in range(8):
            c = (c >> 1) ^ poly if c & 1 else c >> 1
        table.append(c & ((1 << width) - 1))
    return table


_CRC16_TABLE = _reflected_table(0xA001, 16)      # 0x8005 reflected
_CRC32C_TABLE = _reflected_table(0x82F63B78, 32)


def crc16(data: bytes) -> int:
    crc = 0
    table = _CRC16_TABLE
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc


def crc32(data: bytes) -> int:
    return zlib.crc32(data)


def crc32c(data: bytes, crc: int = 0) -> int:
    crc ^= 0xFFFFFFFF
    table = _CRC32C_TABLE
    for b in data:
        crc = (crc >> 8) ^ table[(crc ^ b) & 0xFF]
    return crc ^ 0xFFFFFFFF


def ones_complement_sum(value: int) -> int:
    """The 16-bit one's-complement sum of the 16-bit words of a number (RFC 1071).

    Because 2**16 is 1 modulo 0xFFFF, the sum of the words of a number is the
    number itself modulo 0xFFFF; the end-around carry makes a nonzero multiple
    of 0xFFFF sum to 0xFFFF rather than 0."""
    s = value % 0xFFFF
    if s == 0 and value:
        return 0xFFFF
    return s


def csum16(data: bytes) -> int:
    """~ones_complement_sum of the bytes padded to an even length, in one function: hosts and routers
    check or make one for every IPv4 header."""
    value = int.from_bytes(data, "big")
    if len(data) & 1:
        value <<= 8                  # the zero byte that pads the data
    s = value % 0xFFFF
    return ~s & 0xFFFF if s or not value else 0       # a nonzero multiple of 0xFFFF sums to 0xFFFF


def csum16_int(value: int, width: int) -> int:
    """csum16 of a number of `width` bits (a multiple of 8), without building bytes."""
    if width & 15:
        value <<= 16 - (width & 15)
    s = value % 0xFFFF                # ones_complement_sum, inline: routers update a checksum per packet
    return ~s & 0xFFFF if s or not value else 0


def xor16(data: bytes) -> int:
    if len(data) & 1:
        data += b"\x00"
    r = 0
    for i in range(0, len(data), 2):
        r ^= (data[i] << 8) | data[i + 1]
    return r


def identity(data: bytes) -> int:
    return int.from_bytes(data, "big")


ALGORITHMS = {
    "crc16": crc16,
    "crc16_custom": crc16,
    "crc32": crc32,
    "crc32_custom": crc32,
    "csum16": csum16,
    "xor16": xor16,
    "identity": identity,
}


def pack_bits(value: int, width: int) -> bytes:
    """A `width`-bit number as bytes, padded with zero bits at the end to a whole byte."""
    pad = (-width) % 8
    return (value << pad).to_bytes((width + pad) // 8, "big")
