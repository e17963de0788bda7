"""Applications on hosts: ping and traceroute as the Linux tools behave, UDP flows (dataplane/net/apps.py)."""

from __future__ import annotations

import pytest

from dataplane.net.apps import Ping, PingAll, Traceroute, UdpFlow, error_text, fmt_rtt
from dataplane.net.host.stack import IcmpNotice
from dataplane.net.network import Network
from dataplane.net.topology import load_topology_text
from dataplane.protocols import packets as P

LINE = """\
name: two routers
defaults:
  link: {latency: 1ms}
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.1/24, ipv6: "2001:db8:1::1/64"}}}
  r1:
    kind: router
    interfaces:
      a: {ipv4: 10.0.1.254/24, ipv6: "2001:db8:1::fe/64"}
      b: {ipv4: 10.0.12.1/30, ipv6: "2001:db8:12::1/64"}
  r2:
    kind: router
    interfaces:
      a: {ipv4: 10.0.12.2/30, ipv6: "2001:db8:12::2/64"}
      b: {ipv4: 10.0.2.254/24, ipv6: "2001:db8:2::fe/64"}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.2.2/24, ipv6: "2001:db8:2::2/64"}}}
links:
  - [h1:eth0, r1:a]
  - [r1:b, r2:a]
  - [r2:b, h2:eth0]
"""


@pytest.fixture
def net():
    return Network(load_topology_text(LINE, "line.yaml"))


def probes_and_answers(net):
    """(TTL of each UDP probe h1 sent, (ICMP type, code, source) of each answer h1 got), in order."""
    probes, answers = [], []
    link = net.links["h1-r1"]

    def watch(lk, end, frame):
        if frame[12:14] == b"\x08\x00" and frame[23] == P.IP_UDP and end.node.name == "h1":
            probes.append(frame[22])
    link.observers.append(watch)
    net.hosts["h1"].icmp_listeners.append(lambda n: answers.append((n.type, n.code, P.ip4_str(n.src))))
    return probes, answers


def test_R7_traceroute_gets_time_exceeded_from_each_hop_then_port_unreachable(net):
    probes, answers = probes_and_answers(net)
    tr = Traceroute(net, "h1", "h2", queries=1).start(0)
    net.run()
    assert probes == [1, 2, 3]
    assert answers == [(11, 0, "10.0.1.254"), (11, 0, "10.0.12.2"), (3, 3, "10.0.2.2")]
    lines = tr.render().splitlines()
    assert lines[0] == "traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets"
    assert [l.split()[:3] for l in lines[1:]] == [["1", "r1", "(10.0.1.254)"], ["2", "r2", "(10.0.12.2)"],
                                                    ["3", "h2", "(10.0.2.2)"]]


def test_traceroute_marks_silent_hops_and_unreachable_networks():
    text = LINE.replace("    kind: router\n    interfaces:\n      a: {ipv4: 10.0.12.2/30",
                        "    kind: router\n    icmp_rate: 0.000001\n    icmp_burst: 0\n    interfaces:\n"
                        "      a: {ipv4: 10.0.12.2/30")
    net = Network(load_topology_text(text, "silent.yaml"))
    tr = Traceroute(net, "h1", "10.9.9.9", max_hops=3, queries=2, wait_ns=1_000_000_000).start(0)
    net.run()
    lines = tr.render().splitlines()
    # r1 has no route to 10.9.9.9: Destination Net Unreachable, marked !N, ends the trace.
    assert lines[1].startswith(" 1  r1 (10.0.1.254)") and lines[1].endswith("!N") and len(lines) == 2
    tr2 = Traceroute(net, "h1", "h2", max_hops=2, queries=2, wait_ns=1_000_000_000).start(net.sim.now_ns)
    net.run()
    lines = tr2.render().splitlines()
    assert lines[2] == " 2  * *"                   # r2 may send no error at all (rate limit 0)


def test_ping_reports_replies_errors_and_statistics(net):
    ok = Ping(net, "h1", "h2", count=3, size=100).start(0)
    expiring = Ping(net, "h1", "h2", count=2, ttl=1).start(10_000_000_000)
    net.run()
    out = ok.render().splitlines()
    assert out[0] == "PING 10.0.2.2 (10.0.2.2) 100(128) bytes of data."
    assert [l.split()[:5] for l in out[1:4]] == [["108", "bytes", "from", "10.0.2.2:", f"icmp_seq={i}"]
                                                 for i in (1, 2, 3)]
    assert all("ttl=62" in l for l in out[1:4])
    assert out[5:7] == ["--- 10.0.2.2 ping statistics ---",
                        "3 packets transmitted, 3 received, 0% packet loss, time 2000ms"]
    assert out[7].startswith("rtt min/avg/max/mdev = ")
    out = expiring.render().splitlines()
    assert out[1:3] == ["From 10.0.1.254 icmp_seq=1 Time to live exceeded",
                        "From 10.0.1.254 icmp_seq=2 Time to live exceeded"]
    assert "2 packets transmitted, 0 received, +2 errors, 100% packet loss" in expiring.render()


def test_ping6_header_and_replies(net):
    p = Ping(net, "h1", "h2", count=1, v6=True).start(0)
    net.run()
    out = p.render().splitlines()
    assert out[0] == "PING 2001:db8:2::2(2001:db8:2::2) 56 data bytes"
    assert out[1].startswith("64 bytes from 2001:db8:2::2: icmp_seq=1 ttl=62 time=")


