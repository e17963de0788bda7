"""Topology files: a YAML description of a network, validated with positions, loaded into networkx.

    name: three routers in a line
    seed: 1
    defaults:
      link: {mtu: 1500, latency: 1ms, bandwidth: 100Mbps, queue: 100}
    nodes:
      h1:
        kind: host                         # host | switch | router | p4
        interfaces:
          eth0: {mac: "08:00:00:00:01:01", ipv4: 10.0.1.1/24, ipv6: "2001:db8:1::1/64"}
        gateway: auto                      # the router on the host's segment, or an address
        gateway6: auto
        arp: {10.0.1.254: "00:00:00:00:01:00"}   # static ARP entries (optional)
      r1:
        kind: router                       # a P4 program plus the router agent
        program: ipv4_router               # one of programs/, or a path relative to this file
                                           # (default: ipv4_router, ipv6_router or dual_stack_router)
        entries: auto                      # routes from shortest paths; or a .json / .yaml file; or inline
        ecmp: true                         # with entries: auto, every equal-cost next hop (the default);
                                           # false: one path per destination
        interfaces:
          eth1: {ipv4: 10.0.1.254/24}      # MACs are generated when not given
          eth2: {ipv4: 10.0.12.1/30, port: 7}
    links:
      - [h1:eth0, r1:eth1]
      - {ends: [r1:eth2, r2:eth1], mtu: 576, latency: 2ms, bandwidth: 10Mbps, queue: 50, loss: 0.01}
    traffic:
      - {at: 1s, ping: {from: h1, to: h2, count: 3}}

Every error names the file, line and column of the offending key or value,
and unknown keys are errors (with a suggestion), never silently ignored.
"""

from __future__ import annotations

import difflib
import ipaddress
import math
import os
import re
from dataclasses import dataclass, field

import networkx as nx

from ..controlplane.positions import MAX_NUMBER_DIGITS, DocumentChecker, Positions, load_yaml
from ..diagnostics import SourceFile, error
from ..frontend.preprocess import read_source
from ..locate import find_program

KINDS = ("host", "switch", "router", "p4")
NODE_KEYS = {"kind", "program", "entries", "interfaces", "gateway", "gateway6", "icmp_rate", "icmp_burst",
             "reassembly_timeout", "include", "defines", "arp", "ecmp", "p4runtime"}
IFACE_KEYS = {"mac", "ipv4", "ipv6", "port"}
LINK_KEYS = {"ends", "mtu", "latency", "bandwidth", "queue", "loss", "name"}
TOP_KEYS = {"name", "seed", "defaults", "nodes", "links", "traffic", "description", "max_frames", "duration"}
# A pattern expands into many flows (net/patterns.py checks it).
TRAFFIC_KINDS = {"ping", "traceroute", "udp", "tcp", "sctp", "syn_flood", "frag_flood", "pingall", "send", "pattern"}
TRAFFIC_KEYS = {"ping": {"from", "to", "count", "size", "df", "interval", "ipv6", "ttl"},
                "traceroute": {"from", "to", "ipv6", "max_hops", "queries"},
                "udp": {"from", "to", "port", "count", "size", "interval", "ipv6"},
                "tcp": {"from", "to", "port", "bytes", "ipv6", "cc", "nodelay", "ecn", "sack", "wscale",
                        "timestamps"},
                "sctp": {"from", "to", "port", "messages", "size", "ipv6"},
                "syn_flood": {"from", "to", "port", "count", "rate", "spoof", "ipv6"},
                "frag_flood": {"from", "to", "count", "rate", "size", "ipv6"},
                "pingall": {"ipv6"},
                # A frame built from a P4 program's header types (net/craft.py), or given in hex.
                "send": {"from", "headers", "payload", "hex", "count", "interval", "port", "program"}}
TRAFFIC_FLAGS = {"df", "ipv6", "spoof", "nodelay", "ecn", "sack", "wscale", "timestamps"}
TRAFFIC_RANGES = {"count": (1, 1_000_000), "size": (0, 65507), "port": (1, 65535), "bytes": (0, 1 << 30),
                  "messages": (1, 1_000_000), "max_hops": (1, 255), "queries": (1, 10), "ttl": (1, 255),
                  "rate": (1, 10_000_000)}
