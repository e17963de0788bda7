"""basic_tunnel: a packet in the myTunnel header is forwarded by its dst_id, whatever its IP address says
(README: `./send.py 10.0.3.3 "P4 is cool" --dst_id 2` reaches h2); without the tunnel header, the IP
address decides (it reaches h3)."""

from __future__ import annotations

from craftlab import MS, exercise_network, header, payload, received, send


def network(tmp_path):
    # The corpus writes exact keys as one-element lists ("hdr.myTunnel.dst_id": [1]), which the runtime JSON
    # loader on this branch refuses: the test uses copies with plain numbers.
    return exercise_network("basic_tunnel", entries_dir=tmp_path)


def test_a_tunnelled_packet_goes_by_dst_id_even_with_another_host_s_address(tmp_path):
    net = network(tmp_path)
    send(net, "h1", {"myTunnel": {"dst_id": 2}, "ipv4": {"dstAddr": "10.0.3.3"}}, payload="P4 is cool")
    net.run()
    assert received(net, "h3") == []
    (got,) = received(net, "h2")
    assert header(got, "ethernet")["etherType"] == 0x1212
    assert header(got, "myTunnel") == {"proto_id": 0x0800, "dst_id": 2}
    assert header(got, "ipv4")["dstAddr"] == 0x0A000303 and payload(got) == b"P4 is cool"


def test_without_the_tunnel_the_ip_address_decides(tmp_path):
    net = network(tmp_path)
    send(net, "h1", {"ipv4": {"dstAddr": "10.0.3.3"}}, payload="P4 is cool")
    send(net, "h1", {"myTunnel": {"dst_id": 3}, "ipv4": {"dstAddr": "10.0.2.2"}}, payload="tunnel", at_ns=MS)
    net.run()
    assert received(net, "h2") == []
    assert [payload(r) for r in received(net, "h3")] == [b"P4 is cool", b"tunnel"]
