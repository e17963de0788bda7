"""Floods (dataplane/net/floods.py) against bounded hosts, reassembly eviction under a fragment flood, and ping
to the host itself (loopback).

The networks are hosts only (a host with two interfaces stands between the
attacker and the client), so that each test runs in a second or two; the
shipped topologies syn-flood and frag-flood, which put a P4 router there,
are run by test_topologies.py.
"""

from __future__ import annotations

import pytest

from toplab import shipped_run
from dataplane.diagnostics import DiagnosticError
from dataplane.net.apps import Ping
from dataplane.net.host.reassembly import MAX_BYTES
from dataplane.net.network import Network
from dataplane.net.topology import load_topology_text
from dataplane.protocols import packets as P

S = 1_000_000_000

# attacker --- srv --- client; MTU 576 on both links (the fragment flood of the issue).
NETWORK = """
name: flood rig
seed: 7
defaults:
  link: {{latency: 100us, bandwidth: 1Gbps, mtu: {mtu}}}
nodes:
  attacker:
    kind: host
    interfaces: {{eth0: {{ipv4: 10.0.66.66/24, ipv6: "2001:db8:66::66/64"}}}}
  srv:
    kind: host
    interfaces:
      eth0: {{ipv4: 10.0.66.1/24, ipv6: "2001:db8:66::1/64"}}
      eth1: {{ipv4: 10.0.1.1/24, ipv6: "2001:db8:1::1/64"}}
  client:
    kind: host
    interfaces: {{eth0: {{ipv4: 10.0.1.10/24, ipv6: "2001:db8:1::10/64"}}}}
links:
  - {{name: attacker-srv, ends: [attacker:eth0, srv:eth0]}}
  - {{name: srv-client, ends: [srv:eth1, client:eth0]}}
traffic:
{traffic}
"""


def run(traffic: str, mtu: int = 1500, until_ns: int | None = None) -> Network:
    net = Network(load_topology_text(NETWORK.format(mtu=mtu, traffic=traffic)))
    net.schedule_traffic()
    net.run(until_ns)
    return net


def drops(net, reason: str, node: str | None = None) -> list:
    return [d for d in net.sim.ledger.drops if d.reason.name.lower() == reason and node in (None, d.node)]


# ---------------------------------------------------------------------------- fragment flood, reassembly eviction


def test_mtu_576_fragment_flood_evicts_the_oldest_and_big_pings_get_through():
    net = run("""
  - {at: 0s, frag_flood: {from: attacker, to: srv, count: 2000, rate: 1000, size: 1400}}
  - {at: 1300ms, ping: {from: client, to: 10.0.1.1, count: 60, size: 1400, interval: 10ms}}""", mtu=576)
    flood, ping = net.apps
    r = net.hosts["srv"].reassembly_state(False)
    # Each train of a 1408-byte echo request is 3 fragments at MTU 576; 2 were sent, the last never.
    assert (flood.sent, flood.fragments_sent, flood.per_train) == (2000, 4000, 3)
    # The buffers were full (after about 1230 trains) before the pings started, and stayed full ...
    assert MAX_BYTES - 4000 < r.peak_bytes <= MAX_BYTES == 4 * 1024 * 1024
    assert r.evictions > 700
    first_eviction = drops(net, "reassembly_evicted", "srv")[0].time_ns
    assert first_eviction < 1.3 * S
    # ... yet every big ping was reassembled, answered and its reply reassembled: 60 of 60.
    assert (ping.transmitted, len(ping.received), ping.errors) == (60, 60, 0)
    assert r.reassembled == 60
    # Evicted trains were dropped with their reason and no ICMP; the rest timed out after 60 s with
    # Time Exceeded 11/1 (their first fragment had come), once each.
    evicted, timed_out = drops(net, "reassembly_evicted", "srv"), drops(net, "reassembly_timeout", "srv")
    assert len(evicted) == r.evictions and len(evicted) + len(timed_out) == 2000
    assert "the least recently used of" in evicted[0].detail and "id 1:" in evicted[0].detail
    te = sum(1 for _, text in net.hosts["srv"].events if text.startswith("sending ICMP 11/1"))
    assert te == len(timed_out)
    s = net.summary()
    assert s.problems == [] and s.on_links == 0
    assert s.limits["srv"] == [f"IPv4 reassembly: {r.evictions} datagrams evicted, peak {r.peak_bytes} of "
                               f"{MAX_BYTES} bytes"]
    assert f"limits reached at srv: IPv4 reassembly: {r.evictions} datagrams evicted" in s.render()
    report = flood.render().splitlines()
    assert report == [
        "frag_flood attacker -> 10.0.66.1: 2000 incomplete trains of 1400 bytes (4000 fragments, 2 of 3 each) "
        "at 1000/s in 1.999 s",
        f"  target srv: reassembly evictions {r.evictions}, peak memory {r.peak_bytes} bytes of 4 MB, "
        f"{len(timed_out)} timed out, 60 reassembled"]


