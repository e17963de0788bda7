"""SACK in a TCP connection (tcp.py with sack.py): negotiation in the handshake (RFC 2018 section 2), the
receiver's blocks on the wire (section 4, D-SACK of RFC 2883), and loss recovery with RFC 6675's
scoreboard compared with NewReno without SACK (RFC 6582) on the same losses."""

from __future__ import annotations

import pytest

from netlab import two_hosts
from test_tcp import A4, B4, MS, S, balanced, raw_segment, send_raw, tcp_sink, watch
from dataplane.diagnostics import DiagnosticError
from dataplane.net.host.sack import blocks_option
from dataplane.net.host.tcp import MOD, TcpStack
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.protocols import packets as P

MSS = 1448               # the data of a segment on a 1500-byte MTU beside the 12 bytes of timestamps (RFC 7323)


def transfer(sack: bool = True, lose=None, nbytes: int = 300_000, latency_ns: int = 10 * MS, peer_sack: bool = True,
             cc: str = "newreno", server_setup=None, timestamps: bool = True):
    """a sends nbytes to b:80 over one link and closes. `lose(i, seq)` drops the i-th data segment a puts on the
    wire (1-based; seq its sequence number). Returns (sim, link wire, client, server, data segments sent)."""
    sim, a, b, link = two_hosts(latency_ns=latency_ns)
    TcpStack(a).timestamps = timestamps
    TcpStack(b).sack = peer_sack
    got = bytearray()
    servers = []

    def accept(conn):
        servers.append(conn)
        conn.on_data = lambda c, d: got.extend(d)
        conn.keep_received = False
        if server_setup is not None:
            server_setup(conn)
    b.tcp.listen(80, on_accept=accept)
    wire = watch(sim, link)
    sent = []
    original = link.send

    def send(node, port, frame):
        ip = frame[14:]
        data_at = 14 + (ip[0] & 0xF) * 4 + (ip[(ip[0] & 0xF) * 4 + 12] >> 4) * 4
        if node is a and frame[12:14] == b"\x08\x00" and ip[9] == P.IP_TCP and len(frame) > data_at:
            seq = int.from_bytes(ip[(ip[0] & 0xF) * 4 + 4:(ip[0] & 0xF) * 4 + 8], "big")
            sent.append((seq, len(frame) - data_at))
            if lose is not None and lose(len(sent), seq):
                return
        original(node, port, frame)
    link.send = send
    conn = a.tcp.connect(B4, 80, cc=cc, sack=sack)
    data = bytes(i % 251 for i in range(nbytes))
    conn.send(data)
    conn.on_state = lambda c, old, new: c.close() if new == "ESTABLISHED" else None
    sim.run()
    assert bytes(got) == data and balanced(sim)
    return sim, wire, conn, servers[0], sent


def lose_once(indices):
    """Lose the data segments at these places of the wire order, once each (their retransmissions pass)."""
    return lambda i, seq: i in indices


def duration(conn) -> int:
    """From the SYN to the ACK of the client's FIN (everything it sent was acknowledged)."""
    return next(t for t, _, new in conn.history if new == "FIN-WAIT-2") - conn.history[0][0]


# ---------------------------------------------------------------------------- negotiation


def test_both_sides_permit_sack_in_the_handshake_and_use_it():
    sim, wire, client, server, _ = transfer(nbytes=10_000)
    syn, synack = wire[0].seg, wire[1].seg
    assert syn.flags == {"syn"} and syn.sack_permitted
    assert synack.flags == {"syn", "ack"} and synack.sack_permitted
    assert client.sack_ok and server.sack_ok
    assert not any(w.seg.sack_permitted for w in wire[2:])           # only on SYNs (RFC 2018 section 2)


def test_connect_without_sack_sends_no_permission_and_neither_side_uses_it():
    sim, wire, client, server, _ = transfer(sack=False, nbytes=10_000)
    assert not wire[0].seg.sack_permitted and not wire[1].seg.sack_permitted
    assert not client.sack_ok and not server.sack_ok


