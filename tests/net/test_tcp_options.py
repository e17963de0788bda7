"""Window scaling and timestamps (RFC 7323) in TCP (dataplane/net/host/tcp.py, tcp_options.py, rcvbuf.py):
the options' layout, their negotiation with peers that send them and peers that do not, scaled windows in
both directions, a long flow that needs more than 64 KiB in flight, RTT samples from the echo, PAWS, the
TIME-WAIT rule of RFC 6191 and SYN cookies that keep what the SYN negotiated."""

from __future__ import annotations

import pytest

from netlab import two_hosts
from test_tcp import (A4, B4, DATA, MOD, MS, S, balanced, connected, lose, raw_segment, send_raw, tcp_pair, tcp_sink,
                      watch)
from dataplane.net.host import tcp_options as O
from dataplane.net.host.rcvbuf import TCP_RMEM_DEFAULT, TCP_RMEM_MAX, ReceiveBuffer
from dataplane.diagnostics import DiagnosticError
from dataplane.net.host.tcp import TcpStack, parse_segment
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.protocols import packets as P
from dataplane.runtime.trace import DropReason

DAY = 86400 * S


def ts_segment(seq, ack, flags, tsval, tsecr, **kw):
    return raw_segment(seq, ack, flags, options=O.timestamp_option(tsval, tsecr), **kw)


# ---------------------------------------------------------------------------- the options alone


def test_syn_options_in_linuxs_order():
    # MSS, NOP, NOP, TS, NOP, WS: what Linux sends with timestamps and without SACK (20 bytes).
    assert O.syn_options(1460, 7, (1000, 0)) == bytes.fromhex("020405b4 0101 080a000003e800000000 01 030307")
    # With SACK permitted, it takes the place of the two NOPs before TS (tshark's familiar layout).
    assert O.syn_options(1460, 7, (1000, 0), sack_permitted=True)[4:6] == b"\x04\x02"
    assert O.syn_options(1460, 7) == bytes.fromhex("020405b4 01030307")
    assert O.syn_options(1460) == bytes.fromhex("020405b4")
    assert O.timestamp_option(1, 2) == bytes.fromhex("0101 080a 00000001 00000002")


def test_parse_segment_reads_both_options():
    raw = P.tcp(A4, B4, 1, 2, 0, 0, "syn", options=O.syn_options(1460, 7, (123, 456)))
    seg = parse_segment(raw)
    assert (seg.mss, seg.wscale, seg.tsval, seg.tsecr) == (1460, 7, 123, 456)
    plain = parse_segment(P.tcp(A4, B4, 1, 2, 0, 0, "ack"))
    assert (plain.wscale, plain.tsval, plain.tsecr) == (None, None, None)


def test_window_shift_as_linux_chooses_it():
    assert O.window_shift(TCP_RMEM_MAX) == 7                  # tcp_rmem[2] = 6 MiB: "wscale 7"
    assert O.window_shift(65535) == 0 and O.window_shift(65536) == 1
    assert O.window_shift(1 << 40) == O.MAX_WSCALE


def test_scaled_windows_are_rounded_up_never_down():
    assert O.scaled_window(65536, 7) == 512
    assert O.scaled_window(3000, 7) == 24                     # 3072: the right edge is not pulled back
    assert O.scaled_window(1 << 30, 7) == 0xFFFF


def test_timestamps_compare_modulo_2_32():
    assert O.ts_before(1, 2) and not O.ts_before(2, 1)
    assert O.ts_before(0xFFFFFFF0, 5)                         # across the wrap
    assert O.ts_now(5 * MS + 999_999, 10) == 15               # one tick per millisecond, plus the offset


@pytest.mark.parametrize("wscale,sack,ecn", [(7, False, False), (None, True, True), (14, False, True),
                                             (0, True, False)])
def test_a_cookie_timestamp_keeps_what_the_syn_negotiated(wscale, sack, ecn):
    now = 123_456_789
    ts = O.cookie_ts_encode(now, wscale, sack, ecn)
    assert O.cookie_ts_decode(ts) == (wscale, sack, ecn)
    assert not O.ts_before(now, ts) and now - ts < 64         # never in the future, at most 64 ticks back


