"""TCP congestion control (dataplane/net/host/congestion.py and its use in tcp.py), checked against the
RFCs' arithmetic and against published behaviour: slow start doubles cwnd per RTT, one loss is repaired by
fast retransmit without a timeout, a timeout restarts from one segment, a flow through a lossy link follows
the Mathis et al. model, two flows at a drop-tail bottleneck share it fairly, and CUBIC's window follows
its cubic function between losses."""

from __future__ import annotations

import pytest

from netlab import two_hosts
from dataplane.net.host import congestion
from dataplane import tcpbench
from dataplane.net.host.tcp import TcpStack
from dataplane.protocols import packets as P

S = 1_000_000_000
MS = 1_000_000
MSS = 1460
B4 = P.ip4("10.0.0.2")


# ---------------------------------------------------------------------------- the algorithms alone

@pytest.mark.parametrize("mss,window", [(1460, 14600), (536, 5360), (9000, 18000), (100, 1000)])
def test_initial_window_is_rfc_6928s(mss, window):
    assert congestion.initial_window(mss) == window


def test_reno_slow_start_adds_what_is_acked_then_one_segment_per_window():
    cc = congestion.make("reno", MSS)
    cc.ssthresh = 20 * MSS
    cc.on_ack(10 * MSS, 0, None)                   # a window's ACKs in slow start: the window doubles
    assert cc.cwnd == 20 * MSS
    cc.on_ack(20 * MSS - 1, 0, None)               # congestion avoidance: one SMSS per cwnd acknowledged
    assert cc.cwnd == 20 * MSS
    cc.on_ack(1, 0, None)
    assert cc.cwnd == 21 * MSS


def test_reno_ssthresh_is_half_the_flight_at_least_two_segments():
    cc = congestion.make("newreno", MSS)
    assert cc.on_loss(30 * MSS, 0) == 15 * MSS
    assert cc.on_loss(MSS, 0) == 2 * MSS


def test_cubic_reduces_by_beta_and_follows_its_cubic_function():
    """RFC 9438: ssthresh = 0.7 cwnd; then W(t) = C (t - K)^3 + W_max with K = cbrt(W_max (1 - beta) / C)."""
    cc = congestion.make("cubic", MSS)
    cc.cwnd = 100 * MSS
    assert cc.on_loss(100 * MSS, 0) == 70 * MSS
    cc.cwnd = cc.ssthresh
    k = (100 * 0.3 / 0.4) ** (1 / 3)              # 4.217 s
    rtt = 100 * MS
    now, samples = 0, {}
    while now < 8 * S:                             # a window of ACKs every RTT
        cc.on_ack(cc.cwnd, now, rtt)
        now += rtt
        samples[now] = cc.cwnd / MSS
    for t_s in (1, 2, 3, 4, 5, 6):
        w_cubic = 0.4 * (t_s - k) ** 3 + 100
        got = samples[t_s * S]
        assert abs(got - w_cubic) <= max(2.0, 0.03 * w_cubic), (t_s, got, w_cubic)
    assert samples[4 * S] < 101 < samples[7 * S]   # concave up to W_max, convex beyond it


def test_cubic_fast_convergence_lowers_w_max_after_a_smaller_peak():
    cc = congestion.make("cubic", MSS)
    cc.cwnd = 100 * MSS
    cc.on_loss(0, 0)
    cc.cwnd = 80 * MSS                             # the next loss comes before the window regained W_max
    cc.on_loss(0, 0)
    assert cc.w_max == pytest.approx(80 * 1.7 / 2)


def test_unknown_algorithm():
    with pytest.raises(ValueError, match="unknown congestion control 'vegas' .choose from reno, newreno, cubic"):
        congestion.make("vegas", MSS)


# ---------------------------------------------------------------------------- in a connection