def test_a_peer_that_does_not_permit_sack_leaves_it_off():
    """The peer's tcp_sack = 0: our SYN asks, its SYN,ACK does not answer, so neither side sends blocks."""
    sim, wire, client, server, _ = transfer(peer_sack=False, lose=lose_once({20}), nbytes=100_000)
    assert wire[0].seg.sack_permitted and not wire[1].seg.sack_permitted
    assert not client.sack_ok and not server.sack_ok
    assert not any(w.seg.sack for w in wire)


def test_a_syn_cookie_connection_has_no_sack_without_timestamps():
    """Linux encodes SACK-permitted in a cookie only inside the timestamp; without timestamps the cookie's
    SYN,ACK does not offer SACK and the connection made from the cookie does not use it."""
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    accepted = []
    listener = TcpStack(b).listen(80, on_accept=accepted.append, backlog=1)
    send_raw(a, raw_segment(5000, 0, "syn", sport=1000))               # fills the SYN queue
    wire = watch(sim, link)
    options = P.tcp_mss_option(1460) + bytes([1, 1, 4, 2])
    send_raw(a, raw_segment(7000, 0, "syn", sport=2000, options=options))
    sim.run(until_ns=10 * MS)
    synack = wire[-1].seg
    assert synack.flags == {"syn", "ack"} and listener.stats["cookies_sent"] == 1
    assert not synack.sack_permitted
    send_raw(a, raw_segment(7001, (synack.seq + 1) % MOD, "ack", sport=2000))
    sim.run(until_ns=sim.now_ns + 10 * MS)
    conn = accepted[-1]
    assert conn.rport == 2000 and conn.state == "ESTABLISHED" and not conn.sack_ok


# ---------------------------------------------------------------------------- the receiver's blocks


def test_every_ack_reports_the_held_blocks_latest_first_at_most_four():
    """Lose segments 1, 3, 5, 7 and 9 (from 0) of the first flight: each ACK's first block holds the segment
    that just arrived, then the others most recent first; without timestamps four fit, so the oldest goes
    unreported once a fifth block exists (RFC 2018 section 4). As the holes are filled, the blocks the ACK
    passes go."""
    sim, wire, client, server, sent = transfer(lose=lose_once({2, 4, 6, 8, 10}), nbytes=20_000, timestamps=False)
    first = sent[0][0]

    def in_segments(seg):
        return seg_no(seg.ack), [(seg_no(left), seg_no(right)) for left, right in seg.sack]

    def seg_no(seq):
        return (seq - first) % MOD / 1460
    acks = [in_segments(w.seg) for w in wire if w.sender == "b" and w.seg.sack]
    assert acks[:6] == [(1, [(2, 3)]),
                        (1, [(4, 5), (2, 3)]),
                        (1, [(6, 7), (4, 5), (2, 3)]),
                        (1, [(8, 9), (6, 7), (4, 5), (2, 3)]),
                        (1, [(10, 11), (8, 9), (6, 7), (4, 5)]),
                        (1, [(10, 12), (8, 9), (6, 7), (4, 5)])]
    assert [(ack, len(blocks)) for ack, blocks in acks[-4:]] == [(3, 4), (5, 3), (7, 2), (9, 1)]
    assert client.fast_retransmits == 1 and client.timeouts == 0 and client.retransmitted_bytes == 5 * 1460


def test_beside_timestamps_three_blocks_fit():
    """The same losses with timestamps (on by default, as Linux): their 12 bytes leave room for three blocks."""
    sim, wire, client, server, sent = transfer(lose=lose_once({2, 4, 6, 8, 10}), nbytes=20_000)
    counts = [len(w.seg.sack) for w in wire if w.sender == "b" and w.seg.sack]
    assert max(counts) == 3 and counts[:4] == [1, 2, 3, 3]
    assert client.fast_retransmits == 1 and client.timeouts == 0 and client.retransmitted_bytes == 5 * MSS


