"""Generated topologies for experiments: fat-trees and large router networks, as topology YAML.

    dataplane generate fat-tree -k 4 > fat-tree.yaml
    dataplane generate routers -n 500 --seed 1 > internet.yaml
    dataplane generate fat-tree -k 4 --traffic permutation > fat-tree-permutation.yaml
    dataplane generate fat-tree -k 4 --traffic '{kind: incast, senders: 8, size: {fixed: 1MB}}'
    dataplane generate fat-tree -k 4 --family ipv6 --traffic permutation

Every router runs the standard router of the address family (`--family`:
ipv4, the default, ipv4_router; ipv6, ipv6_router; dual, both families on
every interface, dual_stack_router) with `entries: auto`, which spreads
flows over every equal-cost path (ECMP, router/multipath.py); hosts get
`gateway: auto`. IPv4 links get /30s from 10.128.0.0/9 and hosts /24s;
IPv6 links get 2001:db8:ff:L::/64 and hosts 2001:db8:0:S::/64 (the
documentation prefix, RFC 3849), S and L counting from 1 and 0 as the
IPv4 subnets do. Addresses are assigned from the position in the graph, so
the same arguments always give the same file. The graph shapes come from
networkx: the fat-tree is built level by level (Al-Fares et al., SIGCOMM
2008); the router network is a Barabási–Albert preferential-attachment
graph (a common stand-in for the Internet's router-level degree
distribution), made connected by construction.

`--traffic PATTERN` replaces the ping and traceroute of the traffic section
with one traffic pattern (net/patterns.py): a kind (permutation,
random_pairs, incast, all_to_all, pingall) or a YAML mapping of the
pattern's settings. With `--family ipv6` the ping, traceroute and pattern
are IPv6 (`ipv6: true`); with `dual` there is a ping and a traceroute of
each family, and the pattern is IPv4 unless it says `ipv6: true`.
"""

from __future__ import annotations

import ipaddress
import shlex

import networkx as nx
import yaml

LINK_BASE = ipaddress.IPv4Address("10.128.0.0")     # router-to-router /30s come from 10.128.0.0/9
LINK_BASE6 = ipaddress.IPv6Network("2001:db8:ff::/48")   # router-to-router /64s: 2001:db8:ff:L::/64
HOST_BASE6 = ipaddress.IPv6Network("2001:db8::/48")      # hosts' /64s: 2001:db8:0:S::/64
FAMILIES = ("ipv4", "ipv6", "dual")
ROUTER_PROGRAMS = {"ipv4": "ipv4_router", "ipv6": "ipv6_router", "dual": "dual_stack_router"}


class _Builder:
    def __init__(self, name: str, description: str, family: str = "ipv4"):
        if family not in FAMILIES:
            raise ValueError(f"the address family is one of {', '.join(FAMILIES)}, not '{family}'")
        self.family = family
        self.doc = {"name": name, "description": description, "seed": 1,
                    "defaults": {"link": {"latency": "100us", "bandwidth": "1Gbps", "queue": 100}},
                    "nodes": {}, "links": []}
        self.links = 0

    def router(self, name: str) -> dict:
        node = self.doc["nodes"][name] = {"kind": "router", "program": ROUTER_PROGRAMS[self.family],
                                          "entries": "auto", "interfaces": {}}
        return node

    def addresses(self, v4: str, v6: str) -> dict:
        """An interface's addresses in the builder's family."""
        out = {}
        if self.family != "ipv6":
            out["ipv4"] = v4
        if self.family != "ipv4":
            out["ipv6"] = v6
        return out

    def iface(self, node: str, addrs: dict) -> str:
        ifaces = self.doc["nodes"][node]["interfaces"]
        name = f"eth{len(ifaces) + 1}"
        ifaces[name] = addrs
        return name

    def p2p(self, a: str, b: str) -> None:
        """A router-to-router link with a /30 and a /64 of its own."""
        base = int(LINK_BASE) + 4 * self.links
        net6 = _subnet64(LINK_BASE6, self.links, "router-to-router links")
        self.links += 1
        ia = self.iface(a, self.addresses(f"{ipaddress.IPv4Address(base + 1)}/30", f"{net6[1]}/64"))
        ib = self.iface(b, self.addresses(f"{ipaddress.IPv4Address(base + 2)}/30", f"{net6[2]}/64"))
        self.doc["links"].append([f"{a}:{ia}", f"{b}:{ib}"])

    def host(self, name: str, router: str, subnet: int) -> None:
        """A host on a /24 (10.S.S.0/24 with S split over two octets) and a /64 (2001:db8:0:S::/64) of its own
        behind `router`."""
        hi, lo = divmod(subnet, 256)
        net6 = _subnet64(HOST_BASE6, subnet, "hosts")
        ri = self.iface(router, self.addresses(f"10.{hi}.{lo}.1/24", f"{net6[1]}/64"))
        self.doc["nodes"][name] = {"kind": "host",
                                   "interfaces": {"eth0": self.addresses(f"10.{hi}.{lo}.2/24", f"{net6[2]}/64")}}
        self.doc["links"].append([f"{name}:eth0", f"{router}:{ri}"])

    def probes(self, src: str, dst: str) -> list[dict]:
        """A ping and a traceroute from src to dst in each family of the network."""
        families = {"ipv4": [False], "ipv6": [True], "dual": [False, True]}[self.family]
        pings = [{"at": "0s", "ping": _family({"from": src, "to": dst, "count": 3}, v6)} for v6 in families]
        traces = [{"at": "5s", "traceroute": _family({"from": src, "to": dst}, v6)} for v6 in families]
        return pings + traces

    def pattern(self, spec: dict | None) -> dict | None:
        """The --traffic pattern, made IPv6 in an IPv6-only network (the one family its hosts have)."""
        if spec is None or self.family != "ipv6":
            return spec
        if spec.get("ipv6", True) is not True:
            raise ValueError("--traffic: the hosts of an IPv6-only network (--family ipv6) have no IPv4 "
                             "addresses; leave 'ipv6' out or make it true")
        return {**spec, "ipv6": True}

    def text(self, header: str) -> str:
        return header + yaml.safe_dump(self.doc, sort_keys=False, default_flow_style=None, width=120)