def test_ipv6_fragment_flood_is_bounded_the_same_way():
    net = run("""
  - {at: 0s, frag_flood: {from: attacker, to: srv, count: 1000, rate: 2000, size: 4000, ipv6: true}}
  - {at: 400ms, ping: {from: client, to: "2001:db8:1::1", count: 20, size: 3000, interval: 5ms, ipv6: true}}""")
    flood, ping = net.apps
    r = net.hosts["srv"].reassembly_state(True)
    assert flood.per_train == 3 and r.evictions > 0 and r.peak_bytes <= MAX_BYTES
    assert len(ping.received) == 20
    assert net.hosts["srv"].reassembly_state(False) is None


def test_a_train_is_cut_in_two_at_least_and_never_sent_whole():
    net = run("  - {at: 0s, frag_flood: {from: attacker, to: srv, count: 1, size: 1}}")
    flood = net.apps[0]
    assert (flood.per_train, flood.fragments_sent) == (2, 1)
    # On the wire: ARP request and reply, the one fragment (8 bytes of ICMP, MF), and 60 s later srv's 11/1.
    assert net.sim.ledger.transmitted == 4
    assert [d.reason.name for d in net.sim.ledger.drops] == ["REASSEMBLY_TIMEOUT"]


# ---------------------------------------------------------------------------- SYN flood


def test_spoofed_syn_flood_fills_the_syn_queue_to_its_backlog_and_cookies_let_a_client_in():
    net = run("""
  - {at: 0s, syn_flood: {from: attacker, to: srv, port: 80, count: 600, rate: 2000, spoof: true}}
  - {at: 200ms, tcp: {from: client, to: 10.0.1.1, port: 80, bytes: 30000}}""")
    flood, tcp = net.apps
    listener = net.hosts["srv"].tcp.listeners[80]
    assert flood.sent == 600 and len(set(flood.sources)) == 600
    # No spoofed source is an address of the network, or a private, reserved or multicast one.
    for a in flood.sources:
        assert net.name_of(a, False) is None and not P.ip4_str(a).startswith(("10.", "127.", "192.168."))
        assert a >> 28 not in (0xE, 0xF)
    assert flood.half_open_peak == listener.syn_backlog == 128
    # The client's SYN found the queue full too: it was answered with a cookie, and its ACK returned it.
    assert listener.stats["cookies_sent"] == 600 - 128 + 1 and listener.stats["cookies_validated"] == 1
    # Port 80: an HTTP upload of 30000 bytes, head and body.
    assert tcp.intact and tcp.delivered == tcp.data.chunk(0, 30000)
    assert tcp.delivered.startswith(b"POST /upload HTTP/1.1\r\n")
    # srv has no route to the spoofed sources: every SYN,ACK (and retransmission) is dropped with a reason.
    assert len(drops(net, "no_route", "srv")) == 128 * 6 + 600 - 128
    s = net.summary()
    assert s.problems == []
    assert s.limits["srv"][0].startswith("TCP port 80 (SYN backlog 128): syn queue overflows 473, cookies sent 473")
    assert flood.render().splitlines() == [
        "syn_flood attacker -> 10.0.66.1:80: 600 SYNs each from a random spoofed source at 2000/s in 0.299 s",
        "  target srv port 80: " + flood.listener_state()]
    assert "SYN-RECEIVED peak 128/128" in flood.render() and "473 SYN cookies sent" in flood.render()


def test_spoofing_is_deterministic():
    def sources():
        net = run("  - {at: 0s, syn_flood: {from: attacker, to: srv, port: 22, count: 50, spoof: true}}",
                  until_ns=S)
        return [d.detail for d in drops(net, "no_route", "srv")]
    assert sources() == sources() and len(set(sources())) == 50


def test_syn_flood_without_spoofing_is_reset_by_the_attackers_own_stack():
    net = run("  - {at: 0s, syn_flood: {from: attacker, to: srv, port: 80, count: 300, rate: 1000}}")
    flood = net.apps[0]
    listener = net.hosts["srv"].tcp.listeners[80]
    assert flood.sources == [P.ip4("10.0.66.66")]
    # Each SYN,ACK reaches the attacker's TCP, which has no such connection and resets it (R31), so the
    # half-open connection goes at once: the queue never fills and no cookie is needed.
    assert len(drops(net, "no_listener", "attacker")) == 300
    assert flood.half_open_peak < 5 and listener.stats["cookies_sent"] == 0
    assert "limits reached" not in net.summary().render()


