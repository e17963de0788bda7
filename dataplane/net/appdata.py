"""Real application messages for transfers to well-known ports, so that Wireshark dissects every layer.

A TCP transfer to port 80 or 8080 is an HTTP/1.1 upload: one POST request whose head and body make up
the transfer's size exactly (the body is the transfer's usual test pattern). A TCP transfer to port 53
is a series of DNS queries framed as RFC 1035 4.2.2 says. A UDP flow to port 53 sends DNS queries of
the flow's datagram size, padded with the EDNS(0) Padding option (RFC 7830), and the receiver answers
each one. An SCTP message to port 80 is one HTTP request. Other ports carry the test pattern as before:
the ports the shipped topologies and the generators use are chosen so that no Wireshark dissector claims
them.

The names asked and answered are the topology's hosts under the documented example domain (RFC 2606):
host h2 is `h2.example.`, and its answer is h2's own address. Everything here is a pure function of
its arguments (no clock, no randomness), so runs and golden traces stay the same.

Dispatch is data: `TCP`, `UDP` and `SCTP` map a port to what it carries; `stream()`, `datagrams()` and
`message()` are the only entry points the applications use.
"""

from __future__ import annotations

import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

DOMAIN = "example"                       # RFC 2606: reserved for documentation and examples


class TooSmall(ValueError):
    """The size asked for is smaller than the port's smallest message."""

    def __init__(self, what: str, smallest: int):
        super().__init__(f"{what} takes at least {smallest} bytes")
        self.what, self.smallest = what, smallest


class Body(Protocol):
    """The bytes a message carries as its content: `chunk(offset, n)` computes any part of them."""

    def chunk(self, offset: int, n: int) -> bytes: ...


# ---------------------------------------------------------------------------- names

@dataclass(frozen=True)
class Zone:
    """The names a DNS server answers for: (host name, IPv4 address, IPv6 address), in name order.
    `server` is the name of the host that receives (the HTTP Host header)."""

    hosts: tuple[tuple[str, int | None, int | None], ...] = ()
    server: str = "server"

    @classmethod
    def of(cls, net, server: str | None) -> Zone:
        """The hosts of a network with their primary addresses."""
        hosts = tuple((name, net.hosts[name].primary_address(False), net.hosts[name].primary_address(True))
                      for name in sorted(net.hosts))
        return cls(hosts, server or "server")

    def names(self, v6: bool) -> list[tuple[str, int]]:
        """(fully qualified name, address) of every host with an address of the family."""
        return [(fqdn(name), a6 if v6 else a4) for name, a4, a6 in self.hosts if (a6 if v6 else a4) is not None]

    def address(self, name: str, v6: bool) -> int | None:
        return dict(self.names(v6)).get(name.lower())


def fqdn(host: str) -> str:
    """A host's name under the example domain, as a valid host name (RFC 1123: letters, digits, hyphens)."""
    label = "".join(c if c.isalnum() and c.isascii() else "-" for c in host.lower()).strip("-") or "host"
    return f"{label[:63]}.{DOMAIN}."


# ---------------------------------------------------------------------------- HTTP/1.1 (RFC 9110, 9112)

class Message:
    """A head of fixed bytes followed by a body: len() is the whole size, chunk() any part of it."""

    def __init__(self, head: bytes, body: Body, body_size: int):
        self.head, self.body, self.size = head, body, len(head) + body_size

    def __len__(self) -> int:
        return self.size

    def chunk(self, offset: int, n: int) -> bytes:
        n = max(0, min(n, self.size - offset))
        head = self.head[offset:offset + n]
        rest = n - len(head)
        return head + (self.body.chunk(max(0, offset - len(self.head)), rest) if rest else b"")


def http_head(host: str, length: int, spaces: int = 1) -> bytes:
    """The head of an upload: request line, Host, Content-Type and Content-Length, then the blank line.
    `spaces` after the colon of Content-Length is optional whitespace (RFC 9110 5.5), one byte to spare."""
    return (f"POST /upload HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/octet-stream\r\nContent-Length:{' ' * spaces}{length}\r\n\r\n").encode()


