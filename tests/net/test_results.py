"""Results as data (dataplane/net/results.py): display types, JSON-ready, equal to what the text says."""

from __future__ import annotations

import dataclasses
import json

import pytest

from dataplane.net.apps import Ping, PingAll, Traceroute, UdpFlow
from dataplane.net.network import Network
from dataplane.net.results import result
from dataplane.net.topology import load_topology
from dataplane.net.transfers import SctpTransfer, TcpTransfer

S = 1_000_000_000


@pytest.fixture(scope="module")
def line_run():
    net = Network(load_topology("line"))
    apps = {"ping": Ping(net, "h1", "h2", count=3).start(),
            "traceroute": Traceroute(net, "h1", "h2").start(),
            "udp": UdpFlow(net, "h1", "h2", count=4).start(),
            "tcp": TcpTransfer(net, "h1", "h2", port=80, nbytes=20_000).start(at_ns=5 * S),
            "sctp": SctpTransfer(net, "h1", "h2", messages=2).start(at_ns=5 * S),
            "pingall": PingAll(net).start(at_ns=10 * S)}
    net.run()
    return net, apps


def test_ping_result_has_addresses_as_strings_and_times_in_seconds(line_run):
    net, apps = line_run
    r = result(apps["ping"])
    assert (r.kind, r.src, r.dst, r.transmitted, r.received, r.loss) == ("ping", "h1", "10.0.2.2", 3, 3, 0.0)
    assert all(0 < t < 1 for t in r.rtt_s) and r.rtt_min_s <= r.rtt_avg_s <= r.rtt_max_s
    assert f"{r.rtt_avg_s * 1000:.3f}" in apps["ping"].render()         # the same figure as the text


def test_traceroute_result_lists_each_hop(line_run):
    r = result(line_run[1]["traceroute"])
    assert r.reached and r.finished and r.dst == "10.0.2.2"
    assert [h.ttl for h in r.hops] == list(range(1, len(r.hops) + 1))
    assert r.hops[-1].probes[0]["address"] == "10.0.2.2"
    assert isinstance(r.hops[0].probes[0]["rtt_s"], float)


def test_udp_tcp_and_sctp_results(line_run):
    apps = line_run[1]
    u = result(apps["udp"])
    assert (u.sent, u.received) == (4, 4) and len(u.latency_s) == 4
    t = result(apps["tcp"])
    assert t.intact and t.delivered_bytes == t.total_bytes == 20_000 and t.port == 80
    assert t.client_states[:3] == ["CLOSED", "SYN-SENT", "ESTABLISHED"] and t.client_states[-1] == "CLOSED"
    assert t.throughput_bps > 0 and 0 < t.established_s < 1 and t.error is None
    s = result(apps["sctp"])
    assert s.kind == "sctp" and s.intact and s.delivered_bytes == s.total_bytes


def test_pingall_result(line_run):
    r = result(line_run[1]["pingall"])
    assert r.answered == {"h1->h2": True, "h2->h1": True} and (r.sent, r.received) == (2, 2)


def test_every_result_is_json_ready(line_run):
    for app in line_run[1].values():
        text = json.dumps(dataclasses.asdict(result(app)))
        assert json.loads(text)["kind"] == app.name


def test_an_app_that_never_started_says_so():
    net = Network(load_topology("line"))
    ping = Ping(net, "h1", "h2", count=1).start(at_ns=100 * S)
    net.run(until_ns=S)
    r = result(ping)
    assert (r.transmitted, r.received, r.finished, r.rtt_avg_s) == (0, 0, False, None)
