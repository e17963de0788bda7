"""Multipath routes (ECMP) in a router's tables, and the flow hash the router program computes.

A router program that supports multipath (programs/ipv4_router.p4,
ipv6_router.p4 and dual_stack_router.p4) has, next
to its LPM table, an indirect table over an action selector: a route with
several equal-cost next hops is `multipath(group, paths)` in the LPM table;
`group` is a group of the selector whose members are `forward(nhop_mac,
port)`, one per next hop, in the order of the regions of the hash space.
The program hashes the flow's 5-tuple with CRC-32 (`flow_hash` for IPv4,
`flow_hash6` for IPv6), multiplies the hash by
the router's odd seed (register ecmp_seed) and keeps the top 16 bits, then
takes the region `hash * paths >> 16` (hash-threshold, RFC 2992 section
3.2); the selector runs the member at that position (BMv2: hash % size,
with the region as the hash). `flow_hash` and `region` here compute the
same, for the agent's own packets and for tests. The seed differs from
router to router (`router_seed`: from the topology's seed and the router's
name), as Linux's flow hash is keyed by a random number per host: with one
hash everywhere, the routers of successive tiers of a fat-tree would make
the same choice and use only some of the paths (hash polarization).

Members are created in the order of the next hops (by port, then MAC), one
per distinct next hop of the router, so that a group's members, which BMv2
keeps in the order of their handles, are in that order too; routes with the
same next hops share a group.
"""

from __future__ import annotations

import zlib

from ..runtime.tables import MatchValue, Table

SEED_REGISTER = "ecmp_seed"


def router_seed(topology_seed: int, router: str) -> int:
    """A router's multipath hash seed: odd, and the same in every run of the same topology."""
    return zlib.crc32(f"{topology_seed}/{router}".encode()) | 1


def flow_hash(src: int, dst: int, protocol: int, sport: int = 0, dport: int = 0) -> int:
    """The program's hash of a flow: CRC-32 of source, destination, protocol, source and destination port
    (13 bytes). Fragments and protocols without ports hash with both ports 0."""
    data = (src.to_bytes(4, "big") + dst.to_bytes(4, "big") + bytes([protocol])
            + sport.to_bytes(2, "big") + dport.to_bytes(2, "big"))
    return zlib.crc32(data)


def flow_hash6(src: int, dst: int, next_header: int, sport: int = 0, dport: int = 0) -> int:
    """The program's hash of an IPv6 flow: CRC-32 of source, destination, the Next Header field, source and
    destination port (37 bytes; no flow label). Packets whose Next Header is not TCP, UDP or SCTP (a Fragment
    header, other extension headers, ICMPv6) hash with that Next Header and both ports 0."""
    data = (src.to_bytes(16, "big") + dst.to_bytes(16, "big") + bytes([next_header])
            + sport.to_bytes(2, "big") + dport.to_bytes(2, "big"))
    return zlib.crc32(data)


def region(hash_value: int, paths: int, seed: int) -> int:
    """Which of `paths` equal regions of the hash space a flow falls in at a router with this seed
    (RFC 2992 hash-threshold, on the top 16 bits of hash * seed)."""
    mixed = (hash_value * (seed | 1)) & 0xFFFFFFFF
    return (mixed >> 16) * paths >> 16


def has_multipath(lpm: Table) -> bool:
    """Whether a route table can hold multipath routes (its program has the `multipath` action)."""
    return any(a.short_name == "multipath" for a in lpm.actions)


def install_routes(lpm: Table, ecmp, rows) -> None:
    """Put routes into a router's tables. `rows`: (network, prefix length, next hops [(port, MAC), ...]).

    A route with one next hop, or every route when `ecmp` (the program's multipath table) is None, is
    forward(nhop_mac, port) toward its first next hop; the others are multipath(group, paths)."""
    single, multi = [], []
    for value, plen, nexthops in rows:
        (single if ecmp is None or len(nexthops) == 1 else multi).append((value, plen, tuple(nexthops)))
    lpm.add_prefixes("forward", [(value, plen, (nexthops[0][1], nexthops[0][0])) for value, plen, nexthops in single])
    if not multi:
        return
    profile = ecmp.profile
    members = {hop: profile.create_member("forward", (hop[1], hop[0]))
               for hop in sorted({hop for _, _, nexthops in multi for hop in nexthops})}
    groups: dict[tuple, int] = {}
    out = []
    for value, plen, nexthops in multi:
        group = groups.get(nexthops)
        if group is None:
            group = groups[nexthops] = _make_group(ecmp, members, nexthops)
        out.append((value, plen, (group, len(nexthops))))
    lpm.add_prefixes("multipath", out)


def install_route_arrays(lpm: Table, ecmp, routes) -> None:
    """install_routes for a router's routes as arrays (net/routeplan.RouterRoutes: values, plens, which,
    hopsets): the same entries, groups and members in the same order, without a Python object per route."""
    import numpy as np
    hopsets, which = routes.hopsets, np.asarray(routes.which)
    paths = np.array([len(h) for h in hopsets], dtype=np.int64)
    multi = paths[which] > 1 if ecmp is not None else np.zeros(len(which), dtype=bool)
    single = ~multi
    lpm.add_routes(routes.values[single], routes.plens[single],
                   [("forward", (h[0][1], h[0][0])) for h in hopsets], which[single])
    if not multi.any():
        return
    used, first = np.unique(which[multi], return_index=True)
    in_order = [int(w) for w in used[np.argsort(first, kind="stable")]]
    profile = ecmp.profile
    members = {hop: profile.create_member("forward", (hop[1], hop[0]))
               for hop in sorted({hop for w in in_order for hop in hopsets[w]})}
    choices = [("multipath", (0, 0))] * len(hopsets)
    for w in in_order:
        choices[w] = ("multipath", (_make_group(ecmp, members, hopsets[w]), len(hopsets[w])))
    lpm.add_routes(routes.values[multi], routes.plens[multi], choices, which[multi])


def _make_group(ecmp, members: dict, nexthops: tuple) -> int:
    profile = ecmp.profile
    group = profile.create_group()
    for hop in nexthops:
        profile.add_member_to_group(members[hop], group)
    if [m.handle for m in profile.group(group).members] != [members[hop] for hop in nexthops]:
        raise AssertionError(f"group {group} of {profile.name}: members out of the order of the next hops")
    ecmp.add_group_entry([MatchValue(group)], group)
    return group


def resolve(ecmp, group: int, paths: int, hash_value: int, seed: int):
    """The member (runtime.profiles.Member) a packet with this flow hash runs for route multipath(group, paths)
    at a router with this seed, as the program chooses it; None when the group is missing or empty."""
    if ecmp is None:
        return None
    entry = ecmp.lookup(group)          # the table's one key is the group
    if entry is None:
        return None
    ref = entry.ref
    if not ref.is_group:
        return ref
    if not ref.members:
        return None
    return ref.members[region(hash_value, paths, seed) % len(ref.members)]
