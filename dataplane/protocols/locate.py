"""Which header field a byte of a frame belongs to: `ipv4.ttl` for byte 22 of an Ethernet/IPv4 frame.

The frame is dissected (dissect.py) and the field found in the layer's
layout from the header library, so a test that compares packets can say
which field differs and what it holds, not only where.
"""

from __future__ import annotations

from dataclasses import dataclass

from .dissect import dissect
from .library import inet

# The dissector's layers and the header library's layouts they were read with (fixed-size layers only).
_CODECS = {"ethernet": "ethernet_t", "vlan": "vlan_tag_t", "arp": "arp_t", "ipv4": "ipv4_t", "ipv6": "ipv6_t",
           "ipv6 fragment": "ipv6_frag_t", "icmp": "icmp_t", "icmpv6": "icmpv6_t", "udp": "udp_t", "tcp": "tcp_t",
           "sctp": "sctp_t", "sctp chunk": "sctp_chunk_t"}


@dataclass(frozen=True)
class FieldSpot:
    """A field of a frame: `header.field`, its first bit counted from the start of the frame, its width."""
    header: str
    field: str
    bit: int
    width: int

    @property
    def name(self) -> str:
        return f"{self.header.replace(' ', '_')}.{self.field}"


def field_at(frame: bytes, bit: int) -> FieldSpot | None:
    """The field that holds bit `bit` (0: the most significant bit of byte 0) of an Ethernet frame, or None
    when the bit is past the headers the dissector knows (payload, options, unknown protocols)."""
    lib = inet()
    for layer in dissect(frame):
        codec_name = _CODECS.get(layer.name)
        if codec_name is None or layer.problem:
            continue
        codec = lib.header(codec_name)
        start = layer.offset * 8
        if not start <= bit < start + codec.size * 8:
            continue
        total = codec.size * 8
        for name, lsb, width in codec.fields:
            first = start + total - lsb - width        # fields are listed with their least significant bit
            if first <= bit < first + width:
                return FieldSpot(layer.name, name, first, width)
    return None