# ---------------------------------------------------------------------------- negotiation


def test_both_sides_offer_and_use_both_options():
    sim, a, b, link, accepted = tcp_pair()
    wire = watch(sim, link)
    client = a.tcp.connect(B4, 80)
    client.send(DATA[:20_000])
    sim.run()
    server = accepted[0]
    syn, synack, ack = (w.seg for w in wire[:3])
    assert syn.wscale == synack.wscale == 7 and ack.wscale is None
    assert syn.tsval is not None and syn.tsecr == 0           # TSecr is valid only with ACK (RFC 7323 3.2)
    assert synack.tsecr == syn.tsval and ack.tsecr == synack.tsval
    assert syn.wnd == synack.wnd == 65535                     # a SYN's window is never scaled
    for conn in (client, server):
        assert conn.wscale_ok and conn.ts_ok and conn.rcv_wscale == conn.snd_wscale == 7
    assert all(w.seg.tsval is not None for w in wire)         # every segment carries timestamps
    assert bytes(server.received) == DATA[:20_000] and balanced(sim)


def test_tsval_ticks_every_millisecond_from_a_seeded_offset():
    def first_tsval(seed):
        sim, a, b, link = two_hosts(latency_ns=10 * MS)
        TcpStack(a, seed=seed)
        TcpStack(b, seed=2).listen(80)
        wire = watch(sim, link)
        a.tcp.connect(B4, 80)
        sim.run(until_ns=100 * MS)
        syn, synack, ack = (w.seg for w in wire[:3])
        # The SYN waited 20 ms for ARP; its SYN,ACK came back 20 ms later.
        assert ack.tsval - syn.tsval == 40
        return syn.tsval
    assert first_tsval(1) == first_tsval(1) != first_tsval(3)


def test_a_peer_without_the_options_gets_none_and_65535_at_most():
    """A SYN with only an MSS option (crafted): the SYN,ACK has neither option, windows are not scaled, and
    segments carry the whole MSS."""
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b)
    accepted = []
    b.tcp.listen(80, accepted.append)
    wire = watch(sim, link)
    send_raw(a, raw_segment(1000, 0, "syn", options=P.tcp_mss_option(1460)))
    sim.run(until_ns=10 * MS)
    server = accepted[0]
    synack = wire[1].seg
    assert synack.wscale is None and synack.tsval is None and synack.wnd == 65535
    assert not server.wscale_ok and not server.ts_ok and server.effective_mss() == 1460
    send_raw(a, raw_segment(1001, (server.iss + 1) % MOD, "ack", window=1000))
    sim.run(until_ns=20 * MS)
    assert server.snd_wnd == 1000                             # taken as it is
    server.send(DATA[:3000])
    sim.run(until_ns=30 * MS)
    sent = [w.seg for w in wire if w.sender == "b" and w.seg.data]
    assert [len(s.data) for s in sent] == [1000] and all(s.tsval is None for s in sent)


def test_a_peer_with_window_scaling_only():
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b)
    accepted = []
    b.tcp.listen(80, accepted.append)
    wire = watch(sim, link)
    send_raw(a, raw_segment(1000, 0, "syn", options=O.syn_options(1460, 2)))
    sim.run(until_ns=10 * MS)
    server = accepted[0]
    assert wire[1].seg.wscale == 7 and wire[1].seg.tsval is None
    assert server.wscale_ok and not server.ts_ok and server.snd_wscale == 2
    send_raw(a, raw_segment(1001, (server.iss + 1) % MOD, "ack", window=1000))
    sim.run(until_ns=20 * MS)
    assert server.snd_wnd == 4000                             # SEG.WND << Snd.Wind.Shift (RFC 7323 2.3)


def test_a_shift_above_14_is_taken_as_14():
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b)
    accepted = []
    b.tcp.listen(80, accepted.append)
    send_raw(a, raw_segment(1000, 0, "syn", options=O.syn_options(1460, 15)))
    sim.run(until_ns=10 * MS)
    assert accepted[0].snd_wscale == 14
    assert any("window scale 15 is above 14" in text for _, text in b.events)