def test_the_room_for_blocks_is_what_the_other_options_leave():
    """The option builder takes the room the segment's other options leave: 4 blocks alone, 3 beside the
    12 bytes of timestamps."""
    blocks = [(i * 2000, i * 2000 + 1000) for i in range(6)]
    assert len(blocks_option(blocks, 40)) == 36
    assert len(blocks_option(blocks, 40 - 12)) == 28


def test_a_duplicate_segment_is_reported_with_a_dsack_block():
    """RFC 2883: text the receiver already had comes back in the first block, below the ACK."""
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    accepted = []
    TcpStack(b).listen(80, on_accept=accepted.append)
    syn = P.tcp_mss_option(1460) + bytes([1, 1, 4, 2])
    send_raw(a, raw_segment(1000, 0, "syn", options=syn))
    wire = watch(sim, link)
    sim.run(until_ns=10 * MS)
    iss = wire[-1].seg.seq
    send_raw(a, raw_segment(1001, iss + 1, "ack"))
    send_raw(a, raw_segment(1001, iss + 1, "ack", data=b"x" * 100))
    send_raw(a, raw_segment(1001, iss + 1, "ack", data=b"x" * 100))     # again
    sim.run(until_ns=sim.now_ns + 10 * MS)
    assert accepted[0].sack_ok
    answer = wire[-1].seg
    assert answer.ack == 1101 and answer.sack == ((1001, 1101),)


def test_data_segments_that_carry_blocks_are_cut_to_fit_the_mtu():
    """Both sides send; a loses one of its segments, so b's data segments carry SACK blocks for a while:
    they are shorter by the option's bytes and every frame fits the 1500-byte MTU."""
    def setup(conn):
        conn.send(bytes(100_000))
        conn.close()
    sim, wire, client, server, sent = transfer(lose=lose_once({15}), nbytes=100_000, server_setup=setup)
    with_blocks = [w.seg for w in wire if w.sender == "b" and w.seg.sack and w.seg.data]
    assert with_blocks
    assert all(len(s.data) + 4 + 8 * len(s.sack) <= MSS for s in with_blocks)
    assert client.received[:10] == bytes(10) and len(client.received) == 100_000


# ---------------------------------------------------------------------------- loss recovery


def test_several_losses_in_one_window_are_repaired_in_one_recovery_sending_only_what_was_lost():
    """Five segments of one window lost: SACK sends those five again in one round trip, and nothing else;
    NewReno without SACK repairs one hole per round trip (RFC 6582's partial ACKs), so it takes longer."""
    losses = {30, 32, 34, 36, 38}
    # Without timestamps, so that both recoveries are RFC 6675 against RFC 6582 alone.
    _, _, with_sack, _, _ = transfer(lose=lose_once(losses), timestamps=False)
    _, _, without, _, _ = transfer(sack=False, lose=lose_once(losses), timestamps=False)
    assert (with_sack.fast_retransmits, with_sack.timeouts) == (1, 0)
    assert with_sack.retransmitted_bytes == 5 * 1460 and with_sack.retransmissions == 5
    assert without.timeouts == 0 and without.retransmitted_bytes == 5 * 1460
    assert duration(without) - duration(with_sack) >= 3 * 20 * MS          # three round trips or more


def test_reno_with_sack_also_repairs_every_hole_in_one_recovery():
    """Recovery with SACK is the same for every congestion control (as in Linux): Reno too."""
    _, _, conn, _, _ = transfer(cc="reno", lose=lose_once({30, 33}))
    assert (conn.fast_retransmits, conn.timeouts, conn.retransmitted_bytes) == (1, 0, 2 * MSS)


