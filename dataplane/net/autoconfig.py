"""`entries: auto` and `gateway: auto`: configure a network from its shape, with networkx.

1. Segments. Links and switches join interfaces into layer-2 segments
   (broadcast domains); the interfaces of hosts and routers on a segment
   are its members. Computed as connected components of a graph whose
   vertices are interfaces.
2. Router graph, per address family. Two routers are neighbours when they
   have addresses of the family on the same segment. Paths are shortest in
   hops (breadth-first search from the routers attached to each subnet).
3. Routes. Every router gets, for each subnet of the family in the network:
   - on a segment it is attached to: a host route (/32 or /128) to every
     other member address on that segment, with the member's MAC as next
     hop. This is the router's neighbour table, filled in advance (the
     standard router programs do not resolve addresses themselves);
   - elsewhere: the subnet's prefix toward every neighbour that is one hop
     nearer to the subnet (the first routers of all the shortest paths to
     the nearest router attached to it): the equal-cost next hops, in a
     stable order (by the router's port, then the neighbour's MAC), so the
     result is deterministic. `Route.port` and `Route.nhop_mac` are the
     first of them: a router that takes one path (`ecmp: false`, or a
     program without multipath) takes that one.
4. Hosts use as default gateway the first router on their segment with an
   address in the host's subnet.

Routes go into the router architecture's tables (router.p4): ipv4_lpm and
ipv6_lpm, action forward(nhop_mac, port); a route with several next hops
goes into the program's multipath tables when it has them
(router/multipath.py).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field

import networkx as nx

from .topology import Topology


@dataclass
class Member:
    node: str
    iface: str
    port: int
    mac: int
    addrs4: list = field(default_factory=list)     # ipaddress.IPv4Interface
    addrs6: list = field(default_factory=list)     # global IPv6Interface (link-local ones are not routed)

    def addrs(self, v6: bool) -> list:
        return self.addrs6 if v6 else self.addrs4


@dataclass
class Segment:
    index: int
    members: list[Member]
    switches: list[str]

    def routers(self, topo: Topology, v6: bool) -> list[Member]:
        return [m for m in self.members if topo.nodes[m.node].kind == "router" and m.addrs(v6)]


@dataclass
class Route:
    prefix: object            # ipaddress.IPv4Network | IPv6Network
    port: int                 # the first next hop: the router's port and the neighbour's MAC
    nhop_mac: int
    # Every equal-cost next hop as (port, MAC), the first one included, in order of port then MAC;
    # empty when there is only one.
    paths: tuple = ()

    @property
    def nexthops(self) -> tuple:
        """Every next hop as (port, MAC): one, or the equal-cost ones."""
        return self.paths or ((self.port, self.nhop_mac),)


def segments(topo: Topology) -> list[Segment]:
    """The layer-2 segments of the network, in the order of the topology file."""
    g = nx.Graph()
    order = {}
    for n in topo.nodes.values():
        for i in n.interfaces.values():
            g.add_node((n.name, i.name))
            order[(n.name, i.name)] = len(order)
        if n.kind == "switch":
            ifaces = [(n.name, i) for i in n.interfaces]
            for other in ifaces[1:]:
                g.add_edge(ifaces[0], other)
    for link in topo.links:
        g.add_edge(link.a, link.b)
    out = []
    for component in nx.connected_components(g):
        members, switches = [], []
        for node, iname in sorted(component, key=order.__getitem__):
            spec = topo.nodes[node]
            if spec.kind == "switch":
                if node not in switches:
                    switches.append(node)
                continue
            i = spec.interfaces[iname]
            members.append(Member(node, iname, i.port, i.mac, [i.ipv4] if i.ipv4 else [],
                                  [a for a in i.ipv6 if not a.ip.is_link_local]))
        if members:
            out.append(Segment(len(out), members, switches))
    out.sort(key=lambda s: order[(s.members[0].node, s.members[0].iface)])
    for index, seg in enumerate(out):
        seg.index = index
    return out


def router_graph(topo: Topology, segs: list[Segment], v6: bool) -> nx.Graph:
    """Routers as vertices; an edge (with the segment) between routers that share a segment."""
    g = nx.Graph()
    for n in topo.nodes.values():
        if n.kind == "router":
            g.add_node(n.name)
    for seg in segs:
        rs = seg.routers(topo, v6)
        for i, a in enumerate(rs):
            for b in rs[i + 1:]:
                if a.node != b.node and not g.has_edge(a.node, b.node):
                    g.add_edge(a.node, b.node, segment=seg.index)
    return g


def attached_subnets(segs: list[Segment], routers_on: dict, v6: bool) -> list[tuple[object, Segment, list[str]]]:
    """Every subnet of the family once, in segment order: (network, its segment, the routers attached to
    that segment). `routers_on` maps a segment's index to its routers' members."""
    subnets = []
    seen = set()
    for seg in segs:
        attached = list(dict.fromkeys(m.node for m in routers_on[seg.index]))
        for m in seg.members:
            for a in m.addrs(v6):
                if a.network not in seen:
                    seen.add(a.network)
                    subnets.append((a.network, seg, attached))
    return subnets


def plan_routes(topo: Topology, segs: list[Segment], v6: bool) -> dict[str, list[Route]]:
    """The routes of every router for one address family, a Route object each: the reference.

    Networks are built with net/routeplan.py, which computes the same routes in the same order with
    arrays (tests/net/test_routeplan.py compares them)."""
    g = router_graph(topo, segs, v6)
    routers_on = {seg.index: seg.routers(topo, v6) for seg in segs}
    # The interface of each router on each segment where it has addresses of the family.
    iface_of: dict[tuple[str, int], Member] = {}
    for seg in segs:
        for m in routers_on[seg.index]:
            iface_of.setdefault((m.node, seg.index), m)
    subnets = attached_subnets(segs, routers_on, v6)
    names = list(g.nodes)
    index = {r: i for i, r in enumerate(names)}
    # Per router, its neighbours with the next hop toward each: (neighbour index, (our port, its MAC)),
    # in the stable order of the next hops.
    hops: list[list[tuple[int, tuple[int, int]]]] = []
    for router in names:
        out = [(index[hop], (iface_of[(router, edge["segment"])].port, iface_of[(hop, edge["segment"])].mac))
               for hop, edge in g.adj[router].items()]
        hops.append(sorted(out, key=lambda h: h[1]))
    routes: dict[str, list[Route]] = {}
    mine_idx: dict[str, set[int]] = {}
    for router in names:
        mine = [seg for seg in segs if (router, seg.index) in iface_of]
        if not mine:
            continue
        mine_idx[router] = {seg.index for seg in mine}
        out = routes[router] = []
        for seg in mine:
            own = iface_of[(router, seg.index)]
            for m in seg.members:
                if m.node != router:
                    for a in m.addrs(v6):
                        out.append(Route(ipaddress.ip_network(a.ip), own.port, m.mac))
    dist_of: dict[tuple[str, ...], list[int]] = {}
    for net, seg, attached in subnets:
        sources = tuple(r for r in attached if r in index)
        if not sources:
            continue
        dist = dist_of.get(sources)
        if dist is None:
            dist = dist_of[sources] = _hops_to([index[r] for r in sources], hops)
        for i, router in enumerate(names):
            d = dist[i]
            if d <= 0 or router not in routes or seg.index in mine_idx[router]:
                continue                  # attached, unreachable ("no route", R11), or on no segment
            nexthops = tuple(nh for j, nh in hops[i] if dist[j] == d - 1)
            port, mac = nexthops[0]
            routes[router].append(Route(net, port, mac, nexthops if len(nexthops) > 1 else ()))
    return routes


def _hops_to(sources: list[int], hops: list[list]) -> list[int]:
    """Hops from every router to the nearest of `sources` (breadth-first from them); -1 where unreachable."""
    dist = [-1] * len(hops)
    for s in sources:
        dist[s] = 0
    frontier, d = sources, 0
    while frontier:
        d += 1
        nxt = []
        for u in frontier:
            for v, _ in hops[u]:
                if dist[v] < 0:
                    dist[v] = d
                    nxt.append(v)
        frontier = nxt
    return dist


def gateways(topo: Topology, segs: list[Segment], v6: bool) -> dict[str, int]:
    """host -> address of its default router (for hosts whose gateway is 'auto')."""
    out = {}
    for seg in segs:
        routers = seg.routers(topo, v6)
        for m in seg.members:
            if topo.nodes[m.node].kind != "host" or m.node in out:
                continue
            for a in m.addrs(v6):
                for r in routers:
                    for ra in r.addrs(v6):
                        if ra.ip in a.network and m.node not in out:
                            out[m.node] = int(ra.ip)
    return out