@pytest.mark.parametrize("wscale,timestamps", [(False, True), (True, False), (False, False)])
def test_connect_can_leave_either_option_out(wscale, timestamps):
    sim, a, b, link = two_hosts()
    TcpStack(a, seed=1)
    TcpStack(b, seed=2)
    accepted = []
    b.tcp.listen(80, accepted.append)
    wire = watch(sim, link)
    client = a.tcp.connect(B4, 80, wscale=wscale, timestamps=timestamps)
    client.send(DATA[:10_000])
    sim.run()
    syn, synack = wire[0].seg, wire[1].seg
    assert (syn.wscale is not None, syn.tsval is not None) == (wscale, timestamps)
    assert (synack.wscale is not None, synack.tsval is not None) == (wscale, timestamps)
    for conn in (client, accepted[0]):
        assert (conn.wscale_ok, conn.ts_ok) == (wscale, timestamps)
    assert max(len(w.seg.data) for w in wire) == (1448 if timestamps else 1460)
    if not wscale:
        assert all(w.seg.wnd <= 65535 for w in wire) and accepted[0].rcv_wnd == 65535


# ---------------------------------------------------------------------------- scaled windows


def test_windows_are_scaled_in_both_directions():
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)
    client.send(DATA)
    server.send(DATA)
    sim.run()
    assert bytes(server.received) == DATA and bytes(client.received) == DATA
    for sender, receiver in (("a", client), ("b", server)):
        fields = [w.seg.wnd for w in wire if w.sender == sender]
        assert all(f << 7 >= 65536 for f in fields)          # 512 << 7 = 64 KiB at first
        assert max(fields) == O.scaled_window(receiver.rcv_wnd, 7) and receiver.rcv_wnd > 65536   # autotuned
    assert client.snd_wnd == O.scaled_window(server.rcv_wnd, 7) << 7
    assert server.snd_wnd == O.scaled_window(client.rcv_wnd, 7) << 7


def test_a_smaller_window_never_pulls_back_the_right_edge():
    """RFC 7323 2.4 / RFC 9293 3.8.6: once advertised, the right edge stays; the application shrinking its
    window later only stops it from moving on (Linux's tcp_select_window), and text up to it is still
    taken."""
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)

    def right_edge() -> int:
        last = [w.seg for w in wire if w.sender == "b"][-1]
        return (last.ack + (last.wnd << 7)) % MOD
    client.send(b"x" * 100)
    sim.run()
    edge = right_edge()
    server.rcv_wnd = 1000
    client.send(b"y" * 100)
    sim.run()
    assert 0 <= (right_edge() - edge) % MOD < 128              # the old edge, rounded up to the scale's unit
    assert server._receive_window() == (right_edge() - server.rcv_nxt) % MOD > 1000


def test_a_fixed_small_window_is_advertised_without_scaling_loss():
    """The application fixes the window before the SYN,ACK: the shift follows it (Linux's SO_RCVBUF), so
    3000 bytes are said exactly."""
    sim, a, b, link, accepted = tcp_pair(setup=lambda conn: setattr(conn, "rcv_wnd", 3000))
    wire = watch(sim, link)
    client = a.tcp.connect(B4, 80)
    client.send(DATA[:10_000])
    sim.run()
    assert accepted[0].rcv_wscale == 0 and {w.seg.wnd for w in wire if w.sender == "b"} == {3000}