def bulk(cc: str, latency_ns: int = 10 * MS, loss: float = 0.0, nbytes: int = 2_000_000, lose=None, seed: int = 1,
         sack: bool = True):
    """h1 sends nbytes to h2 over one link; `lose(data_index, frame)` may drop chosen data segments. `sack`:
    offer SACK (RFC 2018) in the SYN."""
    sim, a, b, link = two_hosts(latency_ns=latency_ns, loss=loss, seed=seed)
    TcpStack(a)
    TcpStack(b)
    got = bytearray()
    b.tcp.listen(80, on_accept=lambda conn: setattr(conn, "on_data", lambda c, d: got.extend(d)))
    sent = []                                      # (time, seq, length) of every data segment from a
    original = link.send

    def send(node, port, frame):
        is_tcp = frame[12:14] == b"\x08\x00" and frame[23] == P.IP_TCP
        data_at = 34 + (frame[46] >> 4) * 4 if is_tcp else len(frame)     # after Ethernet, IPv4, TCP headers
        if node is a and len(frame) > data_at:
            sent.append((sim.now_ns, int.from_bytes(frame[38:42], "big"), len(frame) - data_at))
            if lose is not None and lose(len(sent), frame):
                return
        original(node, port, frame)
    link.send = send
    conn = a.tcp.connect(B4, 80, cc=cc, sack=sack)
    data = bytes(i % 251 for i in range(nbytes))
    conn.send(data)
    conn.on_state = lambda c, old, new: c.close() if new == "ESTABLISHED" else None   # CLOSE in SYN-SENT aborts
    sim.run()
    assert bytes(got) == data
    return sim, conn, sent