def http_upload(size: int, body: Body, zone: Zone) -> Message:
    """A POST of exactly `size` bytes (head and body). The body's length is size minus the head's, and
    the head holds that length in decimal: where no length fits (its digits change the head by one), the
    head takes one more space of optional whitespace."""
    host = fqdn(zone.server).rstrip(".")
    smallest = len(http_head(host, 0))
    if size < smallest:
        raise TooSmall("an HTTP request", smallest)
    for spaces in (1, 2):
        for digits in range(1, 12):
            length = size - len(http_head(host, 0, spaces)) - (digits - 1)
            if length >= 0 and len(str(length)) == digits:
                return Message(http_head(host, length, spaces), body, length)
    raise AssertionError(f"no HTTP head fits {size} bytes")           # one of the two always fits


# ---------------------------------------------------------------------------- DNS (RFC 1035, 6891, 7830)

A, AAAA, OPT, IN, PADDING = 1, 28, 41, 1, 12
EDNS_UDP_SIZE = 1232                    # the DNS Flag Day 2020 default
TTL = 3600
_HEADER = struct.Struct("!HHHHHH")      # id, flags, qdcount, ancount, nscount, arcount
RD, QR_AA = 0x0100, 0x8400
NXDOMAIN = 3


def _qname(name: str) -> bytes:
    return b"".join(bytes([len(label)]) + label.encode() for label in name.rstrip(".").split(".")) + b"\0"


def _opt(padding: int | None) -> bytes:
    """The OPT pseudo-record (RFC 6891), with a Padding option of `padding` zero bytes when not None."""
    option = b"" if padding is None else struct.pack("!HH", PADDING, padding) + bytes(padding)
    return b"\0" + struct.pack("!HHIH", OPT, EDNS_UDP_SIZE, 0, len(option)) + option


def dns_query_size(name: str) -> int:
    """The smallest padded query for `name` (an empty Padding option)."""
    return _HEADER.size + len(_qname(name)) + 4 + len(_opt(0))


def dns_query(ident: int, name: str, v6: bool, size: int) -> bytes:
    """A recursive query for the A (AAAA) record of `name`, padded to exactly `size` bytes."""
    smallest = dns_query_size(name)
    if size < smallest:
        raise TooSmall(f"a DNS query for {name}", smallest)
    question = _qname(name) + struct.pack("!HH", AAAA if v6 else A, IN)
    return _HEADER.pack(ident & 0xFFFF, RD, 1, 0, 0, 1) + question + _opt(size - smallest)


def parse_question(query: bytes) -> tuple[int, int, str, int] | None:
    """(id, flags, name, type) of a query with one question in uncompressed labels; None otherwise."""
    if len(query) < _HEADER.size:
        return None
    ident, flags, qdcount, _, _, _ = _HEADER.unpack_from(query)
    if flags & 0x8000 or qdcount != 1:
        return None
    labels, i = [], _HEADER.size
    while i < len(query) and query[i]:
        n = query[i]
        if n > 63 or i + 1 + n > len(query):
            return None
        labels.append(query[i + 1:i + 1 + n].decode("ascii", "replace"))
        i += 1 + n
    if i + 5 > len(query):
        return None
    qtype = struct.unpack_from("!H", query, i + 1)[0]
    return ident, flags, ".".join(labels) + ".", qtype


def dns_answer(query: bytes, zone: Zone) -> bytes | None:
    """The authoritative answer to one of our queries: the host's address, or NXDOMAIN for a name that
    is not in the zone (or has no address of the type). None for something that is not a query."""
    q = parse_question(query)
    if q is None or q[3] not in (A, AAAA):
        return None
    ident, flags, name, qtype = q
    address = zone.address(name, qtype == AAAA)
    question = _qname(name) + struct.pack("!HH", qtype, IN)
    rcode = 0 if address is not None else NXDOMAIN
    header = _HEADER.pack(ident, QR_AA | (flags & RD) | rcode, 1, 0 if address is None else 1, 0, 1)
    answer = b""
    if address is not None:
        rdata = address.to_bytes(16 if qtype == AAAA else 4, "big")
        answer = struct.pack("!HHHIH", 0xC000 | _HEADER.size, qtype, IN, TTL, len(rdata)) + rdata
    return header + question + answer + _opt(None)


