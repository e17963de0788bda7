"""Small networks for host-stack tests: two hosts on one link, or hosts around a router."""

from __future__ import annotations

import ipaddress

from dataplane.net.host.stack import Host, HostInterface
from dataplane.net.sim import Link, Simulator

MAC_A, MAC_B = 0x020000000001, 0x020000000002


def two_hosts(mtu: int = 1500, latency_ns: int = 1000, bandwidth_bps: float | None = None, loss: float = 0.0,
              v6: bool = True, seed: int = 1):
    """Hosts a (10.0.0.1, 2001:db8::1) and b (10.0.0.2, 2001:db8::2) on one link; returns (sim, a, b, link)."""
    sim = Simulator(seed=seed)
    ia = HostInterface(1, MAC_A, ipaddress.IPv4Interface("10.0.0.1/24"),
                       [ipaddress.IPv6Interface("2001:db8::1/64")] if v6 else [], mtu)
    ib = HostInterface(1, MAC_B, ipaddress.IPv4Interface("10.0.0.2/24"),
                       [ipaddress.IPv6Interface("2001:db8::2/64")] if v6 else [], mtu)
    a = Host(sim, "a", [ia])
    b = Host(sim, "b", [ib])
    link = Link(sim, "a-b", a, 1, b, 1, mtu=mtu, latency_ns=latency_ns, bandwidth_bps=bandwidth_bps, loss=loss,
                seed=seed)
    ia.link = ib.link = link
    return sim, a, b, link
