"""The host stack (dataplane/net/host/stack.py): which IPv4 destinations are a subnet's broadcast."""

from __future__ import annotations

import pytest

from dataplane.net.apps import Ping
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.net.transfers import TcpTransfer
from dataplane.protocols import packets as P

S = 1_000_000_000

TWO_HOSTS = """\
name: two hosts
nodes:
  a: {kind: host, interfaces: {eth0: {mac: "02:00:00:00:00:01", ipv4: A}}, gateway: null}
  b: {kind: host, interfaces: {eth0: {mac: "02:00:00:00:00:02", ipv4: B}}, gateway: null}
links:
  - [a:eth0, b:eth0]
"""


def two_hosts(tmp_path, a: str, b: str) -> Network:
    path = tmp_path / "two.yaml"
    path.write_text(TWO_HOSTS.replace("A", a).replace("B", b))
    return Network(load_topology(str(path)))


@pytest.mark.parametrize("a, b", [("10.0.1.0/31", "10.0.1.1/31"), ("10.0.1.1/31", "10.0.1.0/31")])
def test_the_higher_address_of_a_31_is_a_host_not_a_broadcast(tmp_path, a, b):
    # RFC 3021: a /31 has no broadcast address. The tutorials give h1 10.0.1.1/31, which ping and TCP reach.
    net = two_hosts(tmp_path, a, b)
    ping = Ping(net, "a", "b", count=2).start(0)
    tcp = TcpTransfer(net, "b", "a", nbytes=5000).start(0)
    net.run(5 * S)
    assert len(ping.received) == 2 and tcp.intact


@pytest.mark.parametrize("b, dst, broadcast", [("10.0.1.2/24", "10.0.1.255", True),
                                                 ("10.0.1.2/24", "10.0.1.2", False),
                                                 ("10.0.1.1/31", "10.0.1.1", False),
                                                 ("10.0.1.1/32", "10.0.1.1", False)])
def test_what_is_a_broadcast(tmp_path, b, dst, broadcast):
    net = two_hosts(tmp_path, "10.0.1.9/24", b)
    got = []
    net.host("b").udp_bind(7, lambda pkt, sport, dport, data: got.append(pkt.broadcast))
    src, to = P.ip4("10.0.1.9"), P.ip4(dst)
    frame = P.ethernet(0x020000000002, 0x020000000001, P.ETH_IPV4,       # to b's MAC: IP decides
                       P.ipv4(src, to, P.IP_UDP, P.udp(src, to, 1000, 7, b"hello")))
    net.host("a").send_frame(1, frame)
    net.run(S)
    assert got == [broadcast]


# ---------------------------------------------------------------------------- route decisions kept per destination

def _host_on(address: str, gateway: str | None = None):
    import ipaddress

    from dataplane.net.host.stack import Host, HostInterface
    from dataplane.net.sim import Simulator
    iface = HostInterface(1, 0x020000000001, ipaddress.IPv4Interface(address))
    return Host(Simulator(), "h", [iface], gateway4=P.ip4(gateway) if gateway else None), iface


def _reference_route4(host, dst: int):
    """route4 as the stack first wrote it, with ipaddress objects and no cache."""
    import ipaddress
    for i in host.interfaces.values():
        if i.ipv4 is not None and ipaddress.IPv4Address(dst) in i.ipv4.network:
            return i, dst
    if host.gateway4 is not None:
        for i in host.interfaces.values():
            if i.ipv4 is not None and ipaddress.IPv4Address(host.gateway4) in i.ipv4.network:
                return i, host.gateway4
    return None


def test_a_route_decision_is_kept_until_the_default_router_changes():
    host, iface = _host_on("10.0.1.9/24")
    far = P.ip4("192.0.2.7")
    assert host.route4(far) is None                     # no default router yet: no route, and that is kept
    host.gateway4 = P.ip4("10.0.1.1")
    assert host.route4(far) == (iface, P.ip4("10.0.1.1"))
    host.gateway4 = P.ip4("10.0.1.254")
    assert host.route4(far) == (iface, P.ip4("10.0.1.254"))
    host.gateway4 = P.ip4("172.16.0.1")                 # not on any subnet of the host
    assert host.route4(far) is None


def test_a_route_decision_is_forgotten_when_an_address_changes():
    import ipaddress
    host, iface = _host_on("10.0.1.9/24", "10.0.1.1")
    peer = P.ip4("10.0.2.5")
    assert host.route4(peer) == (iface, P.ip4("10.0.1.1"))       # through the default router
    assert host.is_mine(P.ip4("10.0.1.9"), False)
    iface.ipv4 = ipaddress.IPv4Interface("10.0.2.9/24")
    assert host.route4(peer) == (iface, peer)                    # on the link now
    assert host.route4(P.ip4("192.0.2.1")) is None               # the default router is no longer on a subnet
    assert host.is_mine(P.ip4("10.0.2.9"), False) and not host.is_mine(P.ip4("10.0.1.9"), False)
    assert (iface.ip4, iface.bcast4) == (P.ip4("10.0.2.9"), P.ip4("10.0.2.255"))
    iface.ipv4 = None
    assert host.route4(peer) is None and not host.is_mine(P.ip4("10.0.2.9"), False)


def test_interfaces_replaced_or_changed_in_place_are_routed_anew():
    import ipaddress

    from dataplane.net.host.stack import HostInterface
    host, iface = _host_on("10.0.1.9/24")
    other = HostInterface(2, 0x020000000002, ipaddress.IPv4Interface("10.0.3.9/24"))
    dst = P.ip4("10.0.3.1")
    assert host.route4(dst) is None
    host.interfaces = {1: iface, 2: other}
    assert host.route4(dst) == (other, dst)
    del host.interfaces[2]
    host.routes_changed()                  # the documented call after changing the dict in place
    assert host.route4(dst) is None


@pytest.mark.parametrize("address, gateway", [("10.0.1.9/24", "10.0.1.1"), ("10.0.1.1/31", "10.0.1.0"),
                                              ("10.0.1.1/32", None), ("192.168.0.77/16", "192.168.200.1")])
def test_routes_equal_the_ipaddress_reference(address, gateway):
    import random
    host, _ = _host_on(address, gateway)
    rng = random.Random(5)
    base = P.ip4(address.split("/")[0])
    for dst in [rng.getrandbits(32) for _ in range(300)] + [base ^ rng.getrandbits(9) for _ in range(300)]:
        assert host.route4(dst) == _reference_route4(host, dst)
        assert host.route4(dst) == _reference_route4(host, dst)          # and again, from the cache


def test_the_route_cache_is_bounded():
    host, _ = _host_on("10.0.1.9/24", "10.0.1.1")
    for dst in range(host.ROUTE_CACHE_MAX * 2 + 5):
        host.route4(dst)
    assert len(host._routes4) <= host.ROUTE_CACHE_MAX


def test_an_address_out_of_range_fails_as_before():
    import ipaddress
    host, _ = _host_on("10.0.1.9/24", "10.0.1.1")
    with pytest.raises(ipaddress.AddressValueError):
        host.route4(1 << 32)