# A fragment train needs at least 9 bytes (the echo header and one) to be cut in two.
TRAFFIC_MIN = {("frag_flood", "size"): 1}


# A link that states no latency or bandwidth gets these, as a wire in a lab would have them (a
# switched gigabit LAN): a zero delay and an infinite rate make handshakes take no time and every
# capture timestamp equal. `latency: 0` and `bandwidth: unlimited` (or null) are possible when written.
DEFAULT_LATENCY = "100us"
DEFAULT_BANDWIDTH_BPS = "1Gbps"


@dataclass
class InterfaceSpec:
    node: str
    name: str
    port: int
    mac: int
    ipv4: ipaddress.IPv4Interface | None = None
    ipv6: list = field(default_factory=list)


@dataclass
class NodeSpec:
    name: str
    kind: str
    interfaces: dict[str, InterfaceSpec] = field(default_factory=dict)
    program: str | None = None
    entries: object = None                # "auto", a path, a dict, or None
    gateway4: object = "auto"
    gateway6: object = "auto"
    options: dict = field(default_factory=dict)
    path: tuple = ()                     # where the node is in the YAML document


@dataclass
class LinkSpec:
    name: str
    a: tuple[str, str]                   # (node, interface)
    b: tuple[str, str]
    mtu: int = 1500
    latency_ns: int = 0
    bandwidth_bps: float | None = None
    queue: int = 1000
    loss: float = 0.0
    path: tuple = ()


@dataclass
class TrafficSpec:
    at_ns: int
    kind: str
    params: dict
    path: tuple = ()
    # Where `path` points: None for the topology file itself, else the positions of a traffic file
    # (load_traffic) whose items run on a topology that has none (a tutorial's topology.json).
    positions: Positions | None = None


def p4runtime_setting(loader, value, path: tuple):
    """A node's `p4runtime`: true (a P4Runtime server on the port its place gives, 50051, 50052, ...), false,
    or the TCP port to listen on. (The servers are started by dataplane.p4runtime.network.)"""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and 0 < value < 65536:
        return value
    raise loader.fail("p4runtime must be true, false or a TCP port number (1..65535)", path)


@dataclass
class Topology:
    name: str
    path: str
    nodes: dict[str, NodeSpec]
    links: list[LinkSpec]
    traffic: list[TrafficSpec]
    seed: int = 1
    max_frames: int = 2_000_000
    duration_ns: int | None = None
    positions: Positions | None = None
    graph: nx.MultiGraph = None
    # What the loader chose for the user and the user should know before the run starts (which
    # program each switch of a topology.json runs); the commands print them first.
    notes: list[str] = field(default_factory=list)

    def interface(self, node: str, iface: str) -> InterfaceSpec:
        return self.nodes[node].interfaces[iface]

    def _repr_html_(self) -> str:
        """Jupyter: the topology's picture and tables (views/notebook.py)."""
        from ..views.notebook import topology_html
        return topology_html(self)


# ---------------------------------------------------------------------------- units

_TIME_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "ms": 1_000_000, "s": 1_000_000_000}
_RATE_UNITS = {"bps": 1, "kbps": 1e3, "mbps": 1e6, "gbps": 1e9}


def parse_time(v) -> int:
    """A duration in nanoseconds: 1ms, 250us, 2s, 10ns; a bare number is milliseconds."""
    if isinstance(v, bool):
        raise ValueError("a duration such as 1ms")
    if isinstance(v, (int, float)):
        ns = _real(v) * 1_000_000
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*(ns|us|µs|ms|s)\s*", str(v))
        if not m:
            raise ValueError(f"'{v}' is not a duration such as 1ms, 250us or 2s")
        ns = float(m.group(1)) * _TIME_UNITS[m.group(2)]
    if not math.isfinite(ns):
        raise ValueError("the duration is too long")
    if ns < 0:
        raise ValueError(f"{v} is negative")
    return int(ns)