def test_the_receive_buffer_grows_as_linuxs_autotuning():
    buf = ReceiveBuffer()
    assert buf.window == TCP_RMEM_DEFAULT // 2
    buf.start(0, 65536, 1448)
    buf.rtt_from_timestamp(10 * MS)
    assert not buf.adjust(14_000, 5 * MS, 1448)              # less than a round trip since the start
    assert not buf.adjust(14_000, 10 * MS, 1448)             # no more than the first measure (10 segments)
    assert buf.adjust(14_000 + 40_000, 20 * MS, 1448)        # 40 kB in a round trip: grow
    window, first = 2 * 40_000 + 16 * 1448, 10 * 1448
    assert buf.size == 2 * (window + 2 * (window * (40_000 - first) // first))
    for i in range(3, 40):
        buf.adjust(i * 10_000_000, i * 10 * MS, 1448)
    assert buf.size == TCP_RMEM_MAX                          # up to tcp_rmem[2]
    locked = ReceiveBuffer()
    locked.lock(3000)
    locked.start(0, 3000, 1448)
    locked.rtt_from_timestamp(MS)
    assert not locked.adjust(10_000_000, 10 * MS, 1448) and locked.window == 3000


def test_the_window_rtt_measure_keeps_the_smallest_sample():
    buf = ReceiveBuffer()
    buf.rtt_from_window(1000, 500, 0)
    buf.rtt_from_window(1400, 500, 5 * MS)                   # the window is not filled yet
    assert buf.rtt_ns == 0
    buf.rtt_from_window(1500, 500, 30 * MS)
    buf.rtt_from_window(2000, 500, 50 * MS)
    assert buf.rtt_ns == 20 * MS


# ---------------------------------------------------------------------------- a long flow on a high-BDP path


def long_flow(wscale: bool, nbytes: int = 8_000_000):
    """nbytes over 50 Mbit/s with an 80 ms round trip (a bandwidth-delay product of 500 kB) and a deep queue
    (slow start's overshoot waits in it instead of being lost: without SACK, recovering from hundreds of
    losses in one window takes hundreds of round trips); returns (goodput in bit/s from the handshake to
    the last byte, the most bytes in flight, the receiver's window)."""
    sim, a, b, link = two_hosts(latency_ns=40 * MS, bandwidth_bps=50e6)
    link.queue_frames = 5000
    TcpStack(a, seed=1)
    TcpStack(b, seed=2)
    accepted, got = [], {"bytes": 0, "last_ns": 0}

    def take(conn, data):
        got["bytes"] += len(data)
        got["last_ns"] = sim.now_ns

    def accept(conn):
        accepted.append(conn)
        conn.keep_received, conn.on_data = False, take
    b.tcp.listen(80, accept)
    conn = a.tcp.connect(B4, 80, wscale=wscale)
    conn.send(bytes(nbytes))
    peak = [0]

    def sample():
        peak[0] = max(peak[0], conn._pipe())
        if got["bytes"] < nbytes:
            sim.schedule(5 * MS, sample)
    sim.schedule(5 * MS, sample)
    sim.run(until_ns=60 * S)
    assert got["bytes"] == nbytes
    established = conn.history[1][0]
    return nbytes * 8 / ((got["last_ns"] - established) / S), peak[0], accepted[0].rcv_wnd


def test_a_long_flow_on_a_high_bdp_path_needs_window_scaling():
    """Without window scaling the flight stops at the peer's 65535 bytes (6.5 Mbit/s at 80 ms); with it the
    receiver's buffer grows and the flow fills the 50 Mbit/s path."""
    scaled_bps, scaled_peak, scaled_wnd = long_flow(True)
    plain_bps, plain_peak, plain_wnd = long_flow(False)
    assert plain_peak <= 65535 and plain_wnd == 65535
    assert scaled_peak > 4 * 65536 and scaled_wnd > 500_000
    assert plain_bps < 7e6 and scaled_bps > 3 * plain_bps


# ---------------------------------------------------------------------------- RTT from timestamps (RFC 7323 4)


@pytest.mark.parametrize("timestamps", [True, False])
def test_the_ack_of_a_retransmitted_syn_is_timed_by_its_echo(timestamps):
    """Karn's rule leaves a retransmitted segment untimed, since its ACK may answer either sending; the echoed
    TSval says which one it answers (RFC 7323 4), so with timestamps the handshake still gives an RTT."""
    sim, a, b, link, accepted = tcp_pair(latency_ns=10 * MS)
    lost = lose(sim, link, lambda sender, seg: seg is not None and "syn" in seg.flags and sender == "a" and not lost)
    client = a.tcp.connect(B4, 80, timestamps=timestamps)
    sim.run(until_ns=2 * S)
    assert len(lost) == 1 and client.state == "ESTABLISHED" and client.retransmissions == 1
    if timestamps:
        assert 20 * MS <= client.srtt_ns <= 21 * MS              # 1 ms ticks
    else:
        assert client.srtt_ns is None


def test_the_ack_of_a_fast_retransmission_gives_an_rtt_sample():
    sim, a, b, link, accepted = tcp_pair(latency_ns=5 * MS)
    client = a.tcp.connect(B4, 80)
    sim.run()
    samples = []
    a.tcp.rtt_watchers.append(lambda conn, rtt: samples.append((sim.now_ns, rtt)))
    count = []
    lose(sim, link, lambda sender, seg: sender == "a" and seg is not None and seg.data
         and (count.append(1) or len(count) == 5))
    wire = watch(sim, link)
    client.send(DATA[:40 * 1448])
    sim.run()
    assert client.fast_retransmits == 1
    resent = [w for w in wire if w.sender == "a" and w.seg.data][-1].seg
    [acked_at] = [w.time_ns for w in wire if w.sender == "b" and w.seg.ack == (resent.seq + len(resent.data)) % MOD
                  and w.seg.tsecr == resent.tsval] or [None]
    assert acked_at is not None
    assert any(t == acked_at + 5 * MS and 10 * MS <= rtt <= 11 * MS for t, rtt in samples), samples


# ---------------------------------------------------------------------------- PAWS (RFC 7323 5)


def old_duplicate(client, tsval: int, data: bytes = b"old") -> bytes:
    return ts_segment(client.snd_nxt, client.rcv_nxt, "ack", tsval, 0, sport=client.lport, data=data)


def test_paws_drops_an_old_duplicate_and_answers_with_an_ack():
    sim, a, b, link, client, server = connected()
    client.send(b"hello")
    sim.run()
    wire = watch(sim, link)
    send_raw(a, old_duplicate(client, (server.ts_recent - 100) % MOD))
    sim.run()
    assert bytes(server.received) == b"hello" and b.tcp.stats["paws_rejected"] == 1
    [drop] = [d for d in sim.ledger.drops if d.reason is DropReason.PAWS_REJECTED]
    assert drop.node == "b" and "older than TS.Recent" in drop.detail
    assert [w.seg.flags for w in wire if w.sender == "b"] == [frozenset({"ack"})]
    # One tick older is still accepted (Linux's TCP_PAWS_WINDOW), and so is anything newer.
    send_raw(a, old_duplicate(client, (server.ts_recent - 1) % MOD, b"!"))
    sim.run()
    assert bytes(server.received) == b"hello!" and balanced(sim)


def test_after_24_idle_days_ts_recent_is_too_old_to_judge():
    sim, a, b, link, client, server = connected()
    sim.run(until_ns=sim.now_ns + 25 * DAY)
    old = (server.ts_recent - 100) % MOD
    tcp_sink(a)                      # a's clock is now 2**31 ticks on: its own answer would look old
    send_raw(a, old_duplicate(client, old))
    sim.run(until_ns=sim.now_ns + 10 * MS)
    assert bytes(server.received) == b"old" and server.ts_recent == old and b.tcp.stats["paws_rejected"] == 0


def server_in_time_wait():
    """A connection whose server closed first: the server is in TIME-WAIT, the client closed."""
    sim, a, b, link, client, server = connected()
    client.send(b"request")
    sim.run()
    server.close()
    sim.run(until_ns=sim.now_ns + 10 * MS)
    client.close()
    sim.run(until_ns=sim.now_ns + 10 * MS)
    assert server.state == "TIME-WAIT" and client.state == "CLOSED"
    tcp_sink(a)                      # a's TCP would reset the answers to crafted SYNs, ending TIME-WAIT
    return sim, a, b, client, server


def test_time_wait_takes_a_new_syn_with_a_newer_timestamp_whatever_its_sequence_number():
    """RFC 6191 2: with timestamps, a SYN reopens TIME-WAIT when its TSval is newer, even with a sequence
    number below RCV.NXT (which alone would keep TIME-WAIT, RFC 1122 4.2.2.13)."""
    sim, a, b, client, server = server_in_time_wait()
    options = O.syn_options(1460, 7, ((server.ts_recent + 5) % MOD, 0))
    send_raw(a, raw_segment((server.rcv_nxt - 1000) % MOD, 0, "syn", sport=client.lport, options=options))
    sim.run(until_ns=sim.now_ns + 10 * MS)
    assert b.tcp.stats["time_wait_reopened"] == 1 and server.state == "CLOSED"


def test_time_wait_answers_a_syn_with_an_older_timestamp_as_paws_says():
    sim, a, b, client, server = server_in_time_wait()
    options = O.syn_options(1460, 7, ((server.ts_recent - 5) % MOD, 0))
    send_raw(a, raw_segment((server.rcv_nxt + 1000) % MOD, 0, "syn", sport=client.lport, options=options))
    sim.run(until_ns=sim.now_ns + 10 * MS)
    assert b.tcp.stats["time_wait_reopened"] == 0 and server.state == "TIME-WAIT"
    assert b.tcp.stats["paws_rejected"] == 1


# ---------------------------------------------------------------------------- SYN cookies


@pytest.mark.parametrize("timestamps", [True, False])
def test_a_syn_cookie_connection_keeps_window_scaling_and_ecn_only_with_timestamps(timestamps):
    """Linux keeps the SYN's window scale and ECN wish in the cookie SYN,ACK's TSval (its low 6 bits); without
    timestamps a cookie connection has neither."""
    sim, a, b, link = two_hosts()
    TcpStack(a, seed=1)
    TcpStack(b, seed=2)
    accepted = []
    b.tcp.listen(80, accepted.append).syn_backlog = 0          # every SYN is answered with a cookie
    wire = watch(sim, link)
    client = a.tcp.connect(B4, 80, ecn=True, timestamps=timestamps)
    client.send(DATA)
    sim.run()
    server = accepted[0]
    assert b.tcp.listeners[80].stats["cookies_validated"] == 1
    synack = wire[1].seg
    assert (synack.wscale, synack.tsval is not None, "ece" in synack.flags) == \
        ((7, True, True) if timestamps else (None, False, False))
    assert (server.wscale_ok, server.ts_ok, server.ecn) == (timestamps,) * 3
    assert (client.wscale_ok, client.ts_ok, client.ecn) == (timestamps,) * 3
    if timestamps:
        assert server.snd_wscale == client.rcv_wscale == 7 and client.snd_wscale == server.rcv_wscale == 7
    assert bytes(server.received) == DATA and balanced(sim)


# ---------------------------------------------------------------------------- the topology's keys


TWO_HOSTS = """
name: pair
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links:
  - [h1:eth0, h2:eth0]
traffic:
  - {tcp: {from: h1, to: h2, bytes: 20000KEYS}}
"""


@pytest.mark.parametrize("keys,wscale,timestamps", [("", True, True), (", wscale: false", False, True),
                                                     (", timestamps: false", True, False)])
def test_a_tcp_traffic_item_can_turn_either_option_off(tmp_path, keys, wscale, timestamps):
    path = tmp_path / "pair.yaml"
    path.write_text(TWO_HOSTS.replace("KEYS", keys))
    net = Network(load_topology(str(path)))
    [app] = net.schedule_traffic()
    net.run()
    assert app.intact and (app.client.wscale_ok, app.client.ts_ok) == (wscale, timestamps)


def test_a_bad_value_for_wscale_is_located(tmp_path):
    path = tmp_path / "pair.yaml"
    path.write_text(TWO_HOSTS.replace("KEYS", ", wscale: 7"))
    with pytest.raises(DiagnosticError) as e:
        load_topology(str(path))
    assert "pair.yaml:9:" in str(e.value) and "'wscale' is true or false" in str(e.value)
