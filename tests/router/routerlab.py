"""A small router for the RFC tests: three interfaces, a host behind each of the first two.

    h1 10.0.1.1 (08:00:00:00:01:01) --port 1-- R 10.0.1.254 (00:00:00:00:01:00)
    h2 10.0.2.2 (08:00:00:00:02:02) --port 2-- R 10.0.2.254 (00:00:00:00:02:00)
                                     port 3-- R 10.0.3.254 (00:00:00:00:03:00), MTU set per test
"""

from __future__ import annotations

import ipaddress

import pytest

from dataplane.build import build
from dataplane.router.agent import Interface, RouterAgent
from dataplane.router.node import Node
from dataplane.runtime.device import Device
from dataplane.runtime.tables import MatchValue
from p4helpers import PROGRAMS

H1_MAC, H2_MAC, H3_MAC = 0x080000000101, 0x080000000202, 0x080000000303
R_MAC = {1: 0x000000000100, 2: 0x000000000200, 3: 0x000000000300}


def make_router(program: str = "ipv4_router.p4", mtu3: int = 1500, rate: float = 1000.0, burst: float = 1000.0,
                v6: bool = False) -> Node:
    dev = Device(build(str(PROGRAMS / program)))
    ifaces = []
    for port in (1, 2, 3):
        i = Interface(port, R_MAC[port], mtu=mtu3 if port == 3 else 1500, name=f"eth{port}")
        if program != "ipv6_router.p4":
            i.ipv4.append(ipaddress.IPv4Interface(f"10.0.{port}.254/24"))
        if v6:
            i.ipv6.append(ipaddress.IPv6Interface(f"2001:db8:{port}::fe/64"))
        ifaces.append(i)
    agent = RouterAgent(dev, ifaces, icmp_rate=rate, icmp_burst=burst)
    agent.install()
    if program != "ipv6_router.p4":
        lpm = dev.table("ipv4_lpm")
        lpm.add([MatchValue(0x0A000100, prefix_len=24)], "forward", [H1_MAC, 1])
        lpm.add([MatchValue(0x0A000200, prefix_len=24)], "forward", [H2_MAC, 2])
        lpm.add([MatchValue(0x0A000300, prefix_len=24)], "forward", [H3_MAC, 3])
    if v6:
        lpm6 = dev.table("ipv6_lpm")
        for port, m in ((1, H1_MAC), (2, H2_MAC), (3, H3_MAC)):
            lpm6.add([MatchValue(int(ipaddress.IPv6Address(f"2001:db8:{port}::")), prefix_len=64)], "forward",
                     [m, port])
    return Node(dev, agent, "R")


@pytest.fixture
def router():
    return make_router()