def test_after_a_timeout_only_unsacked_data_is_sent_again():
    """Five segments of a window lost, and the fast retransmission of the first lost again, so the timer
    fires: with SACK the scoreboard stays (RFC 6675 5.1, as Linux keeps it) and only that segment goes a
    third time; without SACK the timeout sends again, in slow start from SND.UNA, segments the peer has."""
    def lose(first, others):
        seen = {}

        def lose(i, seq):
            if i == first:
                seen["seq"] = seq
                return True
            if seq == seen.get("seq") and "again" not in seen:
                seen["again"] = True
                return True
            return i in others
        return lose
    _, _, with_sack, _, _ = transfer(lose=lose(30, {32, 34, 36, 38}))
    _, _, without, _, _ = transfer(sack=False, lose=lose(30, {32, 34, 36, 38}))
    assert with_sack.timeouts == 1 and without.timeouts == 1
    assert with_sack.retransmitted_bytes == 6 * MSS                 # 30 twice; 32, 34, 36, 38 once
    assert without.retransmitted_bytes >= 9 * MSS, without.retransmitted_bytes


def test_a_receiver_that_discards_sacked_data_is_tolerated():
    """Reneging (RFC 2018 section 8): b drops the out-of-order data it had SACKed. a's cumulative ACK then
    stops at SACKed data; the next timeout clears the scoreboard and everything is sent again, intact."""
    holds = []

    def setup(conn):
        hold = conn._hold

        def hold_then_renege(seq, data, fin):
            out = hold(seq, data, fin)
            holds.append(seq)
            if len(holds) == 5:
                conn._forget_out_of_order()                  # the receiver reneges on what it SACKed
            return out
        conn._hold = hold_then_renege
    sim, wire, client, server, _ = transfer(lose=lose_once({30}), server_setup=setup)
    assert client.timeouts >= 1
    assert any("discarded data it had SACKed: scoreboard cleared" in text for _, text in client.host.events)


# ---------------------------------------------------------------------------- through a lossy link


LOSSY = """
name: lossy
seed: SEED
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links:
  - {ends: [h1:eth0, h2:eth0], loss: 0.02, latency: 10ms, bandwidth: 100Mbps}
traffic:
  - {tcp: {from: h1, to: h2, bytes: 1000000, sack: SACK}}
"""


def lossy(tmp_path, seed: int, sack: bool):
    path = tmp_path / f"lossy-{seed}-{sack}.yaml"
    path.write_text(LOSSY.replace("SEED", str(seed)).replace("SACK", str(sack).lower()))
    net = Network(load_topology(str(path)))
    [app] = net.schedule_traffic()
    net.run()
    assert app.intact and app.client.sack_ok == sack
    server = app.peer_end()
    fct = next(t for t, _, new in server.history if new == "CLOSE-WAIT") - app.started_ns
    return fct, app.client


def test_sack_makes_a_lossy_transfer_faster_with_fewer_retransmissions_and_timeouts(tmp_path):
    """1 MB through a 20 ms path that loses 2% of the frames in each direction, three seeds: with SACK the
    transfers finish sooner, resend fewer bytes and time out no more often than NewReno's recovery alone."""
    runs = {sack: [lossy(tmp_path, seed, sack) for seed in (1, 2, 3)] for sack in (True, False)}
    time = {sack: sum(fct for fct, _ in r) for sack, r in runs.items()}
    resent = {sack: sum(c.retransmitted_bytes for _, c in r) for sack, r in runs.items()}
    rtos = {sack: sum(c.timeouts for _, c in r) for sack, r in runs.items()}
    assert time[True] < 0.85 * time[False], time
    assert resent[True] < resent[False] and rtos[True] <= rtos[False], (resent, rtos)


def test_sack_in_a_traffic_item_is_true_or_false(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(LOSSY.replace("SEED", "1").replace("SACK", "maybe"))
    with pytest.raises(DiagnosticError, match="'sack' is true or false"):
        load_topology(str(path))
