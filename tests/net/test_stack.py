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
