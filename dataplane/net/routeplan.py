"""The routes of `entries: auto` for big networks: autoconfig.plan_routes computed with arrays.

The same routes in the same order as autoconfig.plan_routes (which stays
the reference, with a Route object per route): first each router's host
routes to its neighbours on its segments, then a route to every subnet it is
not attached to and can reach, in the order of the subnets, toward every
neighbour one hop nearer to the subnet (the equal-cost next hops, in the
order of port then MAC). What differs is how:

- hop counts between all routers come from one breadth-first search run
  for every source at once, a level at a time, on a boolean matrix (numpy),
  instead of one search per subnet;
- a subnet's distance from every router is the minimum over the routers
  attached to it; a router's next hops toward every subnet are found by
  comparing its neighbours' distances with its own, for all subnets at once;
- a router's routes are arrays (network, prefix length, index of its set of
  next hops), made when the router is installed, so that the routes of the
  whole network never exist at once.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .autoconfig import Segment, attached_subnets, router_graph
from .topology import Topology

UNREACHABLE = np.iinfo(np.int32).max


@dataclass
class RouterRoutes:
    """One router's routes: route i is values[i]/plens[i] toward the next hops hopsets[which[i]]."""
    values: np.ndarray        # network addresses (uint64; Python ints in an object array for IPv6)
    plens: np.ndarray
    which: np.ndarray
    hopsets: list             # tuples of next hops (port, MAC), in order of port then MAC

    def __len__(self) -> int:
        return len(self.values)

    def rows(self) -> list[tuple[int, int, tuple]]:
        """(network, prefix length, next hops) per route, as autoconfig.Route.nexthops gives them."""
        return [(int(v), int(p), self.hopsets[w]) for v, p, w in zip(self.values, self.plens, self.which)]


class RoutePlan:
    """The routes of every router of one address family; `routes_of(router)` makes one router's."""

    def __init__(self, topo: Topology, segs: list[Segment], v6: bool) -> None:
        g = router_graph(topo, segs, v6)
        routers_on = {seg.index: seg.routers(topo, v6) for seg in segs}
        iface_of = {}
        for seg in segs:
            for m in routers_on[seg.index]:
                iface_of.setdefault((m.node, seg.index), m)
        self.key_dtype = object if v6 else np.uint64
        names = list(g.nodes)
        self.index = {r: i for i, r in enumerate(names)}
        # Per router, its neighbours with the next hop toward each, in the stable order of the next hops.
        self.hops: list[list[tuple[int, tuple[int, int]]]] = []
        for router in names:
            out = [(self.index[hop], (iface_of[(router, edge["segment"])].port,
                                      iface_of[(hop, edge["segment"])].mac))
                   for hop, edge in g.adj[router].items()]
            self.hops.append(sorted(out, key=lambda h: h[1]))
        # Host routes: to every other member address on each segment the router is attached to.
        self.host_routes: dict[str, list[tuple[int, int, tuple]]] = {}
        width = 128 if v6 else 32
        mine: dict[str, list[Segment]] = {}
        for seg in segs:
            for router in dict.fromkeys(m.node for m in routers_on[seg.index]):
                mine.setdefault(router, []).append(seg)
        for router in names:
            if router not in mine:
                continue
            out = self.host_routes[router] = []
            for seg in mine[router]:
                own = iface_of[(router, seg.index)]
                for m in seg.members:
                    if m.node != router:
                        for a in m.addrs(v6):
                            out.append((int(a.ip), width, ((own.port, m.mac),)))
        # Subnets, each once, with the routers attached to them.
        subnets = attached_subnets(segs, routers_on, v6)
        values = [int(network.network_address) for network, _, _ in subnets]
        plens = [network.prefixlen for network, _, _ in subnets]
        sources = [tuple(self.index[r] for r in attached if r in self.index) for _, _, attached in subnets]
        self.subnet_values = np.array(values, dtype=self.key_dtype)
        self.subnet_plens = np.array(plens, dtype=np.int64)
        self.distance = _subnet_distances(_all_pairs_hops(self.hops), sources)

    def routes_of(self, router: str) -> RouterRoutes | None:
        """The router's routes, or None when it has no interface with an address of the family."""
        host = self.host_routes.get(router)
        if host is None:
            return None
        i = self.index[router]
        hopsets = [h for _, _, h in host]
        d = self.distance[:, i]
        rows = np.flatnonzero((d > 0) & (d < UNREACHABLE))
        neighbours = self.hops[i]
        which = np.arange(len(host), dtype=np.int64)
        if len(rows) and neighbours:
            nearer = self.distance[np.ix_(rows, [j for j, _ in neighbours])] == (d[rows] - 1)[:, None]
            patterns, inverse = _distinct_rows(nearer)
            for bits in patterns:
                hopsets.append(tuple(nh for (_, nh), on in zip(neighbours, bits) if on))
            which = np.concatenate([which, len(host) + inverse])
        else:
            rows = rows[:0]
        values = np.concatenate([np.array([v for v, _, _ in host], dtype=self.key_dtype), self.subnet_values[rows]])
        plens = np.concatenate([np.array([p for _, p, _ in host], dtype=np.int64), self.subnet_plens[rows]])
        return RouterRoutes(values, plens, which, hopsets)


