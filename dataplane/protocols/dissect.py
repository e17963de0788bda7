"""Dissect frames into protocol layers, using the inet.p4 layouts and dispatch tables.

``dissect(frame)`` returns the layers from Ethernet down to the payload, each
with its fields, where it starts and how long it is. A malformed layer (too
short, a bad length or version) is returned with a ``problem`` and ends the
dissection; nothing raises. Protocol dispatch is data: three tables map
EtherTypes, IP protocol numbers and IPv6 extension headers to layer names.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .library import inet
from .packets import (ETH_ARP, ETH_IPV4, ETH_IPV6, ETH_VLAN, IP_ICMP, IP_ICMPV6, IP_SCTP, IP_TCP, IP_UDP,
                      ip4_str, ip6_str, mac_str)

_LIB = inet()

ETHERTYPES = {ETH_IPV4: "ipv4", ETH_ARP: "arp", ETH_IPV6: "ipv6", ETH_VLAN: "vlan"}
IP_PROTOCOLS = {IP_ICMP: "icmp", IP_TCP: "tcp", IP_UDP: "udp", IP_SCTP: "sctp", IP_ICMPV6: "icmpv6"}
IPV6_EXTENSIONS = {0: "hop-by-hop options", 43: "routing", 44: "fragment", 60: "destination options"}
SCTP_CHUNKS = {0: "DATA", 1: "INIT", 2: "INIT ACK", 3: "SACK", 4: "HEARTBEAT", 5: "HEARTBEAT ACK",
               6: "ABORT", 7: "SHUTDOWN", 8: "SHUTDOWN ACK", 9: "ERROR", 10: "COOKIE ECHO", 11: "COOKIE ACK",
               14: "SHUTDOWN COMPLETE"}


@dataclass
class Layer:
    name: str
    fields: dict = field(default_factory=dict)
    offset: int = 0
    length: int = 0
    problem: str | None = None
    header: str | None = None        # the inet.p4 header type whose layout `fields` follow
    note: str | None = None          # something worth knowing that is not a problem (a quote cut short)


    def __getitem__(self, key):
        return self.fields[key]


def dissect(frame: bytes, first: str = "ethernet", offset: int = 0, quoted: bool = False) -> list[Layer]:
    """The layers of frame[offset:], starting with the layer `first` (a name of _HANDLERS: "ethernet",
    "ipv4", "ipv6"). `quoted`: the bytes are the packet an ICMP error quotes, which may be cut short, so an IP
    length beyond the bytes at hand is no problem."""
    layers: list[Layer] = []
    name, off = first, offset
    ctx: dict = {"quoted": quoted}
    while name is not None:
        handler = _HANDLERS.get(name)
        if handler is None:
            break
        layer, name, off = handler(frame, off, ctx)
        layers.append(layer)
        if layer.problem:
            return layers
    if off < len(frame):
        layers.append(Layer("payload", {"bytes": len(frame) - off}, off, len(frame) - off))
    return layers


def find(layers: list[Layer], name: str) -> Layer | None:
    for l in layers:
        if l.name == name:
            return l
    return None


def _fixed(codec_name: str, name: str, frame: bytes, off: int) -> Layer:
    codec = _LIB.header(codec_name)
    try:
        return Layer(name, codec.unpack(frame, off), off, codec.size, header=codec_name)
    except ValueError:
        return Layer(name, {}, off, len(frame) - off, f"truncated {name} header "
                                                      f"({len(frame) - off} of {codec.size} bytes)", codec_name)


def _ethernet(frame, off, ctx):
    l = _fixed("ethernet_t", "ethernet", frame, off)
    if l.problem:
        return l, None, off
    return l, ETHERTYPES.get(l["etherType"]), off + l.length


def _vlan(frame, off, ctx):
    l = _fixed("vlan_tag_t", "vlan", frame, off)
    if l.problem:
        return l, None, off
    return l, ETHERTYPES.get(l["etherType"]), off + l.length


def _arp(frame, off, ctx):
    l = _fixed("arp_t", "arp", frame, off)
    return l, None, off + (0 if l.problem else l.length)


def _ipv4(frame, off, ctx):
    l = _fixed("ipv4_t", "ipv4", frame, off)
    if l.problem:
        return l, None, off
    f = l.fields
    hl = f["ihl"] * 4
    if f["version"] != 4:
        l.problem = f"IPv4 version field is {f['version']}"
    elif f["ihl"] < 5:
        l.problem = f"IPv4 header length {hl} is below 20"
    elif len(frame) - off < hl:
        l.problem = f"truncated IPv4 options ({len(frame) - off} of {hl} bytes)"
    elif f["totalLen"] < hl:
        l.problem = f"IPv4 total length {f['totalLen']} is below the header length {hl}"
    elif len(frame) - off < f["totalLen"] and not ctx["quoted"]:
        l.problem = f"IPv4 total length {f['totalLen']} exceeds the {len(frame) - off} bytes received"
    if l.problem:
        return l, None, off
    l.length = hl
    if hl > 20:
        l.fields["options"] = frame[off + 20:off + hl]
    ctx["ip"] = ("ipv4", f["srcAddr"], f["dstAddr"], min(off + f["totalLen"], len(frame)))
    if f["fragOffset"] != 0:
        return l, "fragment", off + hl
    return l, IP_PROTOCOLS.get(f["protocol"]), off + hl


def _ipv6(frame, off, ctx):
    l = _fixed("ipv6_t", "ipv6", frame, off)
    if l.problem:
        return l, None, off
    f = l.fields
    if f["version"] != 6:
        l.problem = f"IPv6 version field is {f['version']}"
        return l, None, off
    if len(frame) - off - 40 < f["payloadLen"] and not ctx["quoted"]:
        l.problem = f"IPv6 payload length {f['payloadLen']} exceeds the {len(frame) - off - 40} bytes received"
        return l, None, off
    ctx["ip"] = ("ipv6", f["srcAddr"], f["dstAddr"], min(off + 40 + f["payloadLen"], len(frame)))
    ctx["next"] = f["nextHdr"]
    return l, _next_v6(f["nextHdr"]), off + 40


def _next_v6(nh: int) -> str | None:
    if nh in IPV6_EXTENSIONS:
        return "fragment6" if nh == 44 else "ipv6_ext"
    return IP_PROTOCOLS.get(nh)


def _ipv6_ext(frame, off, ctx):
    if len(frame) - off < 2:
        return Layer("ipv6 extension", {}, off, len(frame) - off, "truncated IPv6 extension header",
                     "ipv6_ext_t"), None, off
    nh, hlen = frame[off], frame[off + 1]
    length = 8 * (hlen + 1)
    kind = IPV6_EXTENSIONS.get(ctx.get("next", -1), "extension")
    l = Layer(f"ipv6 {kind}", {"nextHdr": nh, "hdrExtLen": hlen}, off, length, header="ipv6_ext_t")
    if len(frame) - off < length:
        l.problem = f"truncated IPv6 {kind} header"
        return l, None, off
    ctx["next"] = nh
    return l, _next_v6(nh), off + length


def _fragment6(frame, off, ctx):
    l = _fixed("ipv6_frag_t", "ipv6 fragment", frame, off)
    if l.problem:
        return l, None, off
    ctx["next"] = l["nextHdr"]
    if l["fragOffset"] != 0:
        return l, "fragment", off + 8
    return l, _next_v6(l["nextHdr"]), off + 8


def _fragment(frame, off, ctx):
    end = ctx.get("ip", (None, 0, 0, len(frame)))[3]
    return Layer("fragment data", {"bytes": end - off}, off, end - off), None, end


def _icmp(frame, off, ctx):
    l = _fixed("icmp_t", "icmp", frame, off)
    return l, None, off + (0 if l.problem else l.length)


def _icmpv6(frame, off, ctx):
    l = _fixed("icmpv6_t", "icmpv6", frame, off)
    return l, None, off + (0 if l.problem else l.length)


def _udp(frame, off, ctx):
    l = _fixed("udp_t", "udp", frame, off)
    if not l.problem and l["length"] < 8:
        l.problem = f"UDP length {l['length']} is below 8"
    return l, None, off + (0 if l.problem else l.length)


def _tcp(frame, off, ctx):
    l = _fixed("tcp_t", "tcp", frame, off)
    if l.problem:
        return l, None, off
    hl = l["dataOffset"] * 4
    if hl < 20 or len(frame) - off < hl:
        l.problem = f"bad TCP data offset {l['dataOffset']}"
        return l, None, off
    l.length = hl
    if hl > 20:
        l.fields["options"] = frame[off + 20:off + hl]
    return l, None, off + hl


def _sctp(frame, off, ctx):
    l = _fixed("sctp_t", "sctp", frame, off)
    if l.problem:
        return l, None, off
    return l, "sctp_chunk", off + 12


def _sctp_chunk(frame, off, ctx):
    end = ctx.get("ip", (None, 0, 0, len(frame)))[3]
    if off >= end:
        return Layer("sctp end", {}, off, 0), None, off
    l = _fixed("sctp_chunk_t", "sctp chunk", frame, off)
    if l.problem:
        return l, None, off
    length = l["length"]
    if length < 4 or off + length > end:
        l.problem = f"bad SCTP chunk length {length}"
        return l, None, off
    l.fields["kind"] = SCTP_CHUNKS.get(l["type"], f"type {l['type']}")
    l.length = length + (-length % 4)
    return l, "sctp_chunk", off + l.length


_HANDLERS = {"ethernet": _ethernet, "vlan": _vlan, "arp": _arp, "ipv4": _ipv4, "ipv6": _ipv6,
             "ipv6_ext": _ipv6_ext, "fragment6": _fragment6, "fragment": _fragment, "icmp": _icmp,
             "icmpv6": _icmpv6, "udp": _udp, "tcp": _tcp, "sctp": _sctp, "sctp_chunk": _sctp_chunk}


# ---------------------------------------------------------------------------- one-line summaries


def summarize(frame: bytes) -> str:
    """A tcpdump-like one-line description of a frame."""
    layers = dissect(frame)
    parts = []
    for l in layers:
        f = l.fields
        if l.problem:
            parts.append(f"[malformed: {l.problem}]")
        elif l.name == "ethernet":
            parts.append(f"{mac_str(f['srcAddr'])} > {mac_str(f['dstAddr'])}")
        elif l.name == "vlan":
            parts.append(f"vlan {f['vid']}")
        elif l.name == "arp":
            op = {1: "who-has", 2: "reply"}.get(f["oper"], f"op {f['oper']}")
            if f["oper"] == 1:
                parts.append(f"ARP {op} {ip4_str(f['tpa'])} tell {ip4_str(f['spa'])}")
            else:
                parts.append(f"ARP {op} {ip4_str(f['spa'])} is-at {mac_str(f['sha'])}")
        elif l.name == "ipv4":
            frag = ""
            if f["mf"] or f["fragOffset"]:
                frag = f" frag id {f['identification']} off {f['fragOffset'] * 8}{' MF' if f['mf'] else ''}"
            parts.append(f"IP {ip4_str(f['srcAddr'])} > {ip4_str(f['dstAddr'])} ttl {f['ttl']} "
                         f"len {f['totalLen']}{' DF' if f['df'] else ''}{frag}")
        elif l.name == "ipv6":
            parts.append(f"IP6 {ip6_str(f['srcAddr'])} > {ip6_str(f['dstAddr'])} hlim {f['hopLimit']} "
                         f"plen {f['payloadLen']}")
        elif l.name == "ipv6 fragment":
            parts.append(f"frag id {f['identification']} off {f['fragOffset'] * 8}{' M' if f['mf'] else ''}")
        elif l.name.startswith("ipv6 "):
            parts.append(l.name[5:])
        elif l.name == "icmp":
            parts.append(f"ICMP {_icmp_name(f['type'], f['code'])}")
        elif l.name == "icmpv6":
            parts.append(f"ICMP6 {_icmpv6_name(f['type'], f['code'])}")
        elif l.name == "udp":
            parts.append(f"UDP {f['srcPort']} > {f['dstPort']} len {f['length'] - 8}")
        elif l.name == "tcp":
            flags = "".join(c for c, n in zip("FSRPAUEC", ("fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"))
                            if f[n])
            parts.append(f"TCP {f['srcPort']} > {f['dstPort']} [{flags}] seq {f['seqNo']} ack {f['ackNo']}")
        elif l.name == "sctp":
            parts.append(f"SCTP {f['srcPort']} > {f['dstPort']} vtag 0x{f['verificationTag']:08x}")
        elif l.name == "sctp chunk":
            parts.append(f["kind"])
        elif l.name in ("payload", "fragment data"):
            parts.append(f"{f['bytes']} bytes{' (fragment)' if l.name == 'fragment data' else ''}")
    return ", ".join(parts)


_ICMP_NAMES = {(0, None): "echo reply", (8, None): "echo request", (3, 0): "net unreachable",
               (3, 1): "host unreachable", (3, 2): "protocol unreachable", (3, 3): "port unreachable",
               (3, 4): "fragmentation needed", (11, 0): "time exceeded in transit",
               (11, 1): "fragment reassembly time exceeded", (12, None): "parameter problem"}
_ICMPV6_NAMES = {(128, None): "echo request", (129, None): "echo reply", (1, 0): "no route",
                 (1, 4): "port unreachable", (2, None): "packet too big", (3, 0): "hop limit exceeded",
                 (3, 1): "fragment reassembly time exceeded", (4, None): "parameter problem",
                 (135, None): "neighbor solicitation", (136, None): "neighbor advertisement",
                 (133, None): "router solicitation", (134, None): "router advertisement"}


def icmp_name(t: int, c: int, v6: bool = False) -> str:
    """What an ICMP (or ICMPv6) message of this type and code is: "echo request", "port unreachable"."""
    return _icmpv6_name(t, c) if v6 else _icmp_name(t, c)


def _icmp_name(t: int, c: int) -> str:
    return _ICMP_NAMES.get((t, c)) or _ICMP_NAMES.get((t, None)) or f"type {t} code {c}"


def _icmpv6_name(t: int, c: int) -> str:
    return _ICMPV6_NAMES.get((t, c)) or _ICMPV6_NAMES.get((t, None)) or f"type {t} code {c}"
