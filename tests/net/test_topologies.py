"""End-to-end runs of every shipped topology (topologies/*.yaml), checked on the wire and in the output.

Every file in topologies/ is run by `test_every_shipped_topology_runs_clean`
(found with a glob, so a new file is covered without touching this file):
the books balance, every application finishes, and what each application
reports is what that topology is built to show. Then each topology has its
own checks: learning on the switch, ARP through it, IPv4 fragmentation
across the 1280-byte link with the fragments checked byte for byte, path
MTU discovery for IPv4 and IPv6, TCP and SCTP handshakes on the wire,
shortest paths, seeded loss, static ARP with a v1model program, 500
routers. Frames are taken from the links as they are sent
(`Link.observers`) and dissected with scapy, which shares no code with
dataplane.
"""

from __future__ import annotations

import filecmp
import os
import struct
import subprocess
import sys
from pathlib import Path

import networkx as nx
import pytest

from toplab import (MS, S, STORM, TOPOLOGY_DIR, parse_ping, parse_traceroute, run_topology, run_with_timeout,
                    shipped_run, topology_names, transfer_states)
from dataplane.diagnostics import DiagnosticError
from dataplane.locate import find_topology, shipped_topologies
from dataplane.net.apps import Ping, Traceroute, UdpFlow
from dataplane.net.floods import FragFlood, SynFlood
from dataplane.net.network import Network
from dataplane.net.topology import load_topology, load_topology_text
from dataplane.net.transfers import SctpTransfer, TcpTransfer
from dataplane.protocols import packets as P

scapy_all = pytest.importorskip("scapy.all")
from scapy.all import ICMP, IP, TCP, UDP, Ether, IPv6, IPv6ExtHdrFragment, Raw  # noqa: E402
from scapy.layers.inet6 import ICMPv6EchoReply, ICMPv6EchoRequest, ICMPv6PacketTooBig  # noqa: E402

NAMES = topology_names()


def mac(text: str) -> int:
    return int(text.replace(":", ""), 16)


def ip_checksum_ok(header: bytes) -> bool:
    s = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s == 0xFFFF


def ipv4_packets(captures, **match):
    """(capture, scapy IP) for each IPv4 frame whose IP fields equal `match`."""
    out = []
    for c in captures:
        p = Ether(c.frame)
        if IP in p and all(getattr(p[IP], k) == v for k, v in match.items()):
            out.append((c, p[IP]))
    return out


# ---------------------------------------------------------------------------- every topology


def outcome(app) -> tuple:
    """What an application achieved, in a form a table of expectations can state exactly."""
    if isinstance(app, Ping):
        return ("ping", app.transmitted, len(app.received), app.errors)
    if isinstance(app, Traceroute):
        return ("traceroute", len(app.hops), app.reached)
    if isinstance(app, UdpFlow):
        return ("udp", app.sent, len(app.received))
    if isinstance(app, TcpTransfer):
        return ("tcp", len(app.data), app.intact)
    if isinstance(app, SctpTransfer):
        return ("sctp", len(app.messages), app.intact)
    if isinstance(app, (SynFlood, FragFlood)):
        return (app.kind, app.sent, app.refused)
    raise AssertionError(f"an application this test does not know: {app!r}")


# What each application of each shipped topology must report, in the order of its traffic section.
EXPECTED = {
    "single-switch": [("ping", 3, 3, 0), ("ping", 2, 2, 0), ("udp", 20, 20)],
    "lan": [("ping", 3, 3, 0), ("ping", 2, 2, 0), ("udp", 10, 10), ("traceroute", 2, True), ("tcp", 20000, True)],
    "line": [("ping", 2, 2, 0), ("ping", 2, 2, 0),
             ("ping", 2, 0, 2),          # DF: "frag needed" from r2, then a local "message too long"
             ("ping", 3, 1, 1),          # IPv6: Packet Too Big for seq 1; seq 2's 1448-byte reply meets the
                                         # 1280 link at r3 (PTB to h2); seq 3 goes and returns in fragments
             ("traceroute", 4, True), ("tcp", 50000, True)],
    "dual-stack": [("ping", 2, 2, 0), ("ping", 2, 2, 0), ("traceroute", 3, True), ("tcp", 8000, True),
                   ("sctp", 4, True)],
    "ring": [("traceroute", 4, True), ("traceroute", 4, True),
             ("udp", 200, 195)],         # 2% seeded loss on r3-r4: the same 5 datagrams every run
    "fat-tree": [("ping", 3, 3, 0), ("traceroute", 6, True)],
    "basic-v1model": [("ping", 2, 2, 0), ("ping", 2, 2, 0), ("udp", 5, 5)],
    "routers-500": [("ping", 3, 3, 0), ("traceroute", 7, True)],
    "syn-flood": [("syn_flood", 2000, {}), ("tcp", 20000, True)],       # SYN cookies let the transfer through
    "frag-flood": [("frag_flood", 3000, {}), ("ping", 20, 20, 0)],      # eviction lets every big ping through
}


def default_expectation(spec) -> tuple:
    """For a topology added without an entry in EXPECTED: everything it sends gets through."""
    p = spec.params
    if spec.kind == "ping":
        return ("ping", p.get("count", 4), p.get("count", 4), 0)
    if spec.kind == "traceroute":
        return ("traceroute", None, True)
    if spec.kind == "udp":
        return ("udp", p.get("count", 10), p.get("count", 10))
    if spec.kind == "tcp":
        return ("tcp", p.get("bytes", 10_000), True)
    return ("sctp", p.get("messages", 3), True)


def test_the_topologies_we_ship_are_the_files_in_topologies():
    assert NAMES == shipped_topologies()
    assert len(NAMES) >= 8
    for name in NAMES:
        assert Path(find_topology(name)).resolve() == (TOPOLOGY_DIR / f"{name}.yaml").resolve()


