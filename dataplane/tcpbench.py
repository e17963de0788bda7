"""TCP against published behaviour, as figures: `dataplane bench --which tcp`.

Three experiments a reviewer of a TCP model asks for, each on a topology
written out here (the tests in tests/net/test_congestion.py assert the same
things within stated tolerances; this prints the numbers):

  mathis     one flow through a 20 ms link that loses a fraction p of the
             frames in both directions: its goodput after the first 5 s
             (slow start's overshoot left out) against Mathis,
             Semke, Mahdavi and Ott's model BW = MSS / RTT * sqrt(3/2) / sqrt(p)
             (1997), which holds where timeouts are rare; per p and per
             congestion control
  fairness   two flows sharing a 10 Mbit/s drop-tail bottleneck (30 frames),
             the second starting a second later: Jain's index of their
             goodputs over the 15 s that follow, the link's utilisation and
             the queue's drops
  speed      one long transfer (20 MB) h1 -> r1 -> r2 -> h2 without loss (queues
             long enough for slow start's overshoot): TCP segments (data and
             ACKs, RFC 4022's tcpOutSegs of both hosts) and packet-hops per
             second of processor time, the figure to compare before and after
             a change to TCP (`dataplane bench --which tcp-transfer` prints it
             alone)

Every run is deterministic (the topology's seed): the figures of one
experiment repeat exactly, only the rates vary with the machine. The speed
is the best of `runs` runs, in processor time (time.process_time), so that
other processes on a busy machine weigh less on it.
"""

from __future__ import annotations

import math
import time

S = 1_000_000_000

LOSSY = """
name: mathis
seed: {seed}
nodes:
  h1: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.1/24}}}}}}
  h2: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.2/24}}}}}}
links:
  - {{ends: [h1:eth0, h2:eth0], loss: {loss}, latency: 10ms, bandwidth: 1Gbps}}
traffic:
  - {{tcp: {{from: h1, to: h2, bytes: {nbytes}, cc: {cc}}}}}
"""

BOTTLENECK = """
name: bottleneck
defaults:
  link: {{latency: 5ms, bandwidth: 100Mbps}}
nodes:
  h1: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.1/24}}}}}}
  h2: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.2/24}}}}}}
  h3: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.3/24}}}}}}
  s1: {{kind: switch, interfaces: {{p1: {{}}, p2: {{}}, p3: {{}}}}}}
links:
  - [h1:eth0, s1:p1]
  - [h2:eth0, s1:p2]
  - {{ends: [s1:p3, h3:eth0], bandwidth: 10Mbps, queue: 30}}
traffic:
  - {{tcp: {{from: h1, to: h3, port: 5001, bytes: 20000000, cc: {cc}}}}}
  - {{at: 1s, tcp: {{from: h2, to: h3, port: 5002, bytes: 20000000, cc: {cc}}}}}
"""

TWO_ROUTERS = """
name: tcp-speed
defaults:
  link: {{latency: 1ms, bandwidth: 1Gbps, queue: 100000}}   # room for slow start's whole overshoot: no drop
nodes:
  h1: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.1.1/24}}}}}}
  r1: {{kind: router, interfaces: {{a: {{ipv4: 10.0.1.254/24}}, b: {{ipv4: 10.0.12.1/30}}}}}}
  r2: {{kind: router, interfaces: {{a: {{ipv4: 10.0.12.2/30}}, b: {{ipv4: 10.0.2.254/24}}}}}}
  h2: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.2.2/24}}}}}}
links:
  - [h1:eth0, r1:a]
  - [r1:b, r2:a]
  - [r2:b, h2:eth0]
traffic:
  - {{tcp: {{from: h1, to: h2, bytes: {nbytes}, cc: {cc}}}}}
"""

RTT_S = 0.020                        # LOSSY's round trip
LOSS_RATES = (0.002, 0.005, 0.01, 0.02)
LOSSES_PER_POINT = 150               # enough losses per point for the mean to settle


def _network(text: str):
    from .net.network import Network
    from .net.topology import load_topology_text
    return Network(load_topology_text(text, "tcpbench.yaml"))


def mathis_bps(p: float, mss: int, rtt_s: float = RTT_S) -> float:
    """Mathis et al. 1997: MSS / RTT * C / sqrt(p), C = sqrt(3/2)."""
    return mss * 8 / rtt_s * math.sqrt(1.5) / math.sqrt(p)


def lossy_flow(p: float, cc: str, nbytes: int, seed: int = 1):
    """One flow of nbytes through LOSSY at loss p, run to its end: (the network, the flow's application)."""
    net = _network(LOSSY.format(loss=p, nbytes=nbytes, cc=cc, seed=seed))
    [app] = net.schedule_traffic()
    net.run()
    return net, app


STARTUP_NS = 5 * S      # what the Mathis experiment leaves out: slow start's overshoot and its recovery


def steady_flow(p: float, cc: str, nbytes: int, seed: int = 1) -> dict:
    """One flow through LOSSY, measured after its first STARTUP_NS: the model is of the steady state, and on
    a 1 Gbit/s path slow start (with window scaling) overshoots far beyond the steady window before its
    first loss, whose repair would otherwise weigh on the figure."""
    net = _network(LOSSY.format(loss=p, nbytes=nbytes, cc=cc, seed=seed))
    [app] = net.schedule_traffic()
    net.run(until_ns=STARTUP_NS)
    before = app.receipt().count
    net.run()
    conn = app.client
    finished = app.peer_end().history[-1][0]
    return {"intact": bool(app.intact), "goodput_bps": (len(app.data) - before) * 8 / ((finished - STARTUP_NS) / S),
            "mss": conn.effective_mss(), "retransmissions": conn.retransmissions, "timeouts": conn.timeouts}