def _subnet64(base: ipaddress.IPv6Network, index: int, what: str) -> ipaddress.IPv6Network:
    """The index-th /64 of a /48."""
    if index >= 1 << 16:
        raise ValueError(f"too many {what} for the /64s of {base} (at most 65536)")
    return ipaddress.IPv6Network((int(base.network_address) + (index << 64), 64))


def _family(item: dict, v6: bool) -> dict:
    return {**item, "ipv6": True} if v6 else item


def _family_header(family: str) -> str:
    return "" if family == "ipv4" else f" --family {family}"


def pattern_item(text: str) -> dict:
    """The `pattern:` of --traffic: a kind, or a YAML mapping with a kind (checked again when the file is run)."""
    from .patterns import KEYS, KINDS
    try:
        spec = yaml.safe_load(text)
    except yaml.YAMLError:
        raise ValueError(f"--traffic: '{text}' is neither a pattern kind nor a YAML mapping") from None
    if isinstance(spec, str):
        spec = {"kind": spec}
    if not isinstance(spec, dict):
        raise ValueError(f"--traffic is a pattern kind ({', '.join(KINDS)}) or a mapping such as "
                         "'{kind: incast, senders: 4}'")
    unknown = sorted(str(k) for k in spec if k not in KEYS)
    if unknown:
        raise ValueError(f"--traffic: unknown key '{unknown[0]}' (allowed: {', '.join(sorted(KEYS))})")
    if spec.get("kind") not in KINDS:
        raise ValueError(f"--traffic: the pattern kind is one of {', '.join(KINDS)}")
    return spec


def _traffic_header(traffic: str | None) -> str:
    return "" if traffic is None else " --traffic " + shlex.quote(" ".join(traffic.split()))