def test_ipv6_syn_flood_spoofs_global_unicast_sources():
    net = run("  - {at: 0s, syn_flood: {from: attacker, to: srv, port: 80, count: 200, rate: 5000, spoof: true, "
              "ipv6: true}}", until_ns=S)
    flood = net.apps[0]
    assert all(a >> 125 == 0b001 and a >> 96 != 0x20010DB8 for a in flood.sources)
    assert flood.half_open_peak == 128 and net.hosts["srv"].tcp.listeners[80].stats["cookies_sent"] == 72


@pytest.mark.parametrize("item, message", [
    ("{syn_flood: {from: attacker, to: srv, spoof: yes please}}", "'spoof' is true or false"),
    ("{syn_flood: {from: attacker, to: srv, rate: 0}}", "'rate' must be between 1 and 10000000"),
    ("{syn_flood: {from: attacker, to: srv, size: 10}}", "unknown key"),
    ("{frag_flood: {from: attacker, to: srv, size: 0}}", "'size' must be between 1 and 65507"),
    ("{frag_flood: {from: srv}}", "frag_flood needs 'to'"),
])
def test_flood_items_are_checked(item, message):
    with pytest.raises(DiagnosticError) as exc:
        load_topology_text(NETWORK.format(mtu=1500, traffic=f"  - {item}"))
    assert message in str(exc.value)


# ---------------------------------------------------------------------------- ping to the host itself


def test_ping_to_self_answers_through_loopback_with_no_frame_on_a_link():
    net = Network(load_topology_text(NETWORK.format(mtu=1500, traffic="  []")))
    pings = [Ping(net, "srv", "srv", count=2).start(0),                    # its first address
             Ping(net, "srv", "10.0.1.1", count=2, size=3000).start(0),    # its other interface's, too big for it
             Ping(net, "srv", "srv", count=2, v6=True).start(0),
             Ping(net, "srv", "2001:db8:1::1", count=1, v6=True).start(0)]
    net.run()
    for p in pings:
        assert len(p.received) == p.count and p.errors == 0
        assert p.rtts == [0] * p.count                                     # nothing crossed a link
        assert "ttl=64 time=0.000 ms" in p.render()
    assert net.sim.ledger.transmitted == 0 and net.sim.ledger.drops == []
    assert net.hosts["srv"].delivered == 2 * (2 + 2 + 2 + 1)               # requests and replies
    assert any(text == "loopback: 3028 bytes to 10.0.1.1" for _, text in net.hosts["srv"].events)


def test_tcp_to_the_hosts_own_address_goes_through_loopback():
    net = run("  - {at: 0s, tcp: {from: srv, to: 10.0.1.1, port: 80, bytes: 5000}}")
    tcp = net.apps[0]
    assert tcp.intact and net.sim.ledger.transmitted == 0


# ---------------------------------------------------------------------------- the shipped topologies


def test_shipped_syn_flood_shows_the_bounded_syn_queue_and_the_transfer_completes(tmp_path_factory):
    run = shipped_run("syn-flood", tmp_path_factory)
    flood, tcp = run.apps
    # Port 80: an HTTP upload of 20000 bytes, head and body.
    assert tcp.intact and tcp.delivered == tcp.data.chunk(0, 20000)
    assert tcp.delivered.startswith(b"POST /upload HTTP/1.1\r\n")
    assert flood.render().splitlines()[1] == (
        "  target srv port 80: SYN-RECEIVED peak 128/128 (sampled as each SYN left), 1804 SYN cookies sent, "
        "1 cookies returned valid, 1804 SYNs found the queue full, 0 half-open connections timed out, "
        "197 ended by an ICMP error")
    text = run.summary.render()
    assert ("limits reached at srv: TCP port 80 (SYN backlog 128): syn queue overflows 1804, cookies sent 1804, "
            "cookies validated 1, icmp request drops 197") in text
    # The SYN,ACKs to spoofed sources die at r1 (no route), each with its reason; r1's ICMP net unreachable
    # (as many as its ICMP rate limit lets out) frees their half-open connections at srv (tcp_req_err).
    assert run.summary.drops == {"no_route": 2326} and run.summary.drops_by_node == {"r1": 2326}


def test_shipped_frag_flood_shows_eviction_and_every_big_ping_gets_through(tmp_path_factory):
    run = shipped_run("frag-flood", tmp_path_factory)
    flood, ping = run.apps
    assert (ping.transmitted, len(ping.received)) == (20, 20)
    r = run.net.hosts["srv"].reassembly_state(False)
    assert (r.evictions, r.peak_bytes, r.timeouts) == (1387, 4193800, 1613)
    assert flood.render().splitlines()[1] == (
        "  target srv: reassembly evictions 1387, peak memory 4193800 bytes of 4 MB, 1613 timed out, 20 reassembled")
    assert "limits reached at srv: IPv4 reassembly: 1387 datagrams evicted, peak 4193800 of 4194304 bytes" in \
        run.summary.render()
    assert run.summary.drops == {"reassembly_evicted": 1387, "reassembly_timeout": 1613}
