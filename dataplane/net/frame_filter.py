"""Capture filters as tcpdump writes them (pcap-filter(7)), for packet sockets of simulated hosts.

    accept = compile_filter("udp and port 4321")
    accept(frame)  -> True or False

A real scapy socket hands its `filter` to libpcap, which compiles it to BPF for the kernel; a simulated
host's socket (`dataplane exec`) has no kernel, so the expression is evaluated here, on the frame's
bytes, and a frame it rejects is not taken by the socket (the host's stack decides its fate, as it
would in Linux). The common part of the language is understood:

  ether|ip|ip6|arp|rarp|tcp|udp|sctp|icmp|icmp6|igmp      the protocol is present
  [PROTO] [src|dst] host ADDR   (ADDR: IPv4, IPv6, or a MAC with `ether`)
  [PROTO] [src|dst] net CIDR    [tcp|udp|sctp] [src|dst] port N | portrange N-M
  ether proto N | ip proto N | ip6 proto N | proto N  (N a number or a name: ip, arp, tcp, udp, ...)
  ether broadcast | ether multicast | broadcast | multicast | less N | greater N
  and && or || not ! ( )  and a bare value repeats the qualifiers before it (`port 80 or 443`)

Anything else is refused with a FilterError that names the word. As in tcpdump, `port` and `host`
look at IPv4 and IPv6 (and ARP for hosts), ports only in first fragments, no VLAN tag is skipped.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Callable

ETHERTYPES = {"ip": 0x0800, "arp": 0x0806, "rarp": 0x8035, "ip6": 0x86DD}
IP_PROTOCOLS = {"icmp": 1, "igmp": 2, "tcp": 6, "udp": 17, "icmp6": 58, "sctp": 132}
PROTOCOLS = ("ether", *ETHERTYPES, *IP_PROTOCOLS)
_TOKEN = re.compile(r"\s*(\(|\)|&&|\|\||!|[^\s()!&|]+)")


class FilterError(ValueError):
    """A filter expression outside what this module understands."""


class _Frame:
    """The fields a filter can ask about, read once from a frame's bytes."""

    def __init__(self, frame: bytes):
        self.length = len(frame)
        self.dst_mac = frame[0:6]
        self.src_mac = frame[6:12]
        self.ethertype = int.from_bytes(frame[12:14], "big") if len(frame) >= 14 else None
        self.ip_src = self.ip_dst = None          # ipaddress objects, IPv4 or IPv6
        self.arp_addrs: tuple = ()
        self.proto = None
        self.sport = self.dport = None
        l3 = frame[14:]
        if self.ethertype == 0x0800 and len(l3) >= 20:
            ihl = (l3[0] & 0x0F) * 4
            self.ip_src, self.ip_dst = ipaddress.IPv4Address(l3[12:16]), ipaddress.IPv4Address(l3[16:20])
            self.proto = l3[9]
            first_fragment = int.from_bytes(l3[6:8], "big") & 0x1FFF == 0
            self._ports(l3[ihl:] if first_fragment else b"")
        elif self.ethertype == 0x86DD and len(l3) >= 40:
            self.ip_src, self.ip_dst = ipaddress.IPv6Address(l3[8:24]), ipaddress.IPv6Address(l3[24:40])
            self.proto = l3[6]
            self._ports(l3[40:])
        elif self.ethertype in (0x0806, 0x8035) and len(l3) >= 28 and l3[4:6] == b"\x06\x04":
            self.arp_addrs = (ipaddress.IPv4Address(l3[14:18]), ipaddress.IPv4Address(l3[24:28]))

    def _ports(self, l4: bytes) -> None:
        if self.proto in (6, 17, 132) and len(l4) >= 4:
            self.sport, self.dport = int.from_bytes(l4[0:2], "big"), int.from_bytes(l4[2:4], "big")


Test = Callable[[_Frame], bool]


def compile_filter(text: str) -> Callable[[bytes], bool]:
    """The expression as a function of a frame; FilterError if it is not understood."""
    test = _Parser(text).parse()
    return lambda frame: test(_Frame(frame))


