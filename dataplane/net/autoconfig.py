"""`entries: auto` and `gateway: auto`: configure a network from its shape, with networkx.

1. Segments. Links and switches join interfaces into layer-2 segments
   (broadcast domains); the interfaces of hosts and routers on a segment
   are its members. Computed as connected components of a graph whose
   vertices are interfaces.
2. Router graph, per address family. Two routers are neighbours when they
   have addresses of the family on the same segment. Paths are shortest in
   hops (networkx breadth-first search); among equal paths the first found
   wins, and the search follows the order of the topology file, so the
   result is deterministic.
3. Routes. Every router gets, for each subnet of the family in the network:
   - on a segment it is attached to: a host route (/32 or /128) to every
     other member address on that segment, with the member's MAC as next
     hop. This is the router's neighbour table, filled in advance (the
     standard router programs do not resolve addresses themselves);
   - elsewhere: the subnet's prefix toward the first router on the shortest
     path to the nearest router attached to that subnet.
4. Hosts use as default gateway the first router on their segment with an
   address in the host's subnet.

Routes go into the router architecture's tables (router.p4): ipv4_lpm and
ipv6_lpm, action forward(nhop_mac, port).
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
    port: int
    nhop_mac: int


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


def plan_routes(topo: Topology, segs: list[Segment], v6: bool) -> dict[str, list[Route]]:
    """The routes of every router for one address family."""
    g = router_graph(topo, segs, v6)
    routers_on = {seg.index: seg.routers(topo, v6) for seg in segs}
    # The interface of each router on each segment where it has addresses of the family.
    iface_of: dict[tuple[str, int], Member] = {}
    for seg in segs:
        for m in routers_on[seg.index]:
            iface_of.setdefault((m.node, seg.index), m)
    subnets: list[tuple[object, list[str]]] = []    # (network, routers attached to it), each network once
    seen = set()
    for seg in segs:
        attached = list(dict.fromkeys(m.node for m in routers_on[seg.index]))
        for m in seg.members:
            for a in m.addrs(v6):
                if a.network not in seen:
                    seen.add(a.network)
                    subnets.append((a.network, seg, attached))
    routes: dict[str, list[Route]] = {}
    for router in g.nodes:
        mine = [seg for seg in segs if (router, seg.index) in iface_of]
        if not mine:
            continue
        out = routes[router] = []
        for seg in mine:
            own = iface_of[(router, seg.index)]
            for m in seg.members:
                if m.node != router:
                    for a in m.addrs(v6):
                        out.append(Route(ipaddress.ip_network(a.ip), own.port, m.mac))
        dist, first_hop = _bfs(g, router)
        mine_idx = {seg.index for seg in mine}
        via: dict[str, tuple[int, int]] = {}      # neighbour -> (our port, its MAC)
        for hop, edge in g.adj[router].items():
            via[hop] = (iface_of[(router, edge["segment"])].port, iface_of[(hop, edge["segment"])].mac)
        for net, seg, attached in subnets:
            if seg.index in mine_idx:
                continue
            reachable = [r for r in attached if r in dist]
            if not reachable:
                continue                  # unreachable: the router answers "no route" (R11)
            port, mac = via[first_hop[min(reachable, key=dist.__getitem__)]]
            out.append(Route(net, port, mac))
    return routes


def _bfs(g: nx.Graph, source: str) -> tuple[dict, dict]:
    """Hop distances from source, and the first router on the path to each router."""
    dist = {source: 0}
    first_hop = {}
    for parent, child in nx.bfs_edges(g, source):
        dist[child] = dist[parent] + 1
        first_hop[child] = child if parent == source else first_hop[parent]
    return dist, first_hop


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