def test_expectations_name_only_shipped_topologies():
    assert set(EXPECTED) <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_every_shipped_topology_runs_clean(name, tmp_path_factory):
    run = shipped_run(name, tmp_path_factory)
    s, ledger, sim = run.summary, run.net.sim.ledger, run.net.sim
    assert s.problems == []
    assert ledger.unaccounted() == 0
    assert s.stopped_by is None
    # Run until idle: nothing on the links, every frame sent either arrived or was dropped on the link.
    assert s.on_links == 0 and sim.pending == 0
    assert s.transmitted == s.arrived + s.link_drops > 0
    assert sum(s.fates.values()) == s.arrived
    # Every drop names its node and reason and has a time within the run.
    for d in ledger.drops:
        assert d.node in run.topo.nodes and d.reason is not None and 0 <= d.time_ns <= s.time_ns
    assert sum(s.drops.values()) + sum(s.copy_drops.values()) == len(ledger.drops)
    assert s.nodes == len(run.topo.nodes) and s.links == len(run.topo.links)
    # Every application of the traffic section ran to its end and reported what it should.
    assert len(run.apps) == len(run.topo.traffic) > 0
    got = [outcome(a) for a in run.apps]
    want = EXPECTED.get(name) or [default_expectation(t) for t in run.topo.traffic]
    assert len(want) == len(got), f"{name}: EXPECTED lists {len(want)} applications, the file has {len(got)}"
    for g, w, spec in zip(got, want, run.topo.traffic):
        if w[0] == "traceroute" and w[1] is None:
            g = (g[0], None, g[2])
        assert g == w, f"{name}: {spec.kind} at {spec.at_ns / S:g}s"
    for app in run.apps:
        assert app.done, f"{name}: {app!r} did not finish"
    # The summary says all of this in words.
    text = s.render()
    assert text.startswith(f"{run.topo.name}: {s.nodes} nodes, {s.links} links; simulated ")
    assert f"frames on links: {s.transmitted} sent, {s.arrived} arrived" in text
    assert "accounting problem" not in text and "stopped:" not in text


@pytest.mark.parametrize("name", NAMES)
def test_every_ping_and_traceroute_prints_like_iputils_and_linux_traceroute(name, tmp_path_factory):
    run = shipped_run(name, tmp_path_factory)
    for app in run.apps:
        if isinstance(app, Ping):
            rep = parse_ping(app.render())
            assert rep.transmitted == app.transmitted and rep.received == len(app.received)
            assert rep.error_count == app.errors
            assert [seq for _, _, seq, _, _ in rep.replies] == sorted(app.received)
            v6 = app.v6
            assert rep.dst == (P.ip6_str(app.dst) if v6 else P.ip4_str(app.dst))
            for size, _, _, ttl, ms in rep.replies:
                assert size == app.size + 8 and 0 < ttl <= 64 and ms > 0
            if rep.rtt:
                assert rep.rtt[0] == pytest.approx(min(app.rtts) / MS, abs=0.001)
                assert rep.rtt[2] == pytest.approx(max(app.rtts) / MS, abs=0.001)
        elif isinstance(app, Traceroute):
            rep = parse_traceroute(app.render())
            assert rep.max_hops == 30 and rep.packet_size == (80 if app.v6 else 60)
            assert rep.hops[-1][2] == rep.dst                   # the last hop is the destination
            for ttl, node, addr, times in rep.hops:
                assert node in run.topo.nodes and len(times) == 3
                assert run.net.name_of(run.net.address(addr, app.v6), app.v6) == node
            # Each hop is farther than the one before it.
            assert [min(t) for *_, t in rep.hops] == sorted(min(t) for *_, t in rep.hops)


# ---------------------------------------------------------------------------- single-switch


def test_single_switch_learns_both_macs_and_floods_only_group_frames(tmp_path_factory):
    run = shipped_run("single-switch", tmp_path_factory)
    h1, h2 = mac("08:00:00:00:00:01"), mac("08:00:00:00:00:02")
    agent = run.net.devices["s1"].agent
    assert agent.learned == {h1: 1, h2: 2}
    assert agent.moves == 0
    # Flooding sends a copy toward every port, and egress drops the one for the ingress port: one dropped
    # copy per flooded frame. Only the two group-addressed frames (h1's ARP request, h2's neighbour
    # solicitation) were flooded; every unicast frame went out of one port.
    group = [c for c in run.captures if c.sender in ("h1", "h2") and c.frame[0] & 1]
    assert [(c.sender, c.frame[12:14]) for c in group] == [("h1", b"\x08\x06"), ("h2", b"\x86\xdd")]
    copies = [d for d in run.net.sim.ledger.drops if d.copy]
    assert [(d.node, d.reason.name, d.port) for d in copies] == [("s1", "EGRESS_DROP", 1), ("s1", "EGRESS_DROP", 2)]
    # What each host sent is exactly what the switch sent to the other host.
    from_h1 = [c.frame for c in run.frames_on("h1-s1", "h1")]
    from_h2 = [c.frame for c in run.frames_on("s1-h2", "h2")]
    assert [c.frame for c in run.frames_on("s1-h2", "s1")] == from_h1
    assert [c.frame for c in run.frames_on("h1-s1", "s1")] == from_h2
    assert (len(from_h1), len(from_h2)) == (27, 7)
    assert run.summary.fates["forwarded"] == 34 and run.summary.fates["dropped"] == 0


# ---------------------------------------------------------------------------- lan


def test_lan_arp_goes_through_the_switch_and_unicast_is_not_flooded(tmp_path_factory):
    run = shipped_run("lan", tmp_path_factory)
    net = run.net
    hosts = {h: net.hosts[h].interfaces[1].mac for h in ("h1", "h2", "h3")}
    r1_lan = run.topo.interface("r1", "lan").mac
    # The switch knows every station on the LAN, each on its own port.
    assert net.devices["s1"].agent.learned == {hosts["h1"]: 1, hosts["h2"]: 2, hosts["h3"]: 3, r1_lan: 4}
    # h1's first frame is its ARP request for the gateway: flooded to every other port, not back to h1.
    arp = Ether(run.captures[0].frame)
    assert run.captures[0].sender == "h1" and arp.type == 0x0806 and arp.pdst == "192.168.1.1"
    floods = [c.link for c in run.captures if c.sender == "s1" and c.frame == run.captures[0].frame]
    assert sorted(floods) == ["h2-s1", "h3-s1", "s1-r1"]
    assert net.hosts["h1"].arp_cache[P.ip4("192.168.1.1")][0] == r1_lan
    # r1's answer is unicast: it reaches h1 only.
    replies = [c for c in run.captures if c.frame[12:14] == b"\x08\x06" and Ether(c.frame).op == 2
               and Ether(c.frame).psrc == "192.168.1.1" and Ether(c.frame).pdst == "192.168.1.11"]
    assert sorted((c.link, c.sender) for c in replies) == [("h1-s1", "s1"), ("s1-r1", "r1")]
    # After learning, the switch sends each host only broadcasts and frames addressed to it.
    for h, link in (("h1", "h1-s1"), ("h2", "h2-s1"), ("h3", "h3-s1")):
        to_host = run.frames_on(link, "s1")
        assert to_host, link
        for c in to_host:
            dst = int.from_bytes(c.frame[:6], "big")
            assert dst == hosts[h] or dst == 0xFFFFFFFFFFFF, (link, Ether(c.frame).summary())
    # h2 -> h3 stays on the LAN (ttl 64); h1 -> srv crosses r1 (ttl 63).
    ping_srv, ping_h3 = run.apps_of(Ping)
    assert {t for *_, t, _ in parse_ping(ping_srv.render()).replies} == {63}
    assert {t for *_, t, _ in parse_ping(ping_h3.render()).replies} == {64}
    echoes = [(c.link, Ether(c.frame)[ICMP].type) for c in run.captures if Ether(c.frame).haslayer(ICMP)
              and {Ether(c.frame)[IP].src, Ether(c.frame)[IP].dst} == {"192.168.1.12", "192.168.1.13"}]
    assert sorted(echoes) == sorted([("h2-s1", 8)] * 2 + [("h3-s1", 8)] * 2 + [("h3-s1", 0)] * 2 + [("h2-s1", 0)] * 2)