def parse_rate(v) -> float:
    """Bits per second, at least 1: a bandwidth such as 100Mbps, or a number of bits per second."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        rate = _real(v)
    else:
        m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([kmgKMG]?bps)\s*", str(v))
        if not m:
            raise ValueError(f"'{v}' is not a bandwidth such as 100Mbps or 1Gbps")
        rate = float(m.group(1)) * _RATE_UNITS[m.group(2).lower()]
    if not math.isfinite(rate):
        raise ValueError("the bandwidth is too large")
    # 0 is not "unlimited": a link without a bandwidth has no limit; 0 would mean a link that never sends,
    # and below 1 bit/s the time to send a byte overflows.
    if rate < 1:
        raise ValueError(f"{v} is less than 1 bit/s (leave out the bandwidth for a link without limit)")
    return rate


# ---------------------------------------------------------------------------- loading


class _Loader(DocumentChecker):
    def __init__(self, source: SourceFile, doc, pos: Positions):
        super().__init__(pos)
        self.src, self.doc = source, doc

    def value(self, fn, v, path: tuple, what: str):
        try:
            return fn(v)
        except (ValueError, TypeError) as exc:
            raise self.fail(f"{what}: {exc}", path) from None

    def at_least(self, low, fn, v, path: tuple, what: str):
        """fn(v), which must not be below low: negative counts and rates are not quietly taken."""
        n = self.value(fn, v, path, what)
        if n < low:
            raise self.fail(f"{what} must be at least {low}, not {n}", path)
        return n

    def load(self) -> Topology:
        doc = self.doc
        if doc is None:
            raise self.fail("the topology file is empty", ())
        self.expect(doc, dict, (), "a topology")
        self.check_keys(doc, TOP_KEYS, (), "the topology")
        if "nodes" not in doc:
            raise self.fail("a topology needs 'nodes'", ())
        defaults = self.expect(doc.get("defaults") or {}, dict, ("defaults",), "defaults")
        self.check_keys(defaults, {"link", "host", "router", "switch"}, ("defaults",), "defaults")
        link_defaults = self.expect(defaults.get("link") or {}, dict, ("defaults", "link"), "link defaults")
        self.check_keys(link_defaults, LINK_KEYS - {"ends", "name"}, ("defaults", "link"), "link defaults")
        nodes = {}
        for index, (name, spec) in enumerate(self.expect(doc["nodes"], dict, ("nodes",), "nodes").items()):
            nodes[str(name)] = self.node(str(name), spec, ("nodes", name), index)
        self.links = links = [self.link(i, l, link_defaults, nodes) for i, l in
                 enumerate(self.expect(doc.get("links") or [], list, ("links",), "links"))]
        traffic = [self.traffic(i, t, nodes) for i, t in
                   enumerate(self.expect(doc.get("traffic") or [], list, ("traffic",), "traffic"))]
        seed = self.value(_int, doc.get("seed", 1), ("seed",), "seed")
        max_frames = self.at_least(1, _int, doc.get("max_frames", 2_000_000), ("max_frames",), "max_frames")
        duration = self.value(parse_time, doc["duration"], ("duration",), "duration") if "duration" in doc else None
        topo = Topology(str(doc.get("name", os.path.basename(self.src.path))), self.src.path, nodes, links, traffic,
                        seed, max_frames, duration, self.pos)
        self.check_consistency(topo)
        topo.graph = build_graph(topo)
        return topo

    def node(self, name: str, spec, path: tuple, index: int) -> NodeSpec:
        self.expect(spec, dict, path, f"node '{name}'")
        self.check_keys(spec, NODE_KEYS, path, f"node '{name}'")
        kind = spec.get("kind")
        if kind not in KINDS:
            raise self.fail(f"node '{name}' needs a kind: {', '.join(KINDS)}", path + (("kind",) if "kind" in spec else ()))
        n = NodeSpec(name, kind, path=path)
        if kind != "host":
            default_program = {"router": "ipv4_router", "switch": "l2_switch"}.get(kind)
            prog = spec.get("program", default_program)
            if prog is None:
                raise self.fail(f"p4 node '{name}' needs a program", path)
            found = find_program(str(prog), self.src.path)
            if found is None:
                raise self.fail(f"cannot find program '{prog}'", path + ("program",),
                                "give a path relative to the topology file, or the name of a program in programs/")
            n.program = found
            entries = spec.get("entries", "auto" if kind in ("router", "switch") else None)
            if isinstance(entries, str) and entries != "auto":
                f = os.path.join(os.path.dirname(os.path.abspath(self.src.path)), entries)
                if not os.path.isfile(f):
                    raise self.fail(f"cannot find the entries file '{entries}'", path + ("entries",))
                entries = f
            elif entries == "auto" and kind == "p4":
                raise self.fail("'entries: auto' is for routers and switches; give a file or inline entries",
                                path + ("entries",))
            n.entries = entries
            for opt in ("icmp_rate", "icmp_burst"):
                if opt in spec:
                    n.options[opt] = self.at_least(0, _real, spec[opt], path + (opt,), opt)
            if "include" in spec:
                n.options["include"] = self.include_dirs(spec["include"], path + ("include",))
            if "defines" in spec:
                n.options["defines"] = self.defines(spec["defines"], path + ("defines",))
            for k in ("arp", "reassembly_timeout"):
                if k in spec:
                    raise self.fail(f"'{k}' is a setting of hosts", path + (k,), key=True)
            if "ecmp" in spec:
                # Multipath routing of `entries: auto` (router/multipath.py).
                if kind != "router":
                    raise self.fail("'ecmp' is a setting of routers", path + ("ecmp",), key=True)
                n.options["ecmp"] = self.expect(spec["ecmp"], bool, path + ("ecmp",), "ecmp")
            if "p4runtime" in spec:
                if kind != "p4":
                    raise self.fail("'p4runtime' is a setting of p4 nodes (routers and switches have their own "
                                    "control plane)", path + ("p4runtime",), key=True)
                n.options["p4runtime"] = p4runtime_setting(self, spec["p4runtime"], path + ("p4runtime",))
        else:
            for k in ("program", "entries", "icmp_rate", "icmp_burst", "include", "defines", "ecmp", "p4runtime"):
                if k in spec:
                    raise self.fail(f"'{k}' is not a setting of hosts", path + (k,), key=True)
            if "arp" in spec:
                # Static ARP entries (like `arp -s`), for networks whose devices do not answer ARP.
                table = self.expect(spec["arp"], dict, path + ("arp",), "arp")
                n.options["static_arp"] = {
                    int(self.value(lambda s: ipaddress.IPv4Address(str(s)), ip, path + ("arp", ip), "arp")):
                        self.value(_parse_mac, mac, path + ("arp", ip), "arp") for ip, mac in table.items()}
            if "reassembly_timeout" in spec:
                n.options["reassembly_timeout"] = self.value(parse_time, spec["reassembly_timeout"],
                                                             path + ("reassembly_timeout",), "reassembly_timeout")
        for gw, attr, parse in (("gateway", "gateway4", ipaddress.IPv4Address),
                                ("gateway6", "gateway6", ipaddress.IPv6Address)):
            if gw in spec:
                if kind != "host":
                    raise self.fail(f"'{gw}' is a setting of hosts", path + (gw,), key=True)
                v = spec[gw]
                setattr(n, attr, v if v in ("auto", None) else int(self.value(parse, str(v), path + (gw,), gw)))
        ifaces = self.expect(spec.get("interfaces") or {}, dict, path + ("interfaces",), "interfaces")
        used_ports: dict[int, str] = {}
        for j, (iname, ispec) in enumerate(ifaces.items()):
            ip = path + ("interfaces", iname)
            ispec = ispec or {}
            self.expect(ispec, dict, ip, f"interface '{iname}'")
            self.check_keys(ispec, IFACE_KEYS, ip, f"interface '{iname}'")
            port = self.value(_int, ispec.get("port", j + 1), ip + ("port",), "port")
            if not 0 <= port < 510:
                raise self.fail(f"port {port} is out of range (0..509)", ip + ("port",))
            if port in used_ports:
                raise self.fail(f"port {port} is already used by interface '{used_ports[port]}'", ip + ("port",))
            used_ports[port] = str(iname)
            mac = ispec.get("mac")
            mac_v = self.value(_parse_mac, mac, ip + ("mac",), "mac") if mac is not None else \
                (0x02 << 40) | ((index + 1) << 16) | port
            v4 = self.value(lambda s: ipaddress.IPv4Interface(str(s)), ispec["ipv4"], ip + ("ipv4",), "ipv4") \
                if "ipv4" in ispec else None
            v6_raw = ispec.get("ipv6", [])
            v6 = [self.value(lambda s: ipaddress.IPv6Interface(str(s)), a, ip + ("ipv6",), "ipv6")
                  for a in (v6_raw if isinstance(v6_raw, list) else [v6_raw])]
            if kind == "switch" and (v4 or v6):
                raise self.fail("switch interfaces have no IP addresses", ip, key=True)
            n.interfaces[str(iname)] = InterfaceSpec(name, str(iname), port, mac_v, v4, v6)
        if kind == "router" and "program" not in spec:
            # The standard router program for the address families the router has.
            has4 = any(i.ipv4 for i in n.interfaces.values())
            has6 = any(i.ipv6 for i in n.interfaces.values())
            n.program = find_program("dual_stack_router" if has4 and has6 else
                                     "ipv6_router" if has6 else "ipv4_router")
        return n

    def include_dirs(self, value, path: tuple) -> list[str]:
        """The -I directories of a node's program: a directory or a list of them, each relative to the
        topology file (as `entries` is), so that a topology runs the same from any working directory."""
        single = isinstance(self.expect(value, (str, list), path, "include"), str)
        here = os.path.dirname(os.path.abspath(self.src.path))
        out = []
        for i, d in enumerate([value] if single else value):
            where = path if single else path + (i,)
            self.expect(d, str, where, "an include directory")
            full = os.path.join(here, d)
            if not os.path.isdir(full):
                raise self.fail(f"cannot find the include directory '{d}'", where)
            out.append(full)
        return out

    def defines(self, value, path: tuple) -> dict[str, str]:
        """The -D macros of a node's program: {NAME: value}, each value a string or an integer."""
        out = {}
        for name, v in self.expect(value, dict, path, "defines").items():
            if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
                raise self.fail(f"'{name}' is not a macro name", path + (name,), key=True)
            if isinstance(v, bool) or not isinstance(v, (str, int)):
                raise self.fail(f"the value of macro '{name}' must be a string or an integer", path + (name,))
            out[name] = str(v)
        return out

    def _end(self, text, path: tuple, nodes: dict) -> tuple[str, str]:
        if not isinstance(text, str) or ":" not in text:
            raise self.fail(f"a link end is written node:interface, not {text!r}", path)
        node, _, iface = text.partition(":")
        if node not in nodes:
            raise self.fail(f"unknown node '{node}'", path, suggest(node, nodes))
        if iface not in nodes[node].interfaces:
            raise self.fail(f"node '{node}' has no interface '{iface}'", path, suggest(iface, nodes[node].interfaces))
        return node, iface

    def link(self, i: int, spec, defaults: dict, nodes: dict) -> LinkSpec:
        path = ("links", i)
        if isinstance(spec, list):
            spec = {"ends": spec}
            ends_path = path
        else:
            self.expect(spec, dict, path, "a link")
            self.check_keys(spec, LINK_KEYS, path, "a link")
            ends_path = path + ("ends",)
        ends = spec.get("ends")
        if not isinstance(ends, list) or len(ends) != 2:
            raise self.fail("a link has two ends: [node:interface, node:interface]", ends_path)
        a = self._end(ends[0], ends_path + (0,), nodes)
        b = self._end(ends[1], ends_path + (1,), nodes)
        merged = dict(defaults)
        merged.update({k: v for k, v in spec.items() if k not in ("ends", "name")})

        def at(key: str) -> tuple:
            """Where a setting is written: in the link, or in defaults.link when the link takes the default."""
            return path + (key,) if key in spec or key not in defaults else ("defaults", "link", key)
        mtu = self.value(_int, merged.get("mtu", 1500), at("mtu"), "mtu")
        if mtu < 1 or mtu > 65535:
            raise self.fail(f"MTU {mtu} is out of range", at("mtu"))
        loss = self.value(_real, merged.get("loss", 0.0), at("loss"), "loss")
        if not 0 <= loss < 1:
            raise self.fail(f"loss {loss} must be in [0, 1)", at("loss"))
        bandwidth = merged.get("bandwidth", DEFAULT_BANDWIDTH_BPS)
        return LinkSpec(str(spec.get("name", f"{a[0]}-{b[0]}")), a, b, mtu,
                        self.value(parse_time, merged.get("latency", DEFAULT_LATENCY), at("latency"), "latency"),
                        None if bandwidth in (None, "unlimited") else
                        self.value(parse_rate, bandwidth, at("bandwidth"), "bandwidth"),
                        self.at_least(1, _int, merged.get("queue", 1000), at("queue"), "queue"), loss, path)

    def traffic(self, i: int, spec, nodes: dict, base: tuple = ("traffic",)) -> TrafficSpec:
        path = base + (i,)
        self.expect(spec, dict, path, "a traffic item")
        kinds = [k for k in spec if k in TRAFFIC_KINDS]
        self.check_keys(spec, TRAFFIC_KINDS | {"at"}, path, "a traffic item")
        if len(kinds) != 1:
            raise self.fail(f"a traffic item has one of {', '.join(sorted(TRAFFIC_KINDS))}", path)
        kind = kinds[0]
        if kind == "pattern":
            from . import patterns
            params = self.expect(spec[kind] or {}, dict, path + (kind,), kind)
            at = self.value(parse_time, spec.get("at", 0), path + ("at",), "at")
            return TrafficSpec(at, kind, patterns.check(self, params, path + (kind,), nodes, self.links), path)
        params = self.expect(spec[kind] or {}, dict, path + (kind,), kind)
        self.check_keys(params, TRAFFIC_KEYS[kind], path + (kind,), kind)
        at = self.value(parse_time, spec.get("at", 0), path + ("at",), "at")
        if kind == "send":
            return TrafficSpec(at, kind, self.send_item(params, path + (kind,), nodes), path)
        if kind == "pingall":                   # every host to every other: no ends to name
            if not isinstance(params.get("ipv6", False), bool):
                raise self.fail("'ipv6' is true or false", path + (kind, "ipv6"))
            return TrafficSpec(at, kind, {"ipv6": params.get("ipv6", False)}, path)
        for role in ("from", "to"):
            if role not in params:
                raise self.fail(f"{kind} needs '{role}'", path + (kind,))
            # A node name or an address: text (YAML may give a number, a list or a mapping here).
            self.expect(params[role], (str, int), path + (kind, role), f"'{role}' (a node or an address)")
            if isinstance(params[role], bool):
                raise self.fail(f"'{role}' is a node or an address, not {params[role]}", path + (kind, role))
        if params["from"] not in nodes or nodes[params["from"]].kind != "host":
            raise self.fail(f"'{params['from']}' is not a host", path + (kind, "from"),
                            suggest(str(params["from"]), {n for n, s in nodes.items() if s.kind == "host"}))
        out = {"from": str(params["from"])}
        for k, v in params.items():
            p = path + (kind, k)
            if k in ("from", "to"):
                continue
            if k in TRAFFIC_FLAGS:
                if not isinstance(v, bool):
                    raise self.fail(f"'{k}' is true or false", p)
                out[k] = v
            elif k == "interval":
                out[k] = self.value(parse_time, v, p, k)
            elif k == "cc":
                from .host.congestion import ALGORITHMS
                if v not in ALGORITHMS:
                    raise self.fail(f"'cc' is one of {', '.join(ALGORITHMS)}", p, suggest(str(v), set(ALGORITHMS)))
                out[k] = v
            else:
                low, high = TRAFFIC_RANGES[k]
                low = TRAFFIC_MIN.get((kind, k), low)
                n = self.value(_int, v, p, k)
                if not low <= n <= high:
                    raise self.fail(f"'{k}' must be between {low} and {high}", p)
                out[k] = n
        out["to"] = self.target(params["to"], nodes, out.get("ipv6", False), path + (kind, "to"))
        return TrafficSpec(at, kind, out, path)

    def send_item(self, params: dict, path: tuple, nodes: dict) -> dict:
        """A `send:` item's shape; its headers are checked against the program when the network is built."""
        if "from" not in params:
            raise self.fail("send needs 'from'", path)
        host = params["from"]
        if not isinstance(host, str) or host not in nodes or nodes[host].kind != "host":
            raise self.fail(f"'{host}' is not a host", path + ("from",),
                            suggest(str(host), {n for n, s in nodes.items() if s.kind == "host"}))
        out: dict = {"from": host}
        if "hex" in params:
            for k in ("headers", "payload"):
                if k in params:
                    raise self.fail(f"'{k}' and 'hex' exclude each other: hex is the whole frame", path + (k,),
                                    key=True)
            out["hex"] = self.expect(params["hex"], str, path + ("hex",), "hex")
        if "headers" in params:
            out["headers"] = self.expect(params["headers"] if params["headers"] is not None else {}, (dict, list),
                                         path + ("headers",), "headers")
        if "payload" in params:
            out["payload"] = self.expect(params["payload"], (str, bytes), path + ("payload",), "payload")
        if "count" in params:
            n = self.value(_int, params["count"], path + ("count",), "count")
            low, high = TRAFFIC_RANGES["count"]
            if not low <= n <= high:
                raise self.fail(f"'count' must be between {low} and {high}", path + ("count",))
            out["count"] = n
        if "interval" in params:
            out["interval"] = self.value(parse_time, params["interval"], path + ("interval",), "interval")
        if "port" in params:
            port = self.value(_int, params["port"], path + ("port",), "port")
            ports = sorted(i.port for i in nodes[host].interfaces.values())
            if port not in ports:
                raise self.fail(f"host '{host}' has no port {port} (its ports: {', '.join(map(str, ports))})",
                                path + ("port",))
            out["port"] = port
        if "program" in params:
            prog = self.expect(params["program"], str, path + ("program",), "program")
            found = find_program(prog, self.src.path)
            if found is None:
                raise self.fail(f"cannot find program '{prog}'", path + ("program",),
                                "give a path relative to the topology file, or the name of a program in programs/")
            out["program"] = found
        return out

    def target(self, to, nodes: dict, v6: bool, path: tuple) -> str:
        """A node with an address of the family, or an address literal of the family."""
        text = str(to)
        family = "IPv6" if v6 else "IPv4"
        if text in nodes:
            if not any((i.ipv6 if v6 else i.ipv4) for i in nodes[text].interfaces.values()):
                raise self.fail(f"'{text}' has no {family} address", path,
                                "set 'ipv6: true' for IPv6" if not v6 else None)
            return text
        try:
            a = ipaddress.ip_address(text)
        except ValueError:
            raise self.fail(f"'{text}' is neither a node nor an address", path, suggest(text, nodes)) from None
        if (a.version == 6) != v6:
            raise self.fail(f"{text} is not an {family} address", path,
                            "set 'ipv6: true' for IPv6" if a.version == 6 else None)
        return text

    def check_consistency(self, topo: Topology) -> None:
        seen_ends: dict[tuple, tuple] = {}
        for l in topo.links:
            for end in (l.a, l.b):
                if end in seen_ends:
                    raise self.fail(f"interface {end[0]}:{end[1]} is on two links", l.path)
                seen_ends[end] = l.path
        macs: dict[int, str] = {}
        addrs: dict[object, str] = {}
        for n in topo.nodes.values():
            for i in n.interfaces.values():
                where = f"{n.name}:{i.name}"
                if i.mac in macs:
                    raise self.fail(f"MAC address of {where} is also used by {macs[i.mac]}", n.path + ("interfaces", i.name))
                macs[i.mac] = where
                for a in ([i.ipv4] if i.ipv4 else []) + list(i.ipv6):
                    if a.ip in addrs:
                        raise self.fail(f"address {a.ip} of {where} is also used by {addrs[a.ip]}",
                                        n.path + ("interfaces", i.name))
                    addrs[a.ip] = where
        for n in topo.nodes.values():
            if n.kind == "host" and not n.interfaces:
                raise self.fail(f"host '{n.name}' has no interfaces", n.path)


