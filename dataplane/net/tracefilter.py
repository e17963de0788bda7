"""`--trace-filter`: which trace records to show.

A filter is a list of terms separated by commas. Terms of one kind are
alternatives (any of them may match); terms of different kinds must all
match:

    h1, s1                  records of node h1 or node s1
    icmp                    packets of a protocol: arp, nd, ipv4 (ip), ipv6 (ip6), icmp, icmpv6 (icmp6),
                            tcp, udp, sctp, fragment
    10.0.1.1>10.0.2.2       IP packets from one address (or host name) to another
    h1<>h2                  ... in either direction
    port 80                 TCP, UDP or SCTP packets from or to port 80
    #12                     packet 12, on every hop (packet numbers: net/numbering.py)

    s1, tcp, port 80        TCP packets to or from port 80, as node s1 saw them
    h1>h2, h2>h1, icmp      ICMP between h1 and h2

A record is kept when its node is one of the named nodes (if any are
named) and one of its frames (the frame received, or one sent) matches
every packet term. Applications' lines (ping replies, traceroute hops)
belong to no packet: they are kept unless the filter names nodes other
than theirs or packet numbers.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from ..protocols.dissect import Layer, find

# Protocol words and the dissected layer a frame must have (None: a test of its own below).
PROTOCOLS = {"arp": "arp", "ipv4": "ipv4", "ipv6": "ipv6", "icmp": "icmp", "icmpv6": "icmpv6", "tcp": "tcp",
             "udp": "udp", "sctp": "sctp", "nd": None, "fragment": None}
ALIASES = {"ip": "ipv4", "ip6": "ipv6", "icmp6": "icmpv6"}
ND_TYPES = range(133, 138)          # router and neighbour solicitation and advertisement, redirect (RFC 4861)

_PACKET = re.compile(r"#(\d+)$")
_PORT = re.compile(r"port\s+(\S+)$")
_FLOW = re.compile(r"(.+?)\s*(<>|>)\s*(.+)$")


class FilterError(ValueError):
    """A filter that cannot be read; the message is one line, for the user."""


@dataclass
class TraceFilter:
    """A parsed filter: the alternatives of each kind (an empty kind accepts everything)."""
    text: str
    nodes: set = field(default_factory=set)
    protocols: set = field(default_factory=set)
    flows: list = field(default_factory=list)         # (sources, destinations, both ways): address sets
    ports: set = field(default_factory=set)
    packets: set = field(default_factory=set)

    def keeps_node(self, names: tuple) -> bool:
        return not self.nodes or any(n in self.nodes for n in names)

    def selects_packets(self) -> bool:
        return bool(self.protocols or self.flows or self.ports or self.packets)

    def keeps_frame(self, layers: list[Layer], number) -> bool:
        """Does one frame (dissected, with its packet number or None) match every packet term?"""
        if self.packets and (number is None or number.packet not in self.packets):
            return False
        if self.protocols and not any(_has_protocol(layers, p) for p in self.protocols):
            return False
        if self.ports and not (_ports(layers) & self.ports):
            return False
        if self.flows:
            ends = _ip_ends(layers)
            if ends is None or not any(_in_flow(ends, flow) for flow in self.flows):
                return False
        return True

    def keeps_app_line(self, host: str) -> bool:
        return not self.packets and self.keeps_node((host,))


def parse_filter(text: str, net) -> TraceFilter:
    """Read a filter for the nodes and addresses of `net`; FilterError says what is wrong."""
    f = TraceFilter(text)
    terms = [t.strip() for t in text.split(",")]
    if not any(terms):
        raise FilterError("the trace filter is empty; give nodes, protocols, flows (h1>h2), ports (port 80) "
                          "or packet numbers (#12), separated by commas")
    for term in terms:
        if not term:
            raise FilterError(f"trace filter '{text}': an empty term between commas")
        _add_term(f, term, net)
    return f


def _add_term(f: TraceFilter, term: str, net) -> None:
    word = ALIASES.get(term.lower(), term.lower())
    if term in net.hosts or term in net.devices:
        f.nodes.add(term)
    elif word in PROTOCOLS:
        f.protocols.add(word)
    elif m := _PACKET.match(term):
        f.packets.add(int(m.group(1)))
    elif m := _PORT.match(term):
        port = m.group(1)
        if not port.isdigit() or not 0 <= int(port) <= 65535:
            raise FilterError(f"trace filter term '{term}': a port is a number from 0 to 65535")
        f.ports.add(int(port))
    elif m := _FLOW.match(term):
        f.flows.append((_addresses(m.group(1), term, net), _addresses(m.group(3), term, net), m.group(2) == "<>"))
    else:
        nodes = ", ".join(list(net.hosts) + list(net.devices))
        raise FilterError(f"trace filter term '{term}' is not a node ({nodes}), a protocol "
                          f"({', '.join(PROTOCOLS)}), a flow (h1>h2, 10.0.1.1<>10.0.2.2), 'port N' or "
                          f"a packet number (#12)")


def _addresses(text: str, term: str, net) -> frozenset:
    """An address, or the addresses of a node (all of its interfaces, both families)."""
    try:
        return frozenset([ipaddress.ip_address(text)])
    except ValueError:
        pass
    spec = net.topo.nodes.get(text)
    if spec is None:
        raise FilterError(f"trace filter term '{term}': '{text}' is neither an address nor a node of "
                          f"{net.topo.name}")
    found = set()
    for iface in spec.interfaces.values():
        if iface.ipv4 is not None:
            found.add(iface.ipv4.ip)
        found.update(a.ip for a in iface.ipv6)
    if not found:
        raise FilterError(f"trace filter term '{term}': node '{text}' has no IP address")
    return frozenset(found)


def _has_protocol(layers: list[Layer], word: str) -> bool:
    if word == "nd":
        icmp6 = find(layers, "icmpv6")
        return icmp6 is not None and not icmp6.problem and icmp6["type"] in ND_TYPES
    if word == "fragment":
        ip = find(layers, "ipv4")
        if ip is not None and not ip.problem and (ip["mf"] or ip["fragOffset"]):
            return True
        return find(layers, "ipv6 fragment") is not None
    return find(layers, PROTOCOLS[word]) is not None


def _ports(layers: list[Layer]) -> set:
    for name in ("tcp", "udp", "sctp"):
        layer = find(layers, name)
        if layer is not None and not layer.problem:
            return {layer["srcPort"], layer["dstPort"]}
    return set()


def _ip_ends(layers: list[Layer]):
    """(source, destination) of the outermost IP header, as ipaddress objects; None without one."""
    for name, make in (("ipv4", ipaddress.IPv4Address), ("ipv6", ipaddress.IPv6Address)):
        layer = find(layers, name)
        if layer is not None and not layer.problem:
            return make(layer["srcAddr"]), make(layer["dstAddr"])
    return None


def _in_flow(ends: tuple, flow: tuple) -> bool:
    src, dst = ends
    sources, destinations, both = flow
    return (src in sources and dst in destinations) or (both and src in destinations and dst in sources)