def test_lan_traceroute_and_tcp_transfer(tmp_path_factory):
    run = shipped_run("lan", tmp_path_factory)
    tr = parse_traceroute(run.app(Traceroute).render())
    assert [(n, a) for _, n, a, _ in tr.hops] == [("r1", "192.168.1.1"), ("srv", "10.9.0.80")]
    tcp = run.app(TcpTransfer)
    # Port 80: an HTTP upload of 20000 bytes, head and body.
    assert tcp.intact and tcp.delivered == tcp.data.chunk(0, 20000)
    assert tcp.delivered.startswith(b"POST /upload HTTP/1.1\r\n")
    text = tcp.render()
    client, server = transfer_states(text, "client"), transfer_states(text, "server")
    assert client == ["CLOSED", "SYN-SENT", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"]
    assert server == ["LISTEN", "SYN-RECEIVED", "ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    # Ten of RFC 9293's eleven states over the two ends; CLOSING needs a simultaneous close.
    rfc9293 = {"CLOSED", "LISTEN", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2",
               "CLOSE-WAIT", "CLOSING", "LAST-ACK", "TIME-WAIT"}
    assert rfc9293 - set(client) - set(server) == {"CLOSING"}
    # Segments carry 1448 bytes: 12 of the 1460 go to timestamps (RFC 7323), as with Linux.
    assert "MSS 1448; 0 retransmissions" in text and "delivered 20000 bytes intact" in text
    # On the wire: the three-way handshake with MSS 1460 each way (and window scale 7, timestamps), then
    # data in segments of at most 1448.
    segs = [(c.sender, Ether(c.frame)[TCP]) for c in run.frames_on("r1-srv") if TCP in Ether(c.frame)]
    assert [(who, str(t.flags)) for who, t in segs[:3]] == [("r1", "S"), ("srv", "SA"), ("r1", "A")]
    assert dict(segs[0][1].options)["MSS"] == 1460 and dict(segs[1][1].options)["MSS"] == 1460
    assert dict(segs[0][1].options)["WScale"] == dict(segs[1][1].options)["WScale"] == 7
    assert all("Timestamp" in dict(t.options) for _, t in segs)
    assert max(len(t.payload) for _, t in segs) == 1448
    assert sum(len(t.payload) for who, t in segs if who == "r1") == 20000       # no retransmissions


# ---------------------------------------------------------------------------- line: fragmentation and PMTU

H1, H2 = "10.0.1.1", "10.0.2.2"
H1_6, H2_6 = "2001:db8:1::1", "2001:db8:2::2"


def fragments(run, link: str, sender: str, src: str, ident: int) -> list:
    """(offset in bytes, MF, IP layer) of the fragments of one datagram on one link, in the order sent."""
    return [(ip.frag * 8, bool(ip.flags.MF), ip)
            for c, ip in ipv4_packets(run.frames_on(link, sender), src=src, id=ident, proto=1)]


def echo_request_ids(run) -> list[int]:
    """IP identifications of the 2000-byte echo requests h1 sent (the second ping of line.yaml)."""
    return sorted({ip.id for _, ip in ipv4_packets(run.frames_on("h1-r1", "h1"), src=H1, proto=1)
                   if ip.len == 1500 and ip.flags.MF})


def check_fragments(frags: list, whole: bytes, mtu: int, ttl: int) -> None:
    """Fragments that cover `whole` exactly, each a valid IPv4 packet no larger than the MTU."""
    data = b""
    for i, (off, mf, ip) in enumerate(frags):
        raw = bytes(ip)
        hdr = raw[:ip.ihl * 4]
        payload = raw[ip.ihl * 4:ip.len]
        assert ip.len == len(raw) <= mtu
        assert ip_checksum_ok(hdr)
        assert ip.ttl == ttl and not ip.flags.DF
        assert off == len(data), "fragments must be contiguous, in order"
        assert mf == (i < len(frags) - 1)
        if mf:
            assert len(payload) % 8 == 0
        data += payload
    assert data == whole


def test_line_fragments_across_the_1280_link_byte_for_byte(tmp_path_factory):
    run = shipped_run("line", tmp_path_factory)
    ping = run.app(Ping, 1)
    assert ping.size == 2000
    ids = echo_request_ids(run)
    assert len(ids) == 2                             # seq 1 and 2
    for seq, ident in enumerate(ids, 1):
        # What h1 means to send: the echo request, built by scapy.
        whole = bytes(ICMP(type=8, code=0, id=ping.ident, seq=seq) / Raw(bytes(i & 0xFF for i in range(2000))))
        assert len(whole) == 2008
        # h1 fragments at its own MTU of 1500: 1480 + 528 bytes.
        at_h1 = fragments(run, "h1-r1", "h1", H1, ident)
        assert [(o, mf, ip.len) for o, mf, ip in at_h1] == [(0, True, 1500), (1480, False, 548)]
        check_fragments(at_h1, whole, 1500, 64)
        # r2 fragments the first fragment again for the 1280 link (fragments of fragments, RFC 791):
        # 1256 + 224 bytes (1256 is the largest multiple of 8 that fits with a 20-byte header); the second
        # fragment already fits and goes on as it is.
        on_small = fragments(run, "r2-r3", "r2", H1, ident)
        assert [(o, mf, ip.len) for o, mf, ip in on_small] == [(0, True, 1276), (1256, True, 244),
                                                               (1480, False, 548)]
        check_fragments(on_small, whole, 1280, 62)
        # Apart from TTL and checksum, the unchanged fragment is the same bytes on both links.
        last_h1, last_small = bytes(at_h1[-1][2]), bytes(on_small[-1][2])
        assert last_h1[:8] + last_h1[9:10] + last_h1[12:] == last_small[:8] + last_small[9:10] + last_small[12:]
        assert last_h1[8] - last_small[8] == 2
        # What reaches h2 is the same three fragments, one hop older.
        at_h2 = fragments(run, "r3-h2", "r3", H1, ident)
        assert [(o, mf, ip.len) for o, mf, ip in at_h2] == [(0, True, 1276), (1256, True, 244), (1480, False, 548)]
        check_fragments(at_h2, whole, 1500, 61)
    # The replies come back the same way: h2 fragments at 1500, r3 again for the small link.
    reply_ids = sorted({ip.id for _, ip in ipv4_packets(run.frames_on("r3-h2", "h2"), src=H2, proto=1)
                        if ip.flags.MF and ip.len == 1500})
    assert len(reply_ids) == 2
    for seq, ident in enumerate(reply_ids, 1):
        whole = bytes(ICMP(type=0, code=0, id=ping.ident, seq=seq) / Raw(bytes(i & 0xFF for i in range(2000))))
        back = fragments(run, "r2-r3", "r3", H2, ident)
        assert [(o, ip.len) for o, _, ip in back] == [(0, 1276), (1256, 244), (1480, 548)]
        check_fragments(back, whole, 1280, 63)
    assert [r[0] for r in parse_ping(ping.render()).replies] == [2008, 2008]


def test_line_frames_respect_every_link_mtu(tmp_path_factory):
    run = shipped_run("line", tmp_path_factory)
    for c in run.captures:
        assert len(c.frame) - 14 <= run.net.links[c.link].mtu
    assert max(len(c.frame) - 14 for c in run.frames_on("r2-r3")) == 1280


def test_line_path_mtu_discovery_ipv4(tmp_path_factory):
    run = shipped_run("line", tmp_path_factory)
    ping = run.app(Ping, 2)
    assert ping.df and ping.size == 1400
    rep = parse_ping(ping.render())
    assert rep.errors == ["From 10.0.12.2 icmp_seq=1 Frag needed and DF set (mtu = 1280)",
                          "ping: local error: message too long, mtu=1280"]
    assert (rep.transmitted, rep.received, rep.error_count, rep.loss) == (2, 0, 2, 100)
    h1 = run.net.hosts["h1"]
    assert h1.pmtu4.mtu(P.ip4(H2), 1500) == 1280
    # On the wire: one 1428-byte DF request, refused by r2 with "fragmentation needed" and next-hop MTU 1280.
    requests = [ip for _, ip in ipv4_packets(run.frames_on("h1-r1", "h1"), src=H1, proto=1)
                if ip.flags.DF and ICMP in ip and ip[ICMP].type == 8 and ip[ICMP].id == ping.ident]
    assert [(ip.len, ip[ICMP].seq) for ip in requests] == [(1428, 1)]
    dtb = [ip for _, ip in ipv4_packets(run.frames_on("h1-r1", "r1"), src="10.0.12.2", dst=H1, proto=1)
           if ip[ICMP].type == 3]
    assert len(dtb) == 1
    icmp_bytes = bytes(dtb[0])[20:]
    assert icmp_bytes[:2] == b"\x03\x04" and int.from_bytes(icmp_bytes[6:8], "big") == 1280
    quoted = IP(icmp_bytes[8:])
    assert (quoted.src, quoted.dst, quoted.len, quoted.flags.DF) == (H1, H2, 1428, True)
    assert not [ip for _, ip in ipv4_packets(run.frames_on("r2-r3"), proto=1) if ip.flags.DF]
    drop = run.drops("fragmentation_needed", "r2")[0]
    assert drop.detail == "MTU 1280 on port 2; DF set; ICMP 3/4 sent" and drop.time_ns // S == 6


def test_line_path_mtu_discovery_ipv6_and_source_fragmentation(tmp_path_factory):
    run = shipped_run("line", tmp_path_factory)
    ping = run.app(Ping, 3)
    assert ping.v6 and ping.size == 1400
    rep = parse_ping(ping.render())
    assert rep.errors == ["From 2001:db8:12::2 icmp_seq=1 Packet too big: mtu=1280"]
    assert [(size, seq, ttl) for size, _, seq, ttl, _ in rep.replies] == [(1408, 3, 61)]
    assert run.net.hosts["h1"].pmtu6.mtu(P.ip6(H2_6), 1500) == 1280
    assert run.net.hosts["h2"].pmtu6.mtu(P.ip6(H1_6), 1500) == 1280
    payload = bytes(i & 0xFF for i in range(1400))
    v6 = [(c, Ether(c.frame)) for c in run.captures if c.frame[12:14] == b"\x86\xdd"]
    # r2 answers the whole 1448-byte seq 1 with Packet Too Big (mtu 1280); it never crosses r2-r3.
    ptb = [p for c, p in v6 if c.link == "h1-r1" and ICMPv6PacketTooBig in p]
    assert len(ptb) == 1 and ptb[0][IPv6].src == "2001:db8:12::2" and ptb[0][ICMPv6PacketTooBig].mtu == 1280
    assert len(bytes(ptb[0][IPv6])) == 1280                   # the quote fills the minimum MTU exactly
    # Then h1 fragments at the source (RFC 8200 4.5): 1232 + 176 bytes of ICMPv6, fragment header on each.
    for seq in (2, 3):
        whole = bytes(IPv6(src=H1_6, dst=H2_6, hlim=64) / ICMPv6EchoRequest(id=ping.ident, seq=seq, data=payload))[40:]
        for link, sender, hlim in (("h1-r1", "h1", 64), ("r2-r3", "r2", 62), ("r3-h2", "r3", 61)):
            frags = [p[IPv6] for c, p in v6 if c.link == link and c.sender == sender and IPv6ExtHdrFragment in p
                     and p[IPv6].src == H1_6]
            ids = sorted({f[IPv6ExtHdrFragment].id for f in frags})
            mine = [f for f in frags if f[IPv6ExtHdrFragment].id == ids[seq - 2]]
            shape = [(f[IPv6ExtHdrFragment].offset * 8, f[IPv6ExtHdrFragment].m, f.plen + 40, f.hlim) for f in mine]
            assert shape == [(0, 1, 1280, hlim), (1232, 0, 224, hlim)], (link, seq)
            assert all(f[IPv6ExtHdrFragment].nh == 58 for f in mine)
            data = b"".join(bytes(f[IPv6ExtHdrFragment].payload) for f in mine)
            assert data == whole, (link, seq)
    # No unfragmented request for seq 2 or 3 anywhere, and seq 1 never beyond r2.
    whole_requests = [(c.link, p[ICMPv6EchoRequest].seq) for c, p in v6 if ICMPv6EchoRequest in p
                      and IPv6ExtHdrFragment not in p and ICMPv6PacketTooBig not in p
                      and p[ICMPv6EchoRequest].id == ping.ident]
    assert whole_requests == [("h1-r1", 1), ("r1-r2", 1)]
    # Seq 2's reply is whole and too big for r3 -> r2: r3 tells h2 (who then fragments seq 3's reply).
    drop = [d for d in run.drops("packet_too_big", "r3")]
    assert [(d.detail, d.time_ns // S) for d in drop] == [("MTU 1280 on port 1; ICMPv6 2/0 sent", 10)]
    replies = [p for c, p in v6 if c.link == "r2-r3" and c.sender == "r3" and p[IPv6].dst == H1_6]
    assert [(p[IPv6ExtHdrFragment].offset, p[IPv6ExtHdrFragment].m) for p in replies] == [(0, 1), (154, 0)]
    assert replies[0].haslayer(ICMPv6EchoReply) and replies[0][ICMPv6EchoReply].seq == 3


def test_line_tcp_uses_the_discovered_path_mtu(tmp_path_factory):
    run = shipped_run("line", tmp_path_factory)
    tcp = run.app(TcpTransfer)
    assert tcp.intact and tcp.client.effective_mss() == 1280 - 40 - 12 == 1228      # less the timestamps
    assert "MSS 1228; 0 retransmissions" in tcp.render()
    segs = [(c.sender, Ether(c.frame)[IP]) for c in run.frames_on("r2-r3") if TCP in Ether(c.frame)]
    assert dict(segs[0][1][TCP].options)["MSS"] == 1460       # h1 offers its own link's MSS
    data = [ip for who, ip in segs if who == "r2" and len(ip[TCP].payload)]
    assert max(len(ip[TCP].payload) for ip in data) == 1228 and max(ip.len for ip in data) == 1280
    assert all(ip.flags.DF and ip.frag == 0 and not ip.flags.MF for _, ip in segs)
    assert sum(len(ip[TCP].payload) for ip in data) == 50000
    # The only packets too big for a link were the DF ping and the IPv6 pings (before PMTU was known), each
    # dropped on purpose by a router that sent the ICMP error; no frame was put on a link it did not fit.
    too_big = run.drops("fragmentation_needed") + run.drops("packet_too_big")
    assert sorted((d.node, d.time_ns // S) for d in too_big) == [("r2", 6), ("r2", 9), ("r3", 10)]
    assert run.drops("exceeds_link_mtu") == []


def test_line_traceroute_names_every_router(tmp_path_factory):
    run = shipped_run("line", tmp_path_factory)
    text = run.app(Traceroute).render()
    lines = text.split("\n")
    assert lines[0] == "traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets"
    tr = parse_traceroute(text)
    assert [(n, a) for _, n, a, _ in tr.hops] == [("r1", "10.0.1.254"), ("r2", "10.0.12.2"), ("r3", "10.0.23.2"),
                                                  ("h2", "10.0.2.2")]
    # 1 ms latency per link, both ways: about 2, 4, 6, 8 ms.
    assert [round(min(t)) for *_, t in tr.hops] == [2, 4, 6, 8]
    assert [d.node for d in run.drops("ttl_exceeded")] == ["r1"] * 3 + ["r2"] * 3 + ["r3"] * 3
    assert [d.detail for d in run.drops("no_listener")] == [f"UDP port {33434 + 9 + i}" for i in range(3)]


# ---------------------------------------------------------------------------- determinism


def test_line_is_the_same_byte_for_byte_every_time(tmp_path_factory, tmp_path):
    first = shipped_run("line", tmp_path_factory)
    again = run_topology(load_topology(str(TOPOLOGY_DIR / "line.yaml")), tmp_path / "again")
    assert again.output() == first.output()
    assert again.summary.render() == first.summary.render()
    assert [(c.time_ns, c.link, c.sender, c.frame) for c in again.captures] == \
           [(c.time_ns, c.link, c.sender, c.frame) for c in first.captures]
    names = sorted(os.listdir(first.pcap_dir))
    assert names == sorted(os.listdir(again.pcap_dir)) == ["h1-r1.pcapng", "r1-r2.pcapng", "r2-r3.pcapng", "r3-h2.pcapng"]
    match, mismatch, errors = filecmp.cmpfiles(first.pcap_dir, again.pcap_dir, names, shallow=False)
    assert (mismatch, errors) == ([], []) and match == names


def test_line_is_the_same_in_another_process_with_another_hash_seed(tmp_path_factory, tmp_path):
    first = shipped_run("line", tmp_path_factory)
    env = dict(os.environ, PYTHONHASHSEED="12345")
    out = subprocess.run([sys.executable, "-m", "dataplane", "run", "line", "--pcap", str(tmp_path)],
                         capture_output=True, text=True, env=env, timeout=120)
    assert out.returncode == 0, out.stderr
    from dataplane.net.show import traffic_item
    labels = [f"### traffic {i}: {traffic_item(t)}\n" for i, t in enumerate(first.net.topo.traffic, 1)]
    want = "".join(l + a.render() + "\n\n" for l, a in zip(labels, first.apps)) + first.summary.render() + \
        f"\npcap: 4 files in {tmp_path}\n"
    assert out.stdout == want
    for name in os.listdir(first.pcap_dir):
        assert (tmp_path / name).read_bytes() == (first.pcap_dir / name).read_bytes(), name


# ---------------------------------------------------------------------------- dual-stack


def test_dual_stack_each_family_reaches_the_hosts_that_have_it(tmp_path_factory):
    run = shipped_run("dual-stack", tmp_path_factory)
    v6_ping, v4_ping = run.apps_of(Ping)
    assert v6_ping.v6 and not v4_ping.v6
    r6, r4 = parse_ping(v6_ping.render()), parse_ping(v4_ping.render())
    assert r6.dst == "2001:db8:b::20" and {ttl for *_, ttl, _ in r6.replies} == {62}
    assert r4.dst == "172.16.3.30" and {ttl for *_, ttl, _ in r4.replies} == {62}
    tr = parse_traceroute(run.app(Traceroute).render())
    assert tr.packet_size == 80
    assert [(n, a) for _, n, a, _ in tr.hops] == [("r2", "2001:db8:b::1"), ("r1", "2001:db8:ff::1"),
                                                  ("h1", "2001:db8:a::10")]
    # h2 speaks only IPv6 and h3 only IPv4: their links carry nothing of the other family.
    assert all(c.frame[12:14] in (b"\x86\xdd",) for c in run.frames_on("r2-h2"))
    assert all(c.frame[12:14] in (b"\x08\x00", b"\x08\x06") for c in run.frames_on("r2-h3"))
    with pytest.raises(ValueError, match="'h2' has no IPv4 address"):
        run.net.address("h2")
    with pytest.raises(ValueError, match="'h3' has no IPv6 address"):
        run.net.address("h3", v6=True)
    tcp = run.app(TcpTransfer)
    assert tcp.v6 and tcp.intact and tcp.client.effective_mss() == 1500 - 60 - 12      # less the timestamps
    segs = [Ether(c.frame) for c in run.frames_on("r1-r2") if c.frame[12:14] == b"\x86\xdd" and TCP in Ether(c.frame)]
    assert [str(p[TCP].flags) for p in segs[:3]] == ["S", "SA", "A"] and dict(segs[0][TCP].options)["MSS"] == 1440


def sctp_chunks(payload: bytes) -> list[tuple[int, bytes]]:
    """(type, value) of each chunk after SCTP's 12-byte common header."""
    out, off = [], 12
    while off + 4 <= len(payload):
        t, _, length = struct.unpack("!BBH", payload[off:off + 4])
        out.append((t, payload[off + 4:off + length]))
        off += length + (-length % 4)
    return out


def test_dual_stack_sctp_four_way_handshake_on_the_wire(tmp_path_factory):
    run = shipped_run("dual-stack", tmp_path_factory)
    sctp = run.app(SctpTransfer)
    assert sctp.intact and sorted(sctp.delivered) == sorted(sctp.messages)
    packets = []
    for c in run.frames_on("r2-h3"):
        p = Ether(c.frame)
        if IP in p and p[IP].proto == 132:
            raw = bytes(p[IP])[p[IP].ihl * 4:p[IP].len]
            packets.append((c.sender, int.from_bytes(raw[4:8], "big"), sctp_chunks(raw)))
    names = {1: "INIT", 2: "INIT ACK", 10: "COOKIE ECHO", 11: "COOKIE ACK", 0: "DATA", 3: "SACK", 7: "SHUTDOWN",
             8: "SHUTDOWN ACK", 14: "SHUTDOWN COMPLETE"}
    flow = [(who, [names[t] for t, _ in chunks]) for who, _, chunks in packets]
    assert flow == [("h3", ["INIT"]), ("r2", ["INIT ACK"]), ("h3", ["COOKIE ECHO"]), ("r2", ["COOKIE ACK"]),
                    ("h3", ["DATA"] * 4), ("r2", ["SACK"]), ("h3", ["SHUTDOWN"]), ("r2", ["SHUTDOWN ACK"]),
                    ("h3", ["SHUTDOWN COMPLETE"])]
    (_, init_vtag, [(_, init)]), (_, ack_vtag, [(_, init_ack)]) = packets[0], packets[1]
    (_, echo_vtag, [(_, cookie)]), (_, cack_vtag, _) = packets[2], packets[3]
    client_tag = int.from_bytes(init[0:4], "big")
    server_tag = int.from_bytes(init_ack[0:4], "big")
    assert init_vtag == 0                                   # an INIT goes with verification tag 0
    assert ack_vtag == client_tag != 0                      # the INIT ACK carries the INIT's initiate tag
    assert echo_vtag == server_tag != 0 and cack_vtag == client_tag
    # The COOKIE ECHO returns the State Cookie parameter of the INIT ACK unchanged.
    params = init_ack[16:]
    state_cookie = None
    while params:
        ptype, plen = struct.unpack("!HH", params[:4])
        if ptype == 7:
            state_cookie = params[4:plen]
        params = params[plen + (-plen % 4):]
    assert state_cookie is not None and cookie == state_cookie
    # Everything after the handshake carries the peer's tag; the app reports the same pair.
    for who, vtag, _ in packets[4:]:
        assert vtag == (server_tag if who == "h3" else client_tag)
    assert (sctp.client.my_tag, sctp.client.peer_tag) == (client_tag, server_tag)
    assert f"verification tags 0x{client_tag:08x} / 0x{server_tag:08x}" in sctp.render()
    assert transfer_states(sctp.render(), "client") == ["CLOSED", "COOKIE-WAIT", "COOKIE-ECHOED", "ESTABLISHED",
                                                        "SHUTDOWN-PENDING", "SHUTDOWN-SENT", "CLOSED"]
    assert transfer_states(sctp.render(), "server") == ["CLOSED", "ESTABLISHED", "SHUTDOWN-RECEIVED",
                                                        "SHUTDOWN-ACK-SENT", "CLOSED"]


def test_dual_stack_sctp_init_chunk_length_excludes_the_last_parameter_padding(tmp_path_factory):
    run = shipped_run("dual-stack", tmp_path_factory)
    for c in run.frames_on("r2-h3", "h3"):
        p = Ether(c.frame)
        if IP in p and p[IP].proto == 132:
            raw = bytes(p[IP])[20:p[IP].len]
            assert raw[12] == 1                              # INIT, the first SCTP packet
            chunk_len = int.from_bytes(raw[14:16], "big")
            # 4 (chunk header) + 16 (fixed INIT fields) + Supported Address Types of length 6 (type 4 + one
            # address type): 26, padded to 28 on the wire but not in the Chunk Length.
            assert chunk_len == 26
            return
    raise AssertionError("no SCTP INIT on r2-h3")


# ---------------------------------------------------------------------------- ring


def hop_path(run, src: str, tr) -> list[str]:
    return [src] + [n for _, n, _, _ in tr.hops]


def assert_hops_on_shortest_paths(g, src: str, dst: str, tr) -> None:
    """Every router that answered probe TTL n lies n hops from src on a shortest path to dst. With ECMP the
    probes of one hop may take different paths (each probe has its own destination port, so its own flow
    hash), so the routers of successive hops need not be neighbours, as with Linux's traceroute."""
    total = nx.shortest_path_length(g, src, dst)
    assert len(tr.hops) == total
    for n, answered in enumerate(tr.responders, 1):
        for name, _ in answered:
            assert nx.shortest_path_length(g, src, name) == n, (n, name)
            assert nx.shortest_path_length(g, name, dst) == total - n, (n, name)


def test_ring_traceroutes_follow_shortest_paths(tmp_path_factory):
    run = shipped_run("ring", tmp_path_factory)
    g = run.topo.graph
    to_h2, to_h3 = (parse_traceroute(t.render()) for t in run.apps_of(Traceroute))
    for tr, dst in ((to_h2, "h2"), (to_h3, "h3")):
        path = hop_path(run, "h1", tr)
        assert path[-1] == dst
        assert all(g.has_edge(a, b) for a, b in zip(path, path[1:])), path
        assert len(path) - 1 == nx.shortest_path_length(g, "h1", dst)
    # The two sides of the ring: h2 (on r3) by r2, h3 (on r5) by r6; each is the only shortest path.
    assert hop_path(run, "h1", to_h2) == ["h1", "r1", "r2", "r3", "h2"]
    assert hop_path(run, "h1", to_h3) == ["h1", "r1", "r6", "r5", "h3"]
    assert len(list(nx.all_shortest_paths(g, "h1", "h3"))) == 1


def test_ring_udp_loss_is_the_seeded_loss_of_the_lossy_link(tmp_path_factory):
    run = shipped_run("ring", tmp_path_factory)
    udp = run.app(UdpFlow)
    lost = udp.sent - len(udp.received)
    losses = run.drops("link_loss")
    assert lost == len(losses) == run.summary.link_drops == 5
    assert {d.detail for d in losses} == {"r3-r4"}
    assert all(d.node == "r3" and d.time_ns >= 10 * S for d in losses)     # r3 -> r4: the direction of the flow
    assert run.net.links["r3-r4"].loss == 0.02
    # Which datagrams: the ones whose frames went on r3-r4 and never arrived.
    sent_on_lossy = [int.from_bytes(bytes(Ether(c.frame)[UDP].payload)[:4], "big")
                     for c in run.frames_on("r3-r4", "r3") if UDP in Ether(c.frame)
                     and Ether(c.frame)[UDP].dport == 9000]
    assert sent_on_lossy == list(range(1, 201))
    assert sorted(set(range(1, 201)) - {seq for seq, _ in udp.received}) == \
        sorted(set(sent_on_lossy) - {seq for seq, _ in udp.received})
    assert "200 datagrams of 500 bytes sent, 195 received, 5 lost" in udp.render()


# ---------------------------------------------------------------------------- fat-tree


def test_fat_tree_ping_and_traceroute_cross_five_routers(tmp_path_factory):
    run = shipped_run("fat-tree", tmp_path_factory)
    rep = parse_ping(run.app(Ping).render())
    assert rep.dst == "10.0.16.2" and {ttl for *_, ttl, _ in rep.replies} == {64 - 5}
    tr = parse_traceroute(run.app(Traceroute).render())
    path = hop_path(run, "h0_0_0", tr)
    assert len(tr.hops) == 6 and path[-1] == "h3_1_1"
    assert [n[0] for n in path[1:6]] == ["e", "a", "c", "a", "e"]        # edge, aggregation, core, aggregation, edge
    g = run.topo.graph
    assert_hops_on_shortest_paths(g, "h0_0_0", "h3_1_1", tr)
    assert len(path) - 1 == nx.shortest_path_length(g, "h0_0_0", "h3_1_1") == 6
    # ECMP: the three probes of a hop inside the fat-tree do not all take one path.
    assert any(len({name for name, _ in answered}) > 1 for answered in tr.responders)


def test_fat_tree_every_pod_is_reachable_with_the_right_hop_count():
    topo = load_topology(str(TOPOLOGY_DIR / "fat-tree.yaml"))
    net = Network(topo)
    targets = {"h0_0_1": 63, "h0_1_0": 61, "h1_0_0": 59, "h2_1_1": 59, "h3_0_1": 59}
    pings = {t: Ping(net, "h0_0_0", t, count=1).start(0) for t in targets}
    back = Ping(net, "h3_1_1", "h0_0_0", count=1).start(0)
    net.run()
    for t, ttl in targets.items():
        rep = parse_ping(pings[t].render())
        assert (rep.received, [r[3] for r in rep.replies]) == (1, [ttl]), t
    assert parse_ping(back.render()).received == 1
    s = net.summary()
    assert s.problems == [] and s.drops == {}


# ---------------------------------------------------------------------------- basic-v1model


def test_basic_v1model_forwards_with_static_arp_and_decrements_ttl(tmp_path_factory):
    run = shipped_run("basic-v1model", tmp_path_factory)
    assert not [c for c in run.captures if c.frame[12:14] == b"\x08\x06"], "no ARP: the hosts have static entries"
    to_h2 = run.app(Ping, 0)
    assert {r[3] for r in parse_ping(to_h2.render()).replies} == {62}
    # The first echo request to h2 on each link of its path: TTL one less per switch, MACs from the entries.
    hops = []
    for link in ("h1-s1", "s1-s2", "h2-s2"):
        ip = next(ip for _, ip in ipv4_packets(run.frames_on(link), src="10.0.1.1", dst="10.0.2.2", proto=1))
        eth = Ether(next(c.frame for c in run.frames_on(link) if c.frame[14:] == bytes(ip)))
        assert ip_checksum_ok(bytes(ip)[:20])
        hops.append((link, ip.ttl, eth.dst))
    assert hops == [("h1-s1", 64, "08:00:00:00:01:00"), ("s1-s2", 63, "08:00:00:00:02:00"),
                    ("h2-s2", 62, "08:00:00:00:02:22")]
    assert run.net.devices["s1"].agent is None          # a plain P4 program: no control-plane agent
    assert not run.net.sim.ledger.drops


# ---------------------------------------------------------------------------- routers-500


def test_routers_500_loads_routes_and_reaches_the_far_host(tmp_path_factory):
    run = shipped_run("routers-500", tmp_path_factory)
    assert (len(run.topo.nodes), len(run.net.links)) == (504, 1000)
    assert sum(1 for s in run.topo.nodes.values() if s.kind == "router" and s.entries == "auto") == 500
    rep = parse_ping(run.app(Ping).render())
    assert rep.dst == "10.0.4.2" and rep.received == 3
    tr = parse_traceroute(run.app(Traceroute).render())
    path = hop_path(run, "h1", tr)
    assert path[-1] == "h4" and tr.hops[-1][2] == "10.0.4.2"
    g = run.topo.graph
    assert_hops_on_shortest_paths(g, "h1", "h4", tr)
    assert len(path) - 1 == nx.shortest_path_length(g, "h1", "h4") == len(tr.hops)
    assert {r[3] for r in rep.replies} == {64 - (len(tr.hops) - 1)}


# ---------------------------------------------------------------------------- storms



def storm_run():
    return run_with_timeout(lambda: run_topology(load_topology_text(STORM, "storm.yaml"), capture=False), 120)


def test_a_broadcast_storm_in_a_switching_loop_stops_at_the_frame_limit():
    run = storm_run()
    s = run.summary
    assert run.topo.max_frames == 20000
    assert s.stopped_by is not None and "20000 frames" in s.stopped_by and "max_frames" in s.stopped_by
    assert 20000 < s.transmitted <= 20010
    assert f"stopped: {s.stopped_by}" in s.render().split("\n")
    assert s.problems == [] and run.net.sim.ledger.unaccounted() == 0
    # The storm is h1's ARP request going round the triangle: the hosts keep receiving copies of it.
    assert s.fates["delivered"] > 1000
    assert s.time_ns < 1 * S                                     # it stopped early in simulated time


def test_a_stopped_storm_still_accounts_for_every_frame_on_the_links():
    s = storm_run().summary
    assert s.transmitted == s.arrived + s.link_drops + s.on_links


# ---------------------------------------------------------------------------- validation errors

GOOD = """\
name: errors
nodes:
  h1:
    kind: host
    interfaces: {eth0: {ipv4: 10.0.1.1/24, ipv6: "2001:db8:1::1/64"}}
  r1:
    kind: router
    interfaces:
      eth1: {ipv4: 10.0.1.254/24, ipv6: "2001:db8:1::fe/64"}
      eth2: {ipv4: 10.0.2.254/24, ipv6: "2001:db8:2::fe/64"}
  h2:
    kind: host
    interfaces: {eth0: {ipv4: 10.0.2.2/24, ipv6: "2001:db8:2::2/64"}}
links:
  - {ends: [h1:eth0, r1:eth1]}
  - {ends: [r1:eth2, h2:eth0], mtu: 1500}
traffic:
  - {at: 0s, ping: {from: h1, to: h2}}
"""


def diagnose(text: str) -> str:
    """The rendered error of a topology that fails to load or to build."""
    with pytest.raises(DiagnosticError) as exc:
        Network(load_topology_text(text, "bad.yaml"))
    return exc.value.render()


def position(text: str, needle: str, occurrence: int = 1) -> tuple[int, int]:
    """1-based line and column of the n-th occurrence of needle in text."""
    at = -1
    for _ in range(occurrence):
        at = text.index(needle, at + 1)
    line = text.count("\n", 0, at) + 1
    return line, at - (text.rfind("\n", 0, at) + 1) + 1


def test_the_base_of_the_error_cases_is_valid():
    net = Network(load_topology_text(GOOD, "good.yaml"))
    net.schedule_traffic()
    net.run()
    assert len(net.apps[0].received) == 4


@pytest.mark.parametrize("old, new, needle, message, hint", [
    ("kind: host\n    interfaces: {eth0: {ipv4: 10.0.1.1/24",
     "kind: host\n    gatway: auto\n    interfaces: {eth0: {ipv4: 10.0.1.1/24",
     "gatway", "unknown key 'gatway' in node 'h1'", "did you mean 'gateway'?"),
    ("{ends: [h1:eth0, r1:eth1]}", "{ends: [h1:eth0, r1:eth1], mtuu: 1500}",
     "mtuu", "unknown key 'mtuu' in a link", "did you mean 'mtu'?"),
    ("mtu: 1500}", "mtu: 70000}", "70000", "MTU 70000 is out of range", None),
    ("mtu: 1500}", "mtu: big}", "big", "mtu: ", None),
    ("[h1:eth0, r1:eth1]", "[h1:eth0, r9:eth1]", "r9:eth1", "unknown node 'r9'", None),
    ("[r1:eth2, h2:eth0]", "[r1:eth3, h2:eth0]", "r1:eth3", "node 'r1' has no interface 'eth3'",
     "did you mean 'eth2'?"),
    ("mtu: 1500}", "mtu: 1000}", "1000", "r1: interface eth2 has MTU 1000; IPv6 needs at least 1280 (RFC 8200)",
     None),
    ("kind: router\n", "kind: router\n    program: ipv4_router\n", "ipv4_router",
     "router 'r1' has IPv6 addresses but its program ipv4_router.p4 has no table 'ipv6_lpm'", None),
    ("ping: {from: h1, to: h2}", "ping: {from: h1, to: h2, count: 0}", "count: 0",
     "'count' must be between 1 and 1000000", None),
    ("ping: {from: h1, to: h2}", "ping: {from: r1, to: h2}", "from: r1", "'r1' is not a host", None),
])
def test_a_bad_topology_is_reported_at_the_offending_line_and_column(old, new, needle, message, hint):
    assert old in GOOD
    text = GOOD.replace(old, new, 1)
    rendered = diagnose(text)
    line, col = position(text, needle)
    if needle.startswith(("count: ", "from: ")):
        col += needle.index(" ") + 1                      # the value, not the key
    lines = rendered.split("\n")
    assert lines[0].startswith(f"bad.yaml:{line}:{col}: error: {message}"), rendered
    source = text.split("\n")[line - 1]
    assert lines[1].endswith(source)                                       # the source line, then a caret under
    assert lines[2].index("^") - (len(lines[1]) - len(source)) == col - 1  # the column
    assert "Traceback" not in rendered
    if hint:
        assert f"hint: {hint}" in rendered


def test_a_family_the_target_lacks_is_refused_where_the_traffic_names_it():
    text = GOOD.replace("ipv4: 10.0.2.2/24, ", "").replace("ping: {from: h1, to: h2}", "ping: {from: h1, to: h2}")
    rendered = diagnose(text)
    line, col = position(text, "h2}")
    assert rendered.split("\n")[0] == f"bad.yaml:{line}:{col}: error: 'h2' has no IPv4 address"
    assert "hint: set 'ipv6: true' for IPv6" in rendered


def test_the_ipv6_mtu_error_points_at_the_link_of_the_interface_at_fault():
    text = GOOD.replace("{ends: [h1:eth0, r1:eth1]}", "{ends: [h1:eth0, r1:eth1], mtu: 576}") \
        .replace('eth1: {ipv4: 10.0.1.254/24, ipv6: "2001:db8:1::fe/64"}', "eth1: {ipv4: 10.0.1.254/24}") \
        .replace('eth0: {ipv4: 10.0.1.1/24, ipv6: "2001:db8:1::1/64"}', "eth0: {ipv4: 10.0.1.1/24}") \
        .replace("mtu: 1500}", "mtu: 1000}")
    rendered = diagnose(text)
    assert "interface eth2 has MTU 1000" in rendered
    line, col = position(text, "1000")
    assert rendered.split("\n")[0].startswith(f"bad.yaml:{line}:{col}: error:"), rendered


def test_a_bug_in_a_routers_pipeline_is_an_accounting_problem_not_just_a_drop():
    """The frame is accounted for (a pipeline_error drop), and the summary names the bug, so that `run`
    fails instead of reporting a lossy network."""
    net = Network(load_topology(find_topology("line")))
    device = net.devices["r2"].device

    def broken(port, data):
        raise ZeroDivisionError("a bug")
    device.stages(False)                          # made before the run, then broken
    device._fast = dict(device._fast, fast=broken)
    ping = Ping(net, "h1", "h2", count=1).start(0)
    net.run()
    assert parse_ping(ping.render()).received == 0
    s = net.summary()
    assert s.problems and s.problems[0].startswith("r2: ") and "ZeroDivisionError: a bug" in s.problems[0]
    assert "accounting problem (a bug in dataplane): r2: " in s.render()