# ASCII only: int() and float() also read other scripts' digits ("１２" is 12 to them).
_INT_TEXT = re.compile(r"[-+]?(?:0[xX][0-9a-fA-F_]+|0[bB][01_]+|0[oO][0-7_]+|0|[1-9][0-9_]*)")
_REAL_TEXT = re.compile(r"[-+]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")


def _int(v) -> int:
    """An integer: a YAML integer, or text such as 10, 0x1f or 0b101 (never true/false, which YAML and Python
    take for numbers)."""
    if isinstance(v, bool) or not isinstance(v, (int, str)):
        raise ValueError(f"{v!r} is not an integer")
    if isinstance(v, int):
        return v
    text = v.strip()
    if not _INT_TEXT.fullmatch(text):
        raise ValueError(f"'{v}' is not an integer")
    if len(text) > MAX_NUMBER_DIGITS:
        raise ValueError("the number is too large")
    try:
        return int(text, 0)
    except ValueError:                   # only underscores after the prefix: 0x__
        raise ValueError(f"'{v}' is not an integer") from None


def _real(v) -> float:
    """A finite number: a YAML number or text such as 0.5 (never true/false, .nan or .inf)."""
    if isinstance(v, bool) or not isinstance(v, (int, float, str)):
        raise ValueError(f"{v!r} is not a number")
    if isinstance(v, str) and not _REAL_TEXT.fullmatch(v.strip()):
        raise ValueError(f"'{v}' is not a number")
    try:
        x = float(v)
    except OverflowError:                # an integer beyond any float
        raise ValueError("the number is too large") from None
    if not math.isfinite(x):
        raise ValueError(f"{v} is not a finite number")
    return x