class DnsQueries:
    """A UDP flow's datagrams to port 53: query `seq` (from 1) asks for the zone's hosts in turn, its
    DNS id is the sequence number (mod 2^16) and its padding makes it exactly the flow's size."""

    def __init__(self, zone: Zone, v6: bool, size: int):
        self.zone, self.v6, self.size = zone, v6, size
        self.names = [name for name, _ in zone.names(v6)] or [fqdn(zone.server)]
        smallest = max(dns_query_size(n) for n in self.names)
        if size < smallest:
            raise TooSmall("a DNS query for the longest host name", smallest)

    def datagram(self, seq: int) -> bytes:
        return dns_query(seq, self.names[(seq - 1) % len(self.names)], self.v6, self.size)

    @staticmethod
    def sequence(data: bytes, sent: int) -> int:
        """The sequence number of a query that arrives when `sent` were sent: the latest with its DNS id
        (ids repeat every 2^16 queries; 0 when it cannot be one of ours)."""
        ident = int.from_bytes(data[:2], "big")
        seq = sent - ((sent - ident) & 0xFFFF)
        return seq if seq >= 1 else 0

    def answer(self, data: bytes) -> bytes | None:
        return dns_answer(data, self.zone)


class DnsOverTcp:
    """A TCP transfer to port 53: queries, each with its two-byte length (RFC 1035 4.2.2), of 512 bytes
    each but the last, which takes the rest (a rest too small for a query joins the one before)."""

    FRAME = 2 + 512

    def __init__(self, size: int, zone: Zone, v6: bool):
        self.size = size
        self.queries = DnsQueries(zone, v6, 512)
        self.smallest = 2 + max(dns_query_size(n) for n in self.queries.names)
        if 0 < size < self.smallest:
            raise TooSmall("a DNS query over TCP", self.smallest)
        whole, rest = divmod(size, self.FRAME)
        if rest and rest < self.smallest:
            whole, rest = whole - 1, rest + self.FRAME     # join the last 512-byte query (at most 65535 bytes)
        self.count = whole + (1 if rest else 0)
        self.last = rest or self.FRAME
        self._cache: tuple[int, bytes] = (-1, b"")

    def __len__(self) -> int:
        return self.size

    def frame(self, i: int) -> bytes:
        if self._cache[0] != i:
            length = (self.last if i == self.count - 1 else self.FRAME) - 2
            query = dns_query(i + 1, self.queries.names[i % len(self.queries.names)], self.queries.v6, length)
            self._cache = (i, len(query).to_bytes(2, "big") + query)
        return self._cache[1]

    def chunk(self, offset: int, n: int) -> bytes:
        n = max(0, min(n, self.size - offset))
        out = []
        while n > 0:
            i = min(offset // self.FRAME, self.count - 1)
            start = i * self.FRAME
            part = self.frame(i)[offset - start:offset - start + n]
            out.append(part)
            offset, n = offset + len(part), n - len(part)
        return b"".join(out)


# ---------------------------------------------------------------------------- the port tables

# The ports transfers use when none is given: they carry the test pattern, and no Wireshark dissector
# claims them (UDP 5001 would be CPFI or iPerf2), so a capture shows the pattern as plain data.
DEFAULT_PORT = {"tcp": 5001, "udp": 9000, "sctp": 5002}

Stream = Callable[[int, Body, Zone, bool], object]

TCP: dict[int, Stream] = {
    80: lambda size, body, zone, v6: http_upload(size, body, zone),
    8080: lambda size, body, zone, v6: http_upload(size, body, zone),
    53: lambda size, body, zone, v6: DnsOverTcp(size, zone, v6),
}
UDP: dict[int, Callable[[Zone, bool, int], DnsQueries]] = {53: DnsQueries}
SCTP: dict[int, Stream] = {80: TCP[80]}
PROTOCOL = {("tcp", 80): "http", ("tcp", 8080): "http", ("tcp", 53): "dns", ("udp", 53): "dns",
            ("sctp", 80): "http"}          # what Wireshark names the messages (frame.protocols)


def stream(port: int, size: int, body: Body, zone: Zone, v6: bool = False):
    """What a TCP transfer of `size` bytes to `port` sends: an object with len() and chunk(offset, n),
    or None when the port carries the plain test pattern. Raises TooSmall."""
    make = TCP.get(port)
    return None if make is None or size == 0 else make(size, body, zone, v6)


def datagrams(port: int, zone: Zone, v6: bool, size: int) -> DnsQueries | None:
    """What a UDP flow to `port` sends and how its receiver answers, or None for the test pattern."""
    make = UDP.get(port)
    return None if make is None else make(zone, v6, size)


def message(port: int, size: int, body: Body, zone: Zone, v6: bool = False) -> bytes | None:
    """One SCTP message of `size` bytes to `port`, or None for the test pattern."""
    make = SCTP.get(port)
    return None if make is None else make(size, body, zone, v6).chunk(0, size)