class _Parser:
    def __init__(self, text: str):
        self.text = text
        self.tokens = _TOKEN.findall(text)
        if "".join(self.tokens).replace(" ", "") != re.sub(r"\s+", "", text):
            raise FilterError(f"'{text}' has characters a filter cannot contain")
        self.pos = 0
        self.last = ("", "", "host")          # the qualifiers a bare value repeats

    def fail(self, message: str) -> FilterError:
        return FilterError(f"'{self.text}': {message}")

    def peek(self) -> str | None:
        return self.tokens[self.pos] if self.pos < len(self.tokens) else None

    def take(self) -> str:
        word = self.peek()
        if word is None:
            raise self.fail("the expression ends too early")
        self.pos += 1
        return word

    def parse(self) -> Test:
        if not self.tokens:
            return lambda f: True
        test = self.alternatives()
        if self.peek() is not None:
            raise self.fail(f"unexpected '{self.peek()}'")
        return test

    def alternatives(self) -> Test:
        tests = [self.conjunction()]
        while self.peek() in ("or", "||"):
            self.take()
            tests.append(self.conjunction())
        return tests[0] if len(tests) == 1 else (lambda f: any(t(f) for t in tests))

    def conjunction(self) -> Test:
        tests = [self.negation()]
        while self.peek() in ("and", "&&"):
            self.take()
            tests.append(self.negation())
        return tests[0] if len(tests) == 1 else (lambda f: all(t(f) for t in tests))

    def negation(self) -> Test:
        if self.peek() in ("not", "!"):
            self.take()
            inner = self.negation()
            return lambda f: not inner(f)
        if self.peek() == "(":
            self.take()
            inner = self.alternatives()
            if self.take() != ")":
                raise self.fail("a '(' is not closed")
            return inner
        return self.primitive()

    def primitive(self) -> Test:
        word = self.take()
        if word in ("less", "greater"):
            n = self.number(self.take())
            return (lambda f: f.length <= n) if word == "less" else (lambda f: f.length >= n)
        if word in ("broadcast", "multicast"):
            return _link_kind(word)
        proto = direction = kind = ""
        if word in PROTOCOLS:
            proto, word = word, self.peek()
            if word in ("broadcast", "multicast") and proto == "ether":
                self.take()
                return _link_kind(word)
            if word == "proto":
                self.take()
                return self.protocol_number(proto)
            if word not in ("src", "dst", "host", "net", "port", "portrange"):
                return _has(proto)
            word = self.take()
        elif word == "proto":
            return self.protocol_number("")
        if word in ("src", "dst"):
            direction, word = word, self.take()
        if word in ("host", "net", "port", "portrange"):
            kind, word = word, self.take()
        elif not (proto or direction):
            if word in ("and", "or", "not", ")", "&&", "||"):
                raise self.fail(f"a value is missing before '{word}'")
            if not re.match(r"^[0-9a-fA-F:.\-/]+$", word):
                raise self.fail(f"'{word}' is not something this simulation can filter on "
                                f"(see `pydoc dataplane.net.frame_filter`)")
            proto, direction, kind = self.last          # `port 80 or 443`: 443 is a port as well
        self.last = (proto, direction, kind or "host")
        return self.qualified(proto, direction, kind or "host", word)

    def qualified(self, proto: str, direction: str, kind: str, value: str) -> Test:
        if kind in ("port", "portrange"):
            if proto not in ("", "tcp", "udp", "sctp", "ip", "ip6"):
                raise self.fail(f"'{proto} {kind}' is not a filter")
            low, _, high = value.partition("-") if kind == "portrange" else (value, "", value)
            lo, hi = self.number(low), self.number(high or low)
            protos = {IP_PROTOCOLS[proto]} if proto in IP_PROTOCOLS else {6, 17, 132}
            family = ETHERTYPES.get(proto)
            return lambda f: (f.proto in protos and (family is None or f.ethertype == family)
                              and _directed(direction, f.sport, f.dport, lambda p: p is not None and lo <= p <= hi))
        if proto == "ether":
            if kind != "host":
                raise self.fail(f"'ether {kind}' is not a filter")
            mac = self.mac(value)
            return lambda f: _directed(direction, f.src_mac, f.dst_mac, lambda m: m == mac)
        if proto not in ("", "ip", "ip6", "arp", "rarp"):
            raise self.fail(f"'{proto} {kind}' is not a filter")
        try:
            net = ipaddress.ip_network(value, strict=False) if kind == "net" else ipaddress.ip_address(value)
        except ValueError:
            raise self.fail(f"'{value}' is not an IP {'network' if kind == 'net' else 'address'}") from None
        match = (lambda a: a is not None and a.version == net.version and a in net) if kind == "net" else \
            (lambda a: a == net)
        arp = proto in ("", "arp", "rarp") and net.version == 4
        ip = proto in ("", "ip", "ip6")
        return lambda f: ((ip and _directed(direction, f.ip_src, f.ip_dst, match))
                          or (arp and bool(f.arp_addrs) and _directed(direction, *f.arp_addrs, match)))

    def protocol_number(self, proto: str) -> Test:
        value = self.take().lstrip("\\")
        if proto == "ether":
            number = ETHERTYPES[value] if value in ETHERTYPES else self.number(value)
            return lambda f: f.ethertype == number
        if proto not in ("", "ip", "ip6"):
            raise self.fail(f"'{proto} proto' is not a filter")
        number = IP_PROTOCOLS[value] if value in IP_PROTOCOLS else self.number(value)
        family = ETHERTYPES.get(proto)
        return lambda f: f.proto == number and (family is None or f.ethertype == family)

    def number(self, word: str) -> int:
        try:
            return int(word, 0)
        except ValueError:
            raise self.fail(f"'{word}' is not a number") from None

    def mac(self, word: str) -> bytes:
        parts = re.split(r"[:\-.]", word)
        if len(parts) != 6 or not all(re.fullmatch(r"[0-9a-fA-F]{1,2}", p) for p in parts):
            raise self.fail(f"'{word}' is not a MAC address")
        return bytes(int(p, 16) for p in parts)


def _directed(direction: str, src, dst, match: Callable) -> bool:
    if direction == "src":
        return match(src)
    if direction == "dst":
        return match(dst)
    return match(src) or match(dst)


def _has(proto: str) -> Test:
    if proto == "ether":
        return lambda f: True
    if proto in ETHERTYPES:
        number = ETHERTYPES[proto]
        return lambda f: f.ethertype == number
    number = IP_PROTOCOLS[proto]
    return lambda f: f.proto == number and f.ethertype in (0x0800, 0x86DD)


def _link_kind(word: str) -> Test:
    if word == "broadcast":
        return lambda f: f.dst_mac == b"\xff" * 6
    return lambda f: bool(f.dst_mac[:1] and f.dst_mac[0] & 1)