def test_slow_start_doubles_the_window_every_round_trip():
    sim, conn, sent = bulk("newreno", latency_ns=50 * MS, nbytes=400_000)
    start = sent[0][0]
    rounds = {}
    for t, _, n in sent:                            # RTT 100 ms: segments sent in each round trip
        rounds[(t - start) // (100 * MS)] = rounds.get((t - start) // (100 * MS), 0) + 1
    assert [rounds[i] for i in range(3)] == [10, 20, 40]
    assert conn.retransmissions == 0


@pytest.mark.parametrize("cc", ["newreno", "cubic"])
def test_one_lost_segment_is_repaired_by_fast_retransmit_without_a_timeout(cc):
    sim, conn, sent = bulk(cc, lose=lambda i, f: i == 30)
    assert (conn.fast_retransmits, conn.timeouts, conn.retransmissions) == (1, 0, 1)
    assert conn.cc.ssthresh < congestion.INFINITE_SSTHRESH


def test_newreno_repairs_two_losses_in_one_window_with_a_partial_ack_reno_does_not():
    """Without SACK, RFC 6582: the partial ACK after the first retransmission sends the second hole at once;
    Reno leaves recovery at that ACK and needs another fast retransmit or a timeout (RFC 5681). (With SACK
    both recover alike: test_tcp_sack.py.)"""
    _, newreno, _ = bulk("newreno", lose=lambda i, f: i in (30, 33), sack=False)
    assert (newreno.fast_retransmits, newreno.timeouts, newreno.retransmissions) == (1, 0, 2)
    _, reno, _ = bulk("reno", lose=lambda i, f: i in (30, 33), sack=False)
    assert reno.fast_retransmits + reno.timeouts >= 2 and reno.retransmissions >= 2


def test_a_timeout_restarts_from_one_segment_and_resends_what_was_in_flight():
    # Lose a whole flight (segments 11..30): no duplicate ACKs, so the retransmission timer fires.
    sim, conn, sent = bulk("newreno", lose=lambda i, f: 11 <= i <= 30, nbytes=200_000, sack=False)
    assert conn.timeouts == 1 and conn.fast_retransmits == 0
    assert conn.retransmissions >= 20               # go-back-N: everything in flight went again
    assert conn.cc.ssthresh >= 2 * conn.cc.mss


def test_an_application_limited_sender_does_not_grow_its_window():
    """Linux's tcp_is_cwnd_limited: ACKs of a sender that never fills its window leave cwnd alone."""
    sim, a, b, link = two_hosts(latency_ns=10 * MS)
    TcpStack(a)
    TcpStack(b)
    b.tcp.listen(80)
    conn = a.tcp.connect(B4, 80, cc="reno")
    sim.run()
    for i in range(50):                            # one segment per 100 ms, each acknowledged long before the next
        sim.at(sim.now_ns + i * 100 * MS, conn.send, b"x" * 100)
    sim.run(until_ns=sim.now_ns + 6 * S)
    assert conn.cc.cwnd == congestion.initial_window(conn.effective_mss())


# ---------------------------------------------------------------------------- against published behaviour

def test_a_run_made_long_by_backed_off_retransmission_timers_says_so():
    net, _ = tcpbench.lossy_flow(0.5, "cubic", 20_000)
    summary = net.summary()
    [note] = summary.notes
    assert note.startswith(f"most of the {net.sim.now_ns / 1e9:.3f} s simulated were TCP waiting for "
                           "retransmission timeouts, which double after each loss (RFC 6298): h1 ")
    h1 = net.hosts["h1"].tcp
    assert h1.rto_waited_ns >= net.sim.now_ns / 2 and h1.rto_peak_ns == 120 * S
    assert "note: most of the" in summary.render()


def test_a_run_without_losses_has_no_such_note():
    net, _ = tcpbench.lossy_flow(0, "cubic", 20_000)
    assert net.summary().notes == []


@pytest.mark.parametrize("p", [0.005, 0.01])
def test_one_newreno_flow_through_a_lossy_link_follows_the_mathis_model(p):
    """Random loss p on a 20 ms path (both directions): within 30% of Mathis et al.'s model, which holds
    where timeouts are rare (p <= 1%), once slow start's overshoot is over (tcpbench.steady_flow). Enough
    data for about 150 losses per point."""
    f = tcpbench.steady_flow(p, "newreno", int(150 / p * MSS))
    assert f["intact"]
    model = tcpbench.mathis_bps(p, f["mss"])
    assert 0.7 <= f["goodput_bps"] / model <= 1.3, (f["goodput_bps"], model)


@pytest.mark.parametrize("cc", ["cubic", "newreno"])
def test_two_flows_at_a_drop_tail_bottleneck_share_it_fairly(cc):
    """The second flow starts a second later; over the following 15 s both get a fair share (Jain's index
    of their goodputs at least 0.9), together they fill the 10 Mbit/s link, and its queue (30 frames,
    drop-tail) overflows: the losses that make them share."""
    f = tcpbench.fairness(cc)
    assert f["jain"] >= 0.9, f["goodputs_bps"]
    assert f["utilisation"] >= 0.8
    assert f["queue_drops"] > 0


def test_cubic_window_never_grows_slower_than_its_cubic_function_between_losses():
    """A 4 Mbit/s, 100 ms path with an 8-frame drop-tail queue: the window saws between queue overflows. In
    each epoch (from the end of one recovery to the next loss) the window is at least
    W(t) = 0.4 (t - K)^3 + W_max (RFC 9438 4.2, K from the window at the epoch's start): it follows the cubic
    function where that grows faster, Reno's rate (the Reno-friendly region, 4.3) where that does; past K it
    goes beyond W_max, the convex part. (The algorithm alone follows the function: see above.)"""
    sim, a, b, link = two_hosts(latency_ns=50 * MS, bandwidth_bps=4e6)
    link.queue_frames = 8
    TcpStack(a)
    TcpStack(b)
    b.tcp.listen(80)
    conn = a.tcp.connect(B4, 80, cc="cubic")
    conn.send(bytes(30_000_000))
    samples = []

    def sample():
        samples.append((sim.now_ns, conn.cc.cwnd / conn.cc.mss, conn.cc.w_max, conn._in_recovery or conn._loss,
                        conn.fast_retransmits + conn.timeouts, conn.cc.ssthresh / conn.cc.mss))
        if sim.now_ns < 30 * S:
            sim.schedule(10 * MS, sample)
    sim.schedule(10 * MS, sample)
    sim.run(until_ns=30 * S)
    epochs, current = [], []
    for sample_ in samples:
        if sample_[3] or (current and sample_[4] != current[0][4]):
            if current:
                epochs.append(current)
            current = []
            if sample_[3]:
                continue
        current.append(sample_)
    checked, convex = 0, 0
    for epoch in epochs[1:]:                          # the first follows slow start's overshoot
        start, w_max, cwnd0 = epoch[0][0], epoch[0][2], epoch[0][5]    # recovery ends at cwnd = ssthresh
        k = (max(0.0, w_max - cwnd0) / 0.4) ** (1 / 3)
        for t_ns, cwnd, *_ in epoch:
            t = (t_ns - start) / S
            # The epoch begins at the first ACK after the recovery: up to a round trip (at most 0.2 s
            # with the queue full) after the sample that saw the recovery end.
            lagged = max(0.0, t - 0.2)
            assert cwnd >= 0.4 * (lagged - k) ** 3 + w_max - 1, (t, cwnd, w_max, k)
            checked += 1
            convex += t > k + 0.5 and cwnd > w_max + 1
    assert len(epochs) >= 3 and checked >= 500 and convex >= 10, (len(epochs), checked, convex)