def _parse_mac(v) -> int:
    s = str(v)
    if not re.fullmatch(r"[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}", s):
        raise ValueError(f"'{s}' is not a MAC address such as 08:00:00:00:01:11")
    return int(re.sub("[:-]", "", s), 16)


def suggest(name: str, options) -> str | None:
    """The hint for a name that is not one of `options`: "did you mean 'x'?", or None."""
    near = difflib.get_close_matches(str(name), list(options), n=1)
    return f"did you mean '{near[0]}'?" if near else None


def build_graph(topo: Topology) -> nx.MultiGraph:
    """The network as a networkx graph: one vertex per node, one edge per link (with its spec)."""
    g = nx.MultiGraph()
    for n in topo.nodes.values():
        g.add_node(n.name, spec=n)
    for l in topo.links:
        g.add_edge(l.a[0], l.b[0], link=l)
    return g


def load_topology(path: str, program: str | None = None, settings=()) -> Topology:
    """A topology from a file (YAML, or a P4 tutorials topology.json), or by the name of one we ship
    ("line", "fat-tree", ...), as the command line takes it. `program` is topology.json's --program;
    `settings` are --set PATH=VALUE changes to the document before it is checked (net/setpath.py)."""
    from ..locate import find_topology, shipped_topologies
    found = find_topology(path)
    if found is None:
        raise error(f"no topology '{path}': not a file, nor one we ship ({', '.join(shipped_topologies())})")
    path = found
    if path.endswith(".json"):
        from .tutorial import load_tutorial_topology
        return load_tutorial_topology(path, program=program, settings=settings)
    if program is not None:
        raise error("a program for every switch (--program) is for P4 tutorials topologies (topology.json); "
                    "a YAML topology names each node's program")
    source = read_source(path, kind="topology files")
    doc, pos = load_yaml(source)
    if settings:
        from .setpath import apply_settings
        doc = apply_settings(doc, pos, settings)
    return _Loader(source, doc, pos).load()