def _distinct_rows(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct rows of a boolean matrix, and for each row the index of its distinct row.

    Up to 63 columns, a row is one number (sorting numbers is much faster than sorting rows)."""
    k = bits.shape[1]
    if k <= 63:
        codes = bits.astype(np.uint64) @ (np.uint64(1) << np.arange(k, dtype=np.uint64))
        distinct, inverse = np.unique(codes, return_inverse=True)
        patterns = ((distinct[:, None] >> np.arange(k, dtype=np.uint64)) & np.uint64(1)).astype(bool)
        return patterns, inverse.reshape(-1)
    packed, inverse = np.unique(np.packbits(bits, axis=1), axis=0, return_inverse=True)
    return np.unpackbits(packed, axis=1, count=k).astype(bool), inverse.reshape(-1)


def _all_pairs_hops(hops: list[list]) -> np.ndarray:
    """Hops between every two routers (row: from, column: to); UNREACHABLE where there is no path.

    Breadth-first from every router at once: level d's frontier is each source's routers at distance d,
    a boolean matrix; the next level is what their edges reach that no level has."""
    n = len(hops)
    dist = np.full((n, n), UNREACHABLE, dtype=np.int32)
    np.fill_diagonal(dist, 0)
    src = np.array([u for u, out in enumerate(hops) for _ in out], dtype=np.int64)
    dst = np.array([v for out in hops for v, _ in out], dtype=np.int64)
    if not len(src):
        return dist
    order = np.argsort(dst, kind="stable")
    src, dst = src[order], dst[order]
    starts = np.flatnonzero(np.r_[True, dst[1:] != dst[:-1]])
    targets = dst[starts]
    visited = np.eye(n, dtype=bool)
    frontier = visited.copy()
    level = 0
    while True:
        level += 1
        reached = np.zeros((n, n), dtype=bool)
        reached[:, targets] = np.logical_or.reduceat(frontier[:, src], starts, axis=1)
        reached &= ~visited
        if not reached.any():
            return dist
        dist[reached] = level
        visited |= reached
        frontier = reached


def _subnet_distances(dist: np.ndarray, sources: list[tuple]) -> np.ndarray:
    """Hops from every router to the nearest router attached to each subnet (row: subnet, column: router)."""
    out = np.full((len(sources), dist.shape[0]), UNREACHABLE, dtype=np.int32)
    done: dict[tuple, int] = {}
    for s, attached in enumerate(sources):
        if not attached:
            continue
        same = done.get(attached)
        if same is not None:
            out[s] = out[same]
            continue
        done[attached] = s
        out[s] = dist[list(attached)].min(axis=0)     # the graph is undirected: from = to
    return out