def mathis_rows(ccs=("newreno", "cubic"), rates=LOSS_RATES) -> list[dict]:
    """Per congestion control and loss rate: the measured goodput and the model's."""
    rows = []
    for cc in ccs:
        for p in rates:
            f = steady_flow(p, cc, int(LOSSES_PER_POINT / p * 1460))
            model = mathis_bps(p, f["mss"])            # the data segments' size (1448 with timestamps)
            rows.append({"cc": cc, "p": p, "measured_bps": f["goodput_bps"], "model_bps": model,
                         "ratio": f["goodput_bps"] / model, "retransmissions": f["retransmissions"],
                         "timeouts": f["timeouts"]})
    return rows


def fairness(cc: str) -> dict:
    """Two flows at BOTTLENECK: Jain's index of their goodputs from 6 s to 21 s, the link's use, queue drops."""
    from .runtime.trace import DropReason
    net = _network(BOTTLENECK.format(cc=cc))
    apps = net.schedule_traffic()
    net.run(until_ns=6 * S)
    before = [a.receipt().count for a in apps]
    net.run(until_ns=21 * S)
    goodputs = [(a.receipt().count - b) * 8 / 15 for a, b in zip(apps, before)]
    jain = sum(goodputs) ** 2 / (len(goodputs) * sum(g * g for g in goodputs))
    drops = sum(n for (_node, reason, _), n in net.sim.ledger.drop_counts.items() if reason is DropReason.QUEUE_FULL)
    return {"cc": cc, "goodputs_bps": goodputs, "jain": jain, "utilisation": sum(goodputs) / 10e6,
            "queue_drops": drops}


def transfer_speed(nbytes: int = 20_000_000, cc: str = "cubic", runs: int = 1) -> dict:
    """One lossless transfer across two routers, the best of `runs`: TCP segments sent and packet-hops
    (frames on links) per second of processor time, and per wall-clock second."""
    best = None
    for _ in range(runs):
        net = _network(TWO_ROUTERS.format(nbytes=nbytes, cc=cc))
        net.schedule_traffic()
        t, cpu = time.perf_counter(), time.process_time()
        net.run()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - t
        if best is None or cpu < best[0]:
            best = (cpu, wall, net)
    cpu, wall, net = best
    s = net.summary()
    hops = s.transmitted
    segments = sum(host.tcp.out_segments for host in net.hosts.values())
    return {"bytes": nbytes, "cpu_s": cpu, "wall_s": wall, "segments": segments, "frames_on_links": hops,
            "segments_per_cpu_s": segments / cpu, "hops_per_cpu_s": hops / cpu, "hops_per_s": hops / wall,
            "events_per_s": s.events / wall, "drops": sum(s.drops.values())}


def transfer_line(runs: int = 3) -> str:
    """`dataplane bench --which tcp-transfer`: the speed experiment, in one line."""
    speed = transfer_speed(runs=runs)
    return (f"tcp-transfer: {speed['bytes']:,} bytes h1 -> r1 -> r2 -> h2 (CUBIC, {speed['drops']} drops), best of "
            f"{runs}: {speed['segments']:,} TCP segments, {speed['frames_on_links']:,} frames on links in "
            f"{speed['cpu_s']:.2f} s of processor time = {speed['segments_per_cpu_s']:,.0f} segments/s, "
            f"{speed['hops_per_cpu_s']:,.0f} packet-hops/s ({speed['cpu_s'] / speed['segments'] * 1e6:.1f} us "
            f"a segment, all of the simulation included)")


def render() -> list[str]:
    lines = []
    t = time.perf_counter()
    lines.append(transfer_line(runs=1))
    lines.append("tcp mathis: one flow, 20 ms RTT, random loss p both ways; model = MSS/RTT * sqrt(3/2)/sqrt(p)")
    lines.append(f"  {'cc':8} {'p':>6} {'measured Mbit/s':>16} {'model Mbit/s':>13} {'ratio':>6} "
                 f"{'retransmits':>11} {'timeouts':>8}")
    for r in mathis_rows():
        lines.append(f"  {r['cc']:8} {r['p']:6.3f} {r['measured_bps'] / 1e6:16.2f} {r['model_bps'] / 1e6:13.2f} "
                     f"{r['ratio']:6.2f} {r['retransmissions']:11,} {r['timeouts']:8,}")
    for cc in ("cubic", "newreno"):
        f = fairness(cc)
        lines.append(f"tcp fairness ({cc}): two flows at a 10 Mbit/s drop-tail bottleneck: goodputs "
                     f"{' / '.join(f'{g / 1e6:.2f}' for g in f['goodputs_bps'])} Mbit/s, Jain's index "
                     f"{f['jain']:.3f}, link {f['utilisation']:.0%} used, {f['queue_drops']:,} queue drops")
    lines.append(f"tcp: all experiments in {time.perf_counter() - t:.1f} s")
    return lines