def load_traffic(path: str, topo: Topology) -> list[TrafficSpec]:
    """The traffic of a YAML file, a list of items or a mapping with a `traffic:` list, checked against the
    nodes of `topo`: `dataplane run --traffic FILE` runs it on a topology without its own (topology.json)."""
    source = read_source(path, kind="traffic files")
    doc, pos = load_yaml(source)
    loader = _Loader(source, doc, pos)
    loader.links = topo.links
    if isinstance(doc, dict):
        loader.check_keys(doc, {"traffic"}, (), "a traffic file")
        items, base = loader.expect(doc.get("traffic") or [], list, ("traffic",), "traffic"), ("traffic",)
    else:
        items, base = loader.expect(doc if doc is not None else [], list, (), "a traffic file (a list of items)"), ()
    out = []
    for i, item in enumerate(items):
        spec = loader.traffic(i, item, topo.nodes, base)
        spec.positions = pos
        out.append(spec)
    return out


def load_topology_text(text: str, name: str = "topology.yaml", settings=()) -> Topology:
    """A topology from YAML text (a generated one); `settings` as for load_topology."""
    source = SourceFile(name, text)
    doc, pos = load_yaml(source)
    if settings:
        from .setpath import apply_settings
        doc = apply_settings(doc, pos, settings)
    return _Loader(source, doc, pos).load()