def test_rtts_are_printed_with_iputils_precision():
    assert [fmt_rtt(ns) for ns in (45_000, 4_080_000, 12_340_000, 123_400_000)] == ["0.045", "4.08", "12.3", "123"]


def test_icmp_errors_are_worded_like_iputils():
    n = IcmpNotice(False, 3, 4, 0, 1400, b"", 64, 0)
    assert error_text(n) == "Frag needed and DF set (mtu = 1400)"
    n6 = IcmpNotice(True, 2, 0, 0, 1280, b"", 64, 0)
    assert error_text(n6) == "Packet too big: mtu=1280"
    assert error_text(IcmpNotice(True, 3, 0, 0, 0, b"", 64, 0)) == "Time exceeded: Hop limit"


def test_udp_flow_counts_what_arrives(net):
    flow = UdpFlow(net, "h1", "h2", port=9000, count=5, size=300).start(0)
    closed = UdpFlow(net, "h1", "10.0.2.2", port=9001, count=1).start(1_000_000_000)
    net.hosts["h2"].udp_sockets.clear()          # the second flow's port has no listener: Port Unreachable
    closed.receiver = None
    net.run()
    assert flow.report().startswith("udp h1 (10.0.1.1) -> 10.0.2.2 port 9000: 5 datagrams of 300 bytes sent, "
                                    "5 received, 0 lost")
    assert [seq for seq, _ in flow.received] == [1, 2, 3, 4, 5]
    assert any(d.reason.name == "NO_LISTENER" and d.node == "h2" for d in net.sim.ledger.drops)


@pytest.mark.parametrize("size", [0, 1, 3, 4, 5, 200, 201, 1472])
def test_a_udp_flow_says_what_its_data_sums_to(net, size):
    # The flow hands the host its data's checksum sum (so the host need not sum the bytes): it must be right
    # for every size and sequence number, odd lengths and numbers past 16 bits included.
    flow = UdpFlow(net, "h1", "h2", port=9000, count=10**9, size=size)
    sends = []

    def udp_send(dst, sport, dport, data, v6=False, ttl=None, df=False, data_sum=None):     # Host.udp_send's
        sends.append((data, data_sum))
    net.hosts["h1"].udp_send = udp_send
    for sent in (0, 1, 0xFFFE, 0xFFFF, 0x1FFFF, 0xFFFFFFFE):
        flow.sent = sent                     # the next datagram's sequence number is sent + 1
        flow._send()
    assert len(sends) == 6
    for data, data_sum in sends:
        assert data_sum >= 0 and (data_sum - P.word_sum(data)) % 0xFFFF == 0, (data, data_sum)
    # The test pattern: the sequence number (32 bits, big-endian), then zeros up to the size (never shorter).
    assert [data for data, _ in sends] == [(sent + 1).to_bytes(4, "big") + bytes(max(0, size - 4))
                                           for sent in (0, 1, 0xFFFE, 0xFFFF, 0x1FFFF, 0xFFFFFFFE)]


def test_an_application_the_run_never_reached_says_so(net):
    p = Ping(net, "h1", "h2").start(50_000_000_000)
    net.run(until_ns=1_000_000_000)
    assert p.render() == "ping on h1: not started, the run stopped first (due at 50.000 s)"


# ---------------------------------------------------------------------------- pingall (Mininet)

THREE = LINE.replace("links:", "  h3: {kind: host, interfaces: {eth0: {ipv4: 10.0.2.3/24}}}\n  s2: {kind: switch, "
                     "interfaces: {p1: {}, p2: {}, p3: {}}}\nlinks:").replace(
    "  - [r2:b, h2:eth0]", "  - [r2:b, s2:p1]\n  - [s2:p2, h2:eth0]\n  - [s2:p3, h3:eth0]")


def test_pingall_prints_as_mininet_does():
    net = Network(load_topology_text(THREE, "three.yaml"))
    app = PingAll(net).start(0)
    net.run()
    assert app.render().splitlines() == ["*** Ping: testing ping reachability", "h1 -> h2 h3", "h2 -> h1 h3",
                                         "h3 -> h1 h2", "*** Results: 0% dropped (6/6 received)"]


def test_pingall_marks_what_does_not_answer_with_x_and_truncates_the_share_like_mininet():
    net = Network(load_topology_text(THREE, "three.yaml"))
    app = PingAll(net, v6=True).start(0)                  # h3 has no IPv6 address
    net.run()
    assert app.render().splitlines()[1:] == ["h1 -> h2 X", "h2 -> h1 X", "h3 -> X X",
                                             "*** Results: 66% dropped (2/6 received)"]


def test_pingall_runs_one_ping_at_a_time_and_does_not_wait_out_answered_pings():
    net = Network(load_topology_text(THREE, "three.yaml"))
    app = PingAll(net).start(0)
    net.run()
    # 6 pings over 1 ms links (4 ms round trips at most, ARP first): well under the 1 s a timeout takes.
    assert app.done and net.sim.now_ns < 100 * 1_000_000


def test_pingall_is_a_traffic_item():
    text = THREE + "traffic:\n  - pingall: {}\n  - {at: 1s, pingall: {ipv6: true}}\n"
    topo = load_topology_text(text, "three.yaml")
    assert [(t.kind, t.params, t.at_ns) for t in topo.traffic] == [("pingall", {"ipv6": False}, 0),
                                                                   ("pingall", {"ipv6": True}, 1_000_000_000)]