def fat_tree(k: int = 4, traffic: str | None = None, family: str = "ipv4") -> str:
    """A k-ary fat-tree of routers: (k/2)^2 core, k pods of k/2 aggregation and k/2 edge routers, k^3/4 hosts."""
    if k < 2 or k % 2:
        raise ValueError("k must be an even number of at least 2")
    traffic_text = traffic
    half = k // 2
    name, what = {"ipv4": ("", ""), "ipv6": (", IPv6", "IPv6 "), "dual": (", dual stack", "dual-stack ")}.get(
        family, ("", ""))
    b = _Builder(f"fat-tree (k={k}{name})",
                 f"A k={k} fat-tree of {half * half + k * k} {what}routers and {k ** 3 // 4} hosts.", family)
    pattern = b.pattern(None if traffic is None else pattern_item(traffic))
    cores = [f"c{i}" for i in range(half * half)]
    for c in cores:
        b.router(c)
    subnet = 1
    traffic = []
    for pod in range(k):
        aggs = [f"a{pod}_{i}" for i in range(half)]
        edges = [f"e{pod}_{i}" for i in range(half)]
        for r in aggs + edges:
            b.router(r)
        for i, a in enumerate(aggs):
            for j in range(half):
                b.p2p(a, cores[i * half + j])         # aggregation i reaches core group i
            for e in edges:
                b.p2p(e, a)
        for i, e in enumerate(edges):
            for j in range(half):
                h = f"h{pod}_{i}_{j}"
                b.host(h, e, subnet)
                subnet += 1
    hosts = [n for n, s in b.doc["nodes"].items() if s["kind"] == "host"]
    traffic = b.probes(hosts[0], hosts[-1])
    b.doc["traffic"] = traffic if pattern is None else [{"at": "0s", "pattern": pattern}]
    return b.text(f"# Generated by `dataplane generate fat-tree -k {k}{_family_header(family)}"
                  f"{_traffic_header(traffic_text)}`; do not edit by hand.\n")


def routers(n: int = 500, seed: int = 1, hosts: int = 4, traffic: str | None = None, family: str = "ipv4") -> str:
    """n routers joined as a Barabási–Albert graph (m=2), with `hosts` hosts on routers far apart."""
    if n < 3:
        raise ValueError("at least 3 routers")
    g = nx.barabasi_albert_graph(n, 2, seed=seed)
    b = _Builder(f"{n} routers", f"{n} routers in a preferential-attachment graph (Barabasi-Albert, m=2, "
                                 f"seed {seed}) with {hosts} hosts.", family)
    pattern = b.pattern(None if traffic is None else pattern_item(traffic))
    names = {v: f"r{v}" for v in sorted(g.nodes)}
    for v in sorted(g.nodes):
        b.router(names[v])
    for u, v in sorted(tuple(sorted(e)) for e in g.edges):
        b.p2p(names[u], names[v])
    # Hosts on the last routers to join: they have the lowest degrees, at the edge of the network.
    edge = sorted(g.nodes)[-hosts:]
    for i, v in enumerate(edge):
        b.host(f"h{i + 1}", names[v], i + 1)
    b.doc["traffic"] = b.probes("h1", f"h{hosts}")
    if pattern is not None:
        b.doc["traffic"] = [{"at": "0s", "pattern": pattern}]
    return b.text(f"# Generated by `dataplane generate routers -n {n} --seed {seed}{_family_header(family)}"
                  f"{_traffic_header(traffic)}`; do not edit by hand.\n")


FAMILY_HELP = ("the routers' and hosts' address family: ipv4 (ipv4_router, the default), ipv6 (ipv6_router) or dual "
               "(both on every interface, dual_stack_router)")
TRAFFIC_HELP = ("a traffic pattern instead of the ping and traceroute: permutation, random_pairs, incast, all_to_all, "
                "pingall, or a YAML mapping such as '{kind: incast, senders: 8, size: {fixed: 1MB}}'")


def register(sub) -> None:
    p = sub.add_parser("generate", help="write a generated topology (fat-tree, large router networks) as YAML")
    kinds = p.add_subparsers(dest="shape", metavar="SHAPE")
    kinds.required = True
    f = kinds.add_parser("fat-tree", help="a k-ary fat-tree of routers")
    f.add_argument("-k", type=int, default=4)
    f.add_argument("--traffic", metavar="PATTERN", help=TRAFFIC_HELP)
    f.add_argument("--family", choices=FAMILIES, default="ipv4", help=FAMILY_HELP)
    f.set_defaults(func=lambda a: _print(fat_tree, a.k, a.traffic, a.family))
    r = kinds.add_parser("routers", help="n routers in a preferential-attachment graph")
    r.add_argument("-n", type=int, default=500)
    r.add_argument("--seed", type=int, default=1)
    r.add_argument("--hosts", type=int, default=4)
    r.add_argument("--traffic", metavar="PATTERN", help=TRAFFIC_HELP)
    r.add_argument("--family", choices=FAMILIES, default="ipv4", help=FAMILY_HELP)
    r.set_defaults(func=lambda a: _print(routers, a.n, a.seed, a.hosts, a.traffic, a.family))


def _print(fn, *args) -> int:
    from ..diagnostics import error
    try:
        text = fn(*args)
    except ValueError as exc:
        raise error(str(exc)) from None
    print(text, end="")
    return 0
