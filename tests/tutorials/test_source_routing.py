"""source_routing: h1 sends packets carrying a stack of source routes (README: `./send.py h2`, then the route
`2 3 2 2 1`); the switches follow it to h2, and a route through a port without a link goes nowhere."""

from __future__ import annotations

from craftlab import MS, exercise_network, header, payload, received, send


def routed(ports: list[int]) -> dict:
    return {"srcRoutes": [{"port": p} for p in ports], "ipv4": {"dstAddr": "10.0.2.2"}}


def test_the_readme_route_and_the_short_one_reach_h2():
    net = exercise_network("source_routing")
    long = send(net, "h1", routed([2, 3, 2, 2, 1]), payload="hello")
    send(net, "h1", routed([2, 1]), payload="short", at_ns=5 * MS)
    net.run()
    # The sender's parser walk set the last route's bottom-of-stack bit (bos) and the EtherType.
    assert [h.render() for h in long.headers[:2]] == [
        "ethernet(dstAddr=ff:ff:ff:ff:ff:ff, srcAddr=08:00:00:00:01:11, etherType=0x1234)",
        "srcRoutes[0](bos=0, port=2)"]
    assert "srcRoutes[4](bos=1, port=1)" in long.report()
    got = received(net, "h2")
    assert [payload(r) for r in got] == [b"hello", b"short"]
    # The last switch removed the routes and made the frame IPv4 again; each hop decremented the TTL (and
    # the program leaves the header checksum as it was: h2's stack drops the packet, receive.py shows it).
    assert all(header(r, "ethernet")["etherType"] == 0x0800 for r in got)
    assert [header(r, "ipv4")["ttl"] for r in got] == [64 - 5, 64 - 2]
    assert all(r.dropped == "bad checksum (IPv4 header checksum)" for r in got)
    assert received(net, "h3") == []


def test_a_route_through_a_port_without_a_link_is_dropped():
    net = exercise_network("source_routing")
    send(net, "h1", routed([7, 1]), payload="lost")
    net.run()
    assert received(net, "h2") == [] and received(net, "h3") == []
    assert net.summary().drops_by_node == {"s1": 1}
