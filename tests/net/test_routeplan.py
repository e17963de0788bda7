"""net/routeplan.py computes the routes of autoconfig.plan_routes (the reference), in the same order, and
multipath.install_route_arrays puts them into the tables as multipath.install_routes does."""

from __future__ import annotations

import numpy as np
import pytest

from dataplane.build import build
from dataplane.net import autoconfig, generate
from dataplane.net.network import Network
from dataplane.net.routeplan import RoutePlan, _distinct_rows
from dataplane.net.topology import load_topology_text
from dataplane.router import multipath
from dataplane.runtime.device import Device
from p4helpers import PROGRAMS

from test_autoconfig import RING

# Shapes with equal-cost paths (fat-trees), a sparse graph with hubs, both families, and a LAN with two routers.
TOPOLOGIES = {
    "fat-tree-4": lambda: generate.fat_tree(4),
    "fat-tree-4-dual": lambda: generate.fat_tree(4, family="dual"),
    "fat-tree-6-ipv6": lambda: generate.fat_tree(6, family="ipv6"),
    "routers-60": lambda: generate.routers(60, seed=3),
    "routers-40-dual": lambda: generate.routers(40, seed=5, family="dual"),
    "ring-with-a-lan": lambda: RING,
}


def topology(name: str):
    return load_topology_text(TOPOLOGIES[name](), f"{name}.yaml")


def reference_rows(routes) -> list[tuple]:
    return [(int(r.prefix.network_address), r.prefix.prefixlen, r.nexthops) for r in routes]


@pytest.mark.parametrize("name", sorted(TOPOLOGIES))
@pytest.mark.parametrize("v6", [False, True])
def test_the_same_routes_in_the_same_order_as_plan_routes(name, v6):
    topo = topology(name)
    segs = autoconfig.segments(topo)
    reference = autoconfig.plan_routes(topo, segs, v6)
    plan = RoutePlan(topo, segs, v6)
    for router in topo.nodes:
        got = plan.routes_of(router)
        assert (got.rows() if got is not None else None) == \
            (reference_rows(reference[router]) if router in reference else None), router


def test_rows_of_many_columns_are_told_apart_as_rows_of_few():
    rng = np.random.default_rng(1)
    for columns in (3, 63, 64, 150):
        bits = rng.random((200, columns)) < 0.05
        bits[:50] = bits[50:100]                          # repeated rows
        patterns, inverse = _distinct_rows(bits)
        assert (patterns[inverse] == bits).all()
        assert len({tuple(p) for p in patterns}) == len(patterns) == len({tuple(r) for r in bits})


def table_state(dev):
    lpm, ecmp = dev.table("ipv4_lpm"), dev.table("ecmp_nhop")
    entries = [(e.handle, e.key, e.mask, e.aid, e.args) for e in lpm.entries.values()]
    profile = ecmp.profile
    members = [(m.handle, m.aid, m.args) for m in profile.members.values()]
    groups = [(g.handle, [m.handle for m in g.members]) for g in profile.groups.values()]
    return entries, members, groups, [(e.handle, e.key) for e in ecmp.entries.values()]


@pytest.mark.parametrize("ecmp", [True, False])
def test_install_route_arrays_fills_the_tables_as_install_routes_does(ecmp):
    topo = topology("fat-tree-4")
    segs = autoconfig.segments(topo)
    reference = autoconfig.plan_routes(topo, segs, False)
    plan = RoutePlan(topo, segs, False)
    program = build(str(PROGRAMS / "ipv4_router.p4"))
    multi = 0
    for router in ("e0_0", "a1_1", "c0"):
        one, other = Device(program), Device(program)
        multipath.install_routes(one.table("ipv4_lpm"), one.table("ecmp_nhop") if ecmp else None,
                                 reference_rows(reference[router]))
        multipath.install_route_arrays(other.table("ipv4_lpm"), other.table("ecmp_nhop") if ecmp else None,
                                       plan.routes_of(router))
        assert table_state(one) == table_state(other)
        multi += len(table_state(one)[2])
    assert multi > 0 if ecmp else multi == 0


def test_a_built_network_keeps_its_computed_routes_as_arrays():
    net = Network(topology("routers-60"))
    lpm = net.devices["r10"].device.table("ipv4_lpm")
    assert lpm.index.routes is not None and len(lpm.index.routes) == len(lpm.entries) > 100
    assert not lpm.entries.objects
