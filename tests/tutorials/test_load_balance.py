"""load_balance: h1 sends TCP packets to 10.0.0.1 (README: `./send.py 10.0.0.1 "P4 is cool"`, a random source
port each time); s1 hashes the 5-tuple and sends each to h2 or h3, so both receive some."""

from __future__ import annotations

from craftlab import MS, exercise_network, header, payload, received, send


def test_packets_to_the_shared_address_are_spread_over_h2_and_h3():
    net = exercise_network("load_balance")
    ports = range(49152, 49152 + 20)
    for i, sport in enumerate(ports):
        send(net, "h1", {"ipv4": {"dstAddr": "10.0.0.1"}, "tcp": {"srcPort": sport, "dstPort": 1234}},
             payload="P4 is cool", at_ns=i * MS)
    net.run()
    h2, h3 = received(net, "h2"), received(net, "h3")
    assert len(h2) + len(h3) == len(ports)
    assert h2 and h3
    # Each went to one host only, rewritten for it; the message came through.
    assert {header(r, "tcp")["srcPort"] for r in h2}.isdisjoint({header(r, "tcp")["srcPort"] for r in h3})
    assert {header(r, "ipv4")["dstAddr"] for r in h2} == {0x0A000202}
    assert {header(r, "ipv4")["dstAddr"] for r in h3} == {0x0A000303}
    assert all(payload(r) == b"P4 is cool" for r in h2 + h3)


def test_the_same_flow_always_takes_the_same_way():
    net = exercise_network("load_balance")
    for i in range(5):
        send(net, "h1", {"ipv4": {"dstAddr": "10.0.0.1"}, "tcp": {"srcPort": 50000, "dstPort": 1234}},
             at_ns=i * MS)
    net.run()
    assert sorted([len(received(net, "h2")), len(received(net, "h3"))]) == [0, 5]
