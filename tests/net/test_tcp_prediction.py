"""Header prediction (TcpConnection.predicted_segment_arrives, TcpStack.header_prediction) changes nothing but
the CPU time: runs with it and without put the same bytes on every link at the same times, and end with the
same summaries and counters, through losses, SACK recovery, timeouts, ECN marks, IPv6, fixed windows, and
with each RFC 7323 option on or off."""

from __future__ import annotations

import glob
import os

import pytest

from test_tcp import B4, DATA, MS, ecn_pair, tcp_pair
from dataplane.net.host.tcp import TcpConnection
from dataplane.net.network import Network
from dataplane.net.topology import load_topology_text

PAIR = """
name: prediction
seed: {seed}
nodes:
  h1: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.1/24, ipv6: "2001:db8::1/64"}}}}}}
  h2: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.2/24, ipv6: "2001:db8::2/64"}}}}}}
links:
  - {{ends: [h1:eth0, h2:eth0], loss: {loss}, latency: 5ms, bandwidth: 100Mbps, queue: {queue}}}
traffic:
  - {{tcp: {{from: h1, to: h2, bytes: 300000, cc: {cc}, {options}}}}}
  - {{at: 100ms, tcp: {{from: h2, to: h1, port: 5002, bytes: 60000, cc: {cc}, {options}}}}}
"""

CASES = {
    "loss-free": dict(seed=1, loss=0.0, queue=1000, cc="cubic", options="sack: true"),
    "sack recovery": dict(seed=2, loss=0.02, queue=1000, cc="cubic", options="sack: true"),
    "queue drops": dict(seed=3, loss=0.0, queue=12, cc="newreno", options="sack: true"),
    "no sack": dict(seed=4, loss=0.03, queue=1000, cc="reno", options="sack: false"),
    "no timestamps": dict(seed=5, loss=0.02, queue=1000, cc="cubic", options="timestamps: false"),
    "no window scaling": dict(seed=6, loss=0.02, queue=20, cc="cubic", options="wscale: false"),
    "neither option": dict(seed=7, loss=0.03, queue=1000, cc="newreno",
                           options="wscale: false, timestamps: false, sack: false"),
    "ipv6": dict(seed=8, loss=0.02, queue=1000, cc="cubic", options="ipv6: true"),
    "nodelay": dict(seed=9, loss=0.01, queue=1000, cc="cubic", options="nodelay: true"),
}


def run(text: str, tmp_path, predicted: bool) -> dict:
    where = str(tmp_path / ("predicted" if predicted else "general"))
    net = Network(load_topology_text(text, "prediction.yaml"), pcap_dir=where)
    for host in net.hosts.values():
        host.tcp.header_prediction = predicted
    apps = net.schedule_traffic()
    net.run()
    net.close()
    captures = {os.path.basename(f): open(f, "rb").read() for f in sorted(glob.glob(os.path.join(where, "*")))}
    conns = [(a.client.retransmissions, a.client.timeouts, a.client.fast_retransmits, a.client.retransmitted_bytes,
              a.client.cc.cwnd, a.client.srtt_ns, a.client.rto_ns, a.intact) for a in apps]
    return {"captures": captures, "summary": net.summary().render(), "connections": conns,
            "counters": [h.tcp.counters() for h in net.hosts.values()]}


@pytest.fixture
def general_path_calls(monkeypatch):
    """How many segments the general path (3.10.7.4) processed."""
    calls = [0]
    general = TcpConnection._arrives_in_other_states

    def counting(self, seg):
        calls[0] += 1
        return general(self, seg)
    monkeypatch.setattr(TcpConnection, "_arrives_in_other_states", counting)
    return calls


@pytest.mark.parametrize("case", list(CASES))
def test_runs_with_and_without_prediction_are_identical(case, tmp_path, general_path_calls):
    text = PAIR.format(**CASES[case])
    general = run(text, tmp_path, predicted=False)
    everything = general_path_calls[0]
    general_path_calls[0] = 0
    predicted = run(text, tmp_path, predicted=True)
    assert predicted["captures"] and predicted["captures"] == general["captures"]
    assert predicted == general
    # Prediction took segments from the general path; without losses, nearly all but the handshakes and FINs.
    assert general_path_calls[0] < (everything / 10 if case == "loss-free" else everything)


def wire_of_ecn_run(predicted: bool):
    sim, a, b, link, accepted, client, wire, ect = ecn_pair(mark=lambda i: i in (20, 21, 40, 90))
    frames = []
    link.observers.append(lambda link_, end, frame: frames.append((sim.now_ns, end.node.name, frame)))
    a.tcp.header_prediction = b.tcp.header_prediction = predicted
    client.send(DATA)
    sim.run(until_ns=sim.now_ns + 10 * MS)
    client.close()                                   # the rest goes in FIN-WAIT-1
    sim.run()
    assert bytes(accepted[0].received) == DATA
    return frames, client.ecn_reductions, sim.ledger.drop_counts


def test_ecn_marks_echoed_the_same_with_and_without_prediction():
    frames, reductions, drops = wire_of_ecn_run(True)
    assert reductions >= 1
    assert (frames, reductions, drops) == wire_of_ecn_run(False)


def wire_of_fixed_window_run(predicted: bool):
    # The application fixes a small window (SO_RCVBUF): the sender is held by it, never by cwnd.
    sim, a, b, link, accepted = tcp_pair(setup=lambda conn: setattr(conn, "rcv_wnd", 5000))
    frames = []
    link.observers.append(lambda link_, end, frame: frames.append((sim.now_ns, end.node.name, frame)))
    a.tcp.header_prediction = b.tcp.header_prediction = predicted
    client = a.tcp.connect(B4, 80)
    client.send(DATA[:60_000])
    sim.run()
    assert bytes(accepted[0].received) == DATA[:60_000]
    return frames


def test_a_fixed_small_window_the_same_with_and_without_prediction():
    assert wire_of_fixed_window_run(True) == wire_of_fixed_window_run(False)
