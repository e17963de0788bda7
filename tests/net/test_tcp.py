"""TCP (dataplane/net/host/tcp.py, RFC 9293) between two hosts on one link; test names cite
shared/spec/rfc-behaviors.md: R30 (states, SYN and FIN take a sequence number, MSS, TIME-WAIT)
and R31 (resets for a closed port).

Segments are checked on the wire with a link observer, and crafted segments
are sent from a host with its IP layer (send_ipv4 / send_ipv6) when a test
needs one TCP would never send. Every run is deterministic: the link loss
and the initial sequence numbers come from seeded generators.
"""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from netlab import two_hosts
from dataplane.net.host.stack import IcmpNotice
from dataplane.net.host import congestion
from dataplane.net.host.tcp import (ECN_ECT0, MOD, RETRIES2_TIMEOUT_NS, RTO_MAX_NS, RTO_MIN_NS, TCP_DELACK_MIN_NS, STATES, Segment, TcpError, TcpStack,
                                    parse_segment, seq_diff, seq_le, seq_lt)
from dataplane.protocols import packets as P
from dataplane.runtime.trace import DropReason

S = 1_000_000_000
MS = 1_000_000
A4, B4 = P.ip4("10.0.0.1"), P.ip4("10.0.0.2")
A6, B6 = P.ip6("2001:db8::1"), P.ip6("2001:db8::2")
MSL_S = 1.0
DATA = bytes((i * 7 + i // 256) % 256 for i in range(100_000))


@dataclass
class Wire:
    sender: str
    v6: bool
    src: int
    dst: int
    seg: Segment
    time_ns: int

    @property
    def flags(self) -> str:
        return ",".join(f for f in ("syn", "fin", "rst", "ack") if f in self.seg.flags)


def watch(sim, link) -> list[Wire]:
    """Every TCP segment put on the link, in order."""
    seen: list[Wire] = []

    def observer(link, end, frame):
        etype, ip = int.from_bytes(frame[12:14], "big"), frame[14:]
        if etype == P.ETH_IPV4 and ip[9] == P.IP_TCP and len(ip) >= 40:
            ihl = (ip[0] & 0xF) * 4
            seen.append(Wire(end.node.name, False, int.from_bytes(ip[12:16], "big"),
                             int.from_bytes(ip[16:20], "big"), parse_segment(ip[ihl:]), sim.now_ns))
        elif etype == P.ETH_IPV6 and ip[6] == P.IP_TCP and len(ip) >= 60:
            seen.append(Wire(end.node.name, True, int.from_bytes(ip[8:24], "big"),
                             int.from_bytes(ip[24:40], "big"), parse_segment(ip[40:]), sim.now_ns))
    link.observers.append(observer)
    return seen


def lose(sim, link, predicate) -> list[bytes]:
    """Lose the frames for which predicate(sender, wire segment or None) is true, as a faulty link would."""
    lost: list[bytes] = []
    send = link.send

    def faulty(node, port, frame):
        etype, ip = int.from_bytes(frame[12:14], "big"), frame[14:]
        seg = None
        if etype == P.ETH_IPV4 and ip[9] == P.IP_TCP:
            seg = parse_segment(ip[(ip[0] & 0xF) * 4:])
        if predicate(node.name, seg):
            lost.append(frame)
            return
        send(node, port, frame)
    link.send = faulty
    return lost


def states(conn) -> list[str]:
    """The states a connection went through, from its history."""
    return [conn.history[0][1]] + [new for _, _, new in conn.history] if conn.history else [conn.state]


def tcp_pair(setup=None, **kw):
    """Two hosts with TCP, b listening on port 80; returns (sim, a, b, link, server connections).

    setup(conn), if given, is called for each connection the server accepts (before its SYN,ACK)."""
    sim, a, b, link = two_hosts(**kw)
    TcpStack(a, msl_s=MSL_S, seed=1)
    TcpStack(b, msl_s=MSL_S, seed=2)
    accepted = []

    def accept(conn):
        accepted.append(conn)
        if setup is not None:
            setup(conn)
    b.tcp.listen(80, accept)
    return sim, a, b, link, accepted


def connected(v6: bool = False, wscale: bool = True, timestamps: bool = True, **kw):
    """A connection from a to b:80, established; returns (sim, a, b, link, client, server)."""
    sim, a, b, link, accepted = tcp_pair(**kw)
    client = a.tcp.connect(B6 if v6 else B4, 80, v6=v6, wscale=wscale, timestamps=timestamps)
    sim.run(until_ns=sim.now_ns + 10 * MS)
    assert client.state == "ESTABLISHED" and accepted[0].state == "ESTABLISHED"
    return sim, a, b, link, client, accepted[0]


def raw_segment(seq, ack, flags, sport=40000, dport=80, data=b"", options=b"", v6=False, window=65535):
    src, dst = (A6, B6) if v6 else (A4, B4)
    return P.tcp(src, dst, sport, dport, seq, ack, flags, window=window, payload=data, options=options, v6=v6)


def send_raw(host, seg: bytes, v6: bool = False, dst: int | None = None):
    if v6:
        assert host.send_ipv6(dst or B6, P.IP_TCP, seg) is None
    else:
        assert host.send_ipv4(dst or B4, P.IP_TCP, seg) is None


def tcp_sink(host):
    """Let a host without TCP take TCP segments (replies to crafted segments) without answering them."""
    host.protocols[(False, P.IP_TCP)] = lambda pkt: host.deliver("test")
    host.protocols[(True, P.IP_TCP)] = lambda pkt: host.deliver("test")


def balanced(sim) -> bool:
    """Every frame that arrived was delivered or dropped with a reason, none by a catch-all."""
    return sim.ledger.unaccounted() == 0 and not any(d.reason == DropReason.PIPELINE_ERROR
                                                     for d in sim.ledger.drops)


# ---------------------------------------------------------------------------- sequence numbers


def test_sequence_number_comparisons_wrap_around():
    assert seq_lt(1, 2) and not seq_lt(2, 1) and not seq_lt(5, 5)
    assert seq_lt(MOD - 10, 5) and not seq_lt(5, MOD - 10)          # 5 is 15 past 2**32 - 10
    assert seq_le(7, 7) and seq_le(MOD - 1, 0)
    assert seq_diff(5, MOD - 10) == 15 and seq_diff(MOD - 10, 5) == -15


def test_transfer_across_the_sequence_number_wrap():
    sim, a, b, link, accepted = tcp_pair()
    a.tcp.initial_sequence_number = lambda *four_tuple: MOD - 5000
    client = a.tcp.connect(B4, 80)
    client.send(DATA[:20_000])
    sim.run()
    assert client.iss == MOD - 5000 and client.snd_una == (MOD - 5000 + 1 + 20_000) % MOD
    assert bytes(accepted[0].received) == DATA[:20_000]


# ---------------------------------------------------------------------------- R30: the handshake


def test_R30_three_way_handshake_states_on_both_sides():
    sim, a, b, link, accepted = tcp_pair()
    wire = watch(sim, link)
    client = a.tcp.connect(B4, 80)
    sim.run()
    server = accepted[0]
    assert states(client) == ["CLOSED", "SYN-SENT", "ESTABLISHED"]
    assert states(server) == ["LISTEN", "SYN-RECEIVED", "ESTABLISHED"]
    assert states(b.tcp.listeners[80]) == ["CLOSED", "LISTEN"] and b.tcp.listeners[80].state == "LISTEN"
    assert [(w.sender, w.flags) for w in wire] == [("a", "syn"), ("b", "syn,ack"), ("a", "ack")]
    syn, synack, ack = (w.seg for w in wire)
    # R30: the SYN takes one sequence number on each side.
    assert synack.ack == (syn.seq + 1) % MOD and ack.seq == (syn.seq + 1) % MOD
    assert ack.ack == (synack.seq + 1) % MOD
    assert client.snd_nxt == client.snd_una == (client.iss + 1) % MOD
    assert server.rcv_nxt == (client.iss + 1) % MOD and client.rcv_nxt == (server.iss + 1) % MOD
    # The MSS option rides on both SYNs: 1500 - 40.
    assert syn.mss == synack.mss == 1460 and ack.mss is None
    assert client.peer_mss == server.peer_mss == 1460
    # Every state change is in the host's log, in the documented format.
    assert (0, f"TCP 10.0.0.1:{client.lport} > 10.0.0.2:80 CLOSED -> SYN-SENT") in a.events
    assert any(t == f"TCP 10.0.0.2:80 > 10.0.0.1:{client.lport} SYN-RECEIVED -> ESTABLISHED" for _, t in b.events)
    assert balanced(sim)


def test_R30_initial_sequence_numbers_are_deterministic_and_seeded():
    def iss(seed):
        sim, a, b, link = two_hosts()
        TcpStack(b)
        return TcpStack(a, seed=seed).connect(B4, 80).iss
    assert iss(0) == iss(0)
    assert iss(0) != iss(1)


def test_R30_isn_follows_a_4_microsecond_clock():
    sim, a, b, link = two_hosts()
    stack = TcpStack(a)
    first = stack.initial_sequence_number(A4, 1000, B4, 80)
    sim.run(until_ns=4000 * 250)
    assert stack.initial_sequence_number(A4, 1000, B4, 80) == (first + 250) % MOD
    assert stack.initial_sequence_number(A4, 1001, B4, 80) != (first + 250) % MOD


def test_simultaneous_open_goes_through_syn_received():
    sim, a, b, link = two_hosts()
    TcpStack(a, seed=1)
    TcpStack(b, seed=2)
    ca = a.tcp.connect(B4, 6000, sport=5000)
    cb = b.tcp.connect(A4, 5000, sport=6000)
    sim.run()
    for conn in (ca, cb):
        assert states(conn) == ["CLOSED", "SYN-SENT", "SYN-RECEIVED", "ESTABLISHED"]
    ca.send(b"hello from a")
    cb.send(b"hello from b")
    sim.run()
    assert bytes(cb.received) == b"hello from a" and bytes(ca.received) == b"hello from b"


def test_lost_syn_ack_the_repeated_syn_gets_it_again():
    sim, a, b, link, accepted = tcp_pair()
    lost = lose(sim, link, lambda sender, seg: seg is not None and seg.flags >= {"syn", "ack"} and not lost)
    wire = watch(sim, link)
    client = a.tcp.connect(B4, 80)
    sim.run()
    assert len(lost) == 1
    server = accepted[0]
    assert states(server) == ["LISTEN", "SYN-RECEIVED", "ESTABLISHED"]
    # The client's SYN timer (RTO 1 s) sent the SYN again; the server answered it at once.
    syns = [w for w in wire if w.flags == "syn"]
    assert len(syns) == 2 and syns[1].time_ns == 1 * S and syns[0].seg.seq == syns[1].seg.seq
    assert client.history[-1] == (1 * S + 2000, "SYN-SENT", "ESTABLISHED")


def test_connect_to_a_port_without_listener_is_reset():
    sim, a, b, link, accepted = tcp_pair()
    client = a.tcp.connect(B4, 81)
    sim.run()
    assert states(client) == ["CLOSED", "SYN-SENT", "CLOSED"]
    assert client.error == "connection reset"
    assert (client.key not in a.tcp.connections) and not accepted


# ---------------------------------------------------------------------------- R30: MSS


def test_R30_100kB_arrive_intact_in_segments_of_the_mss():
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)
    client.send(DATA)
    sim.run()
    assert bytes(server.received) == DATA
    sizes = [len(w.seg.data) for w in wire if w.sender == "a" and w.seg.data]
    # The MSS option says 1460; each segment carries 12 bytes of timestamps (RFC 7323), as with Linux.
    assert sizes == [1448] * 69 + [88]             # 100000 = 69 * 1448 + 88
    assert all(w.seg.data == b"" for w in wire if w.sender == "b")
    assert client.retransmissions == 0 and sim.ledger.drops == [] and balanced(sim)


def test_the_congestion_window_starts_at_10_segments_and_never_passes_the_peers_window():
    """RFC 6928's initial window: the first flight is 10 full segments; slow start then grows it, but never
    beyond the 65535 bytes the peer offers (without window scaling)."""
    sim, a, b, link, client, server = connected(wscale=False)
    wire = watch(sim, link)
    client.send(DATA)
    sim.run()
    acked, worst, first_flight = wire[0].seg.seq, 0, None
    for w in wire:
        if w.sender == "b":
            if first_flight is None and w.seg.ack != acked:
                first_flight = worst
            acked = w.seg.ack
        else:
            worst = max(worst, seq_diff((w.seg.seq + len(w.seg.data)) % MOD, acked))
    assert first_flight == 10 * 1448
    assert 10 * 1448 < worst <= 65535


def test_the_peers_window_is_respected():
    sim, a, b, link, accepted = tcp_pair(setup=lambda conn: setattr(conn, "rcv_wnd", 3000))
    wire = watch(sim, link)
    client = a.tcp.connect(B4, 80)
    client.send(DATA[:30_000])
    sim.run()
    assert bytes(accepted[0].received) == DATA[:30_000]
    assert {w.seg.wnd for w in wire if w.sender == "b"} == {3000}
    acked, worst = 0, 0
    for w in wire:
        if w.sender == "b" and "ack" in w.seg.flags:
            acked = w.seg.ack
        elif w.sender == "a" and w.seg.data:
            worst = max(worst, seq_diff((w.seg.seq + len(w.seg.data)) % MOD, acked))
    # Two full segments fill the window; no runt for its last bytes while ACKs are due (RFC 9293 3.8.6.2.1).
    assert worst == 2 * 1448


def test_zero_window_is_probed_until_it_opens():
    sim, a, b, link, accepted = tcp_pair(setup=lambda conn: setattr(conn, "rcv_wnd", 0))
    wire = watch(sim, link)
    client = a.tcp.connect(B4, 80)
    client.send(b"x" * 5000)
    # The handshake's RTT sample (microseconds) makes RTO Linux's 200 ms minimum; it doubles after each probe:
    # probes at 0.2, 0.6, 1.4, 3.0, 6.2, 12.6 and 25.4 s, each answered, none accepted.
    sim.run(until_ns=40 * S)
    server = accepted[0]
    probes = [w for w in wire if w.sender == "a" and w.seg.data]
    assert [len(w.seg.data) for w in probes] == [1] * 7
    assert server.received == b"" and client.state == "ESTABLISHED"
    server.rcv_wnd = 65535                       # the application makes room; the next probe gets in
    sim.run()
    assert bytes(server.received) == b"x" * 5000 and client.state == "ESTABLISHED"


def test_R30_mss_from_a_small_mtu_link():
    sim, a, b, link, accepted = tcp_pair(mtu=576)
    wire = watch(sim, link)
    client = a.tcp.connect(B4, 80)
    client.send(DATA[:10_000])
    sim.run()
    assert wire[0].seg.mss == 536 == client.our_mss and client.effective_mss() == 524     # less the timestamps
    sizes = [len(w.seg.data) for w in wire if w.sender == "a" and w.seg.data]
    assert sizes == [524] * 19 + [44]
    assert bytes(accepted[0].received) == DATA[:10_000]
    assert sim.ledger.drops == []                # nothing exceeded the link MTU


@pytest.mark.parametrize("v6,default", [(False, 536), (True, 1220)])
def test_R30_default_mss_when_the_syn_has_no_option(v6, default):
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b)
    accepted = []
    b.tcp.listen(80, accepted.append)
    wire = watch(sim, link)
    send_raw(a, raw_segment(1000, 0, "syn", v6=v6), v6=v6)
    sim.run(until_ns=10 * MS)                    # a is a raw sender: b's timers would give up on it later
    server = accepted[0]
    assert server.peer_mss == default and server.effective_mss() == default
    assert wire[1].seg.mss == 1500 - (60 if v6 else 40)          # our own MSS is still announced
    send_raw(a, raw_segment(1001, (server.iss + 1) % MOD, "ack", v6=v6), v6=v6)
    sim.run(until_ns=20 * MS)
    server.send(DATA[:3000])
    sim.run(until_ns=30 * MS)
    assert [len(w.seg.data) for w in wire if w.sender == "b" and w.seg.data] == [default] * (3000 // default) \
        + [3000 % default]


def test_icmp_fragmentation_needed_resends_in_smaller_segments():
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)
    send = link.send
    refused = []

    def router(node, port, frame):
        # A router with a 1000-byte next hop: it refuses bigger packets with ICMP 3/4 (R16).
        ip = frame[14:]
        if node is a and len(ip) > 1000:
            refused.append(len(ip))
            sim.schedule(0, b.send_ipv4, A4, P.IP_ICMP, P.icmp(3, 4, 1000, ip[:28]))
            return
        send(node, port, frame)
    link.send = router
    client.send(DATA[:50_000])
    sim.run()
    assert bytes(server.received) == DATA[:50_000]
    assert a.pmtu4.mtu(B4, 1500) == 1000 and client.effective_mss() == 948     # 1000 - 40 - 12 (timestamps)
    # The first flight of ten 1448-byte segments was refused; it was sent again once, cut to 948 bytes.
    assert refused == [1500] * 10
    assert max(len(w.seg.data) for w in wire if w.sender == "a") == 948
    assert client.retransmissions == 16 == -(-10 * 1448 // 948)
    assert sum(1 for _, text in a.events if "resending what is in flight" in text) == 1


# ---------------------------------------------------------------------------- R30: closing


def test_R30_four_segment_close_then_time_wait_for_2_msl():
    sim, a, b, link, client, server = connected()
    client.send(DATA[:5000])
    sim.run()
    wire = watch(sim, link)
    client.close()
    sim.run(until_ns=sim.now_ns + 10 * MS)
    assert client.state == "FIN-WAIT-2" and server.state == "CLOSE-WAIT"
    server.close()
    sim.run()
    assert [(w.sender, w.flags) for w in wire] == [("a", "fin,ack"), ("b", "ack"), ("b", "fin,ack"), ("a", "ack")]
    fin_a, ack_b, fin_b, ack_a = (w.seg for w in wire)
    assert ack_b.ack == (fin_a.seq + 1) % MOD and ack_a.ack == (fin_b.seq + 1) % MOD      # R30: FIN takes one
    assert states(client)[-5:] == ["ESTABLISHED", "FIN-WAIT-1", "FIN-WAIT-2", "TIME-WAIT", "CLOSED"]
    assert states(server)[-4:] == ["ESTABLISHED", "CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    (t_wait, _, _), (t_closed, _, _) = client.history[-2:]
    assert t_closed - t_wait == 2 * MSL_S * S
    assert client.error is None and server.error is None
    assert a.tcp.connections == {} and b.tcp.connections == {} and balanced(sim)


def test_R30_time_wait_is_2_msl_with_the_default_msl_of_30_s():
    sim, a, b, link = two_hosts()
    TcpStack(a)
    TcpStack(b).listen(80, lambda conn: setattr(conn, "on_state",
                                                  lambda c, old, new: new == "CLOSE-WAIT" and c.close()))
    client = a.tcp.connect(B4, 80)
    client.on_state = lambda c, old, new: new == "ESTABLISHED" and c.close()
    sim.run()
    (t_wait, _, wait), (t_closed, _, closed) = client.history[-2:]
    assert (wait, closed) == ("TIME-WAIT", "CLOSED") and t_closed - t_wait == 60 * S


def test_R30_simultaneous_close_goes_through_closing():
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)
    client.close()
    server.close()
    sim.run()
    for conn in (client, server):
        assert states(conn)[-5:] == ["ESTABLISHED", "FIN-WAIT-1", "CLOSING", "TIME-WAIT", "CLOSED"]
        (t_wait, _, _), (t_closed, _, _) = conn.history[-2:]
        assert t_closed - t_wait == 2 * MSL_S * S
    assert sorted((w.sender, w.flags) for w in wire) == [("a", "ack"), ("a", "fin,ack"), ("b", "ack"),
                                                         ("b", "fin,ack")]


def test_close_waits_for_the_queued_data():
    sim, a, b, link, client, server = connected()
    client.send(DATA)
    client.close()
    assert client.state == "FIN-WAIT-1"
    wire = watch(sim, link)
    sim.run()
    assert bytes(server.received) == DATA and server.state == "CLOSE-WAIT"
    fins = [w for w in wire if "fin" in w.seg.flags]
    assert len(fins) == 1 and fins[0].seg.data == DATA[-88:]          # the FIN rides on the last segment
    with pytest.raises(TcpError, match="connection closing"):
        client.send(b"more")
    with pytest.raises(TcpError, match="connection closing"):
        client.close()


def test_time_wait_answers_a_repeated_fin_and_starts_again():
    sim, a, b, link, client, server = connected()
    client.close()
    sim.run(until_ns=sim.now_ns + 10 * MS)
    # Lose a's ACK of b's FIN: b sends its FIN again after its RTO (SRTT + 200 ms).
    lost = lose(sim, link, lambda sender, seg: sender == "a" and seg is not None and not lost)
    rto = server.rto_ns
    server.close()
    sim.run()
    assert len(lost) == 1
    assert states(server)[-3:] == ["CLOSE-WAIT", "LAST-ACK", "CLOSED"]
    (t_wait, _, _), (t_closed, _, _) = client.history[-2:]
    # The TIME-WAIT started again when the FIN came back, one RTO later.
    assert t_closed - t_wait == 2 * MSL_S * S + rto


def test_R30_all_eleven_states_are_reached():
    seen = set()
    # A client that closes first: FIN-WAIT-1, FIN-WAIT-2, TIME-WAIT; the server: CLOSE-WAIT, LAST-ACK.
    sim, a, b, link, client, server = connected()
    client.close()
    sim.run(until_ns=sim.now_ns + 10 * MS)
    server.close()
    sim.run()
    for c in (client, server, b.tcp.listeners[80]):
        seen |= set(states(c))
    # A simultaneous close: CLOSING.
    sim, a, b, link, client, server = connected()
    client.close()
    server.close()
    sim.run()
    seen |= set(states(client))
    assert seen == set(STATES) and len(STATES) == 11


# ---------------------------------------------------------------------------- R31: closed ports


def test_R31_syn_to_a_closed_port_gets_rst_ack_acknowledging_it():
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b)
    wire = watch(sim, link)
    send_raw(a, raw_segment(1000, 0, "syn"))
    sim.run()
    assert [(w.sender, w.flags) for w in wire] == [("a", "syn"), ("b", "rst,ack")]
    rst = wire[1].seg
    assert rst.seq == 0 and rst.ack == 1001 and rst.data == b""       # <SEQ=0><ACK=SEG.SEQ+SEG.LEN><RST,ACK>
    assert (rst.sport, rst.dport) == (80, 40000) and (wire[1].src, wire[1].dst) == (B4, A4)
    assert [d.reason for d in sim.ledger.drops] == [DropReason.NO_LISTENER]


def test_R31_ack_segment_to_a_closed_port_gets_rst_with_its_ack_as_seq():
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b)
    wire = watch(sim, link)
    send_raw(a, raw_segment(5555, 777_777, "ack", data=b"stale data"))
    sim.run()
    rst = wire[1].seg
    assert wire[1].flags == "rst" and rst.seq == 777_777 and "ack" not in rst.flags     # <SEQ=SEG.ACK><RST>


def test_R31_seg_len_counts_data_and_fin():
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b)
    wire = watch(sim, link)
    send_raw(a, raw_segment(1000, 0, "fin", data=b"0123456789"))
    sim.run()
    assert wire[1].flags == "rst,ack" and wire[1].seg.ack == 1011


@pytest.mark.parametrize("flags", ["rst", "rst,ack"])
def test_R31_a_rst_is_never_answered(flags):
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b)
    wire = watch(sim, link)
    send_raw(a, raw_segment(1000, 2000, flags))
    sim.run()
    assert [w.sender for w in wire] == ["a"]
    assert [d.reason for d in sim.ledger.drops] == [DropReason.NO_LISTENER]


def test_R31_over_ipv6():
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b)
    wire = watch(sim, link)
    send_raw(a, raw_segment(1000, 0, "syn", v6=True), v6=True)
    sim.run()
    assert wire[1].v6 and wire[1].flags == "rst,ack" and wire[1].seg.seq == 0 and wire[1].seg.ack == 1001


def test_a_listener_answers_an_ack_with_rst_and_ignores_a_rst():
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b).listen(80)
    wire = watch(sim, link)
    send_raw(a, raw_segment(1000, 4242, "ack"))
    send_raw(a, raw_segment(1000, 4242, "rst"))
    sim.run()
    assert [(w.sender, w.flags) for w in wire] == [("a", "ack"), ("a", "rst"), ("b", "rst")]
    assert wire[2].seg.seq == 4242
    assert b.tcp.connections == {} and b.tcp.listeners[80].state == "LISTEN"


# ---------------------------------------------------------------------------- checking arriving segments


def test_a_bad_checksum_is_dropped_without_reply():
    sim, a, b, link = two_hosts()
    tcp_sink(a)
    TcpStack(b).listen(80)
    wire = watch(sim, link)
    seg = bytearray(raw_segment(1000, 0, "syn"))
    seg[16] ^= 0xFF
    send_raw(a, bytes(seg))
    send_raw(a, b"\x00" * 12)                                 # shorter than a TCP header
    sim.run()
    assert len(wire) == 1 and b.tcp.connections == {}
    assert [d.reason for d in sim.ledger.drops] == [DropReason.BAD_CHECKSUM, DropReason.MALFORMED]
    assert balanced(sim)


def test_an_out_of_window_segment_gets_an_ack_and_is_not_taken():
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)
    far = (server.rcv_nxt + 100_000) % MOD
    send_raw(a, raw_segment(far, client.rcv_nxt, "ack", sport=client.lport, data=b"future"))
    old = (server.rcv_nxt - 10) % MOD
    send_raw(a, raw_segment(old, client.rcv_nxt, "ack", sport=client.lport, data=b"old"))
    sim.run()
    replies = [w.seg for w in wire if w.sender == "b"]
    assert len(replies) == 2                                  # <SEQ=SND.NXT><ACK=RCV.NXT><CTL=ACK>, twice
    assert all(r.flags == {"ack"} and r.seq == server.snd_nxt and r.ack == server.rcv_nxt for r in replies)
    assert server.received == b"" and server.state == client.state == "ESTABLISHED"


def test_text_that_straddles_rcv_nxt_is_trimmed_to_the_new_part():
    sim, a, b, link = two_hosts()
    tcp_sink(a)                                  # a speaks raw TCP, so it can send overlapping segments
    accepted = []
    TcpStack(b).listen(80, accepted.append)
    send_raw(a, raw_segment(1000, 0, "syn"))
    sim.run(until_ns=10 * MS)
    ack = (accepted[0].iss + 1) % MOD
    send_raw(a, raw_segment(1001, ack, "ack", data=b"hello"))
    send_raw(a, raw_segment(1001, ack, "ack", data=b"hello world"))
    send_raw(a, raw_segment(1001, ack, "ack", data=b"hello"))            # all old: only an ACK
    sim.run(until_ns=20 * MS)
    assert bytes(accepted[0].received) == b"hello world" and accepted[0].rcv_nxt == 1001 + 11


def test_rst_must_match_rcv_nxt_exactly_else_a_challenge_ack():
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)
    send_raw(a, raw_segment((server.rcv_nxt + 100) % MOD, 0, "rst", sport=client.lport))      # in the window
    send_raw(a, raw_segment((server.rcv_nxt + 100_000) % MOD, 0, "rst", sport=client.lport))  # outside it
    sim.run()
    assert [(w.sender, w.flags) for w in wire] == [("a", "rst"), ("a", "rst"), ("b", "ack")]
    assert server.state == "ESTABLISHED"
    assert [d.reason for d in sim.ledger.drops] == [DropReason.TRANSPORT_DISCARD]
    send_raw(a, raw_segment(server.rcv_nxt, 0, "rst", sport=client.lport))
    sim.run()
    assert server.state == "CLOSED" and server.error == "connection reset"
    assert states(server)[-2:] == ["ESTABLISHED", "CLOSED"]


def test_a_syn_on_an_established_connection_gets_a_challenge_ack():
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)
    send_raw(a, raw_segment(server.rcv_nxt, 0, "syn", sport=client.lport))
    sim.run()
    assert [(w.sender, w.flags) for w in wire] == [("a", "syn"), ("b", "ack")]
    assert server.state == "ESTABLISHED"


def test_abort_sends_rst_and_the_peer_is_reset():
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)
    client.abort()
    sim.run()
    assert [(w.sender, w.flags) for w in wire] == [("a", "rst")] and wire[0].seg.seq == client.snd_nxt
    assert client.state == server.state == "CLOSED"
    assert client.error == "connection aborted" and server.error == "connection reset"
    with pytest.raises(TcpError, match="does not exist"):
        client.send(b"x")


# ---------------------------------------------------------------------------- loss and retransmission


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_lossy_link_still_delivers_everything_intact(seed):
    def close_when_the_client_has(conn):
        conn.on_state = lambda c, old, new: new == "CLOSE-WAIT" and c.close()
    sim, a, b, link, accepted = tcp_pair(loss=0.05, seed=seed, setup=close_when_the_client_has)
    client = a.tcp.connect(B4, 80)
    client.send(DATA)
    client.on_state = lambda c, old, new: new == "ESTABLISHED" and c.close()
    sim.run()
    server = accepted[0]
    assert bytes(server.received) == DATA
    assert sim.ledger.link_drops > 0 and client.retransmissions > 0
    assert client.state == "CLOSED" and client.error is None
    assert server.state == "CLOSED"
    assert balanced(sim)


def test_a_lossy_link_in_both_directions_at_once():
    sim, a, b, link, accepted = tcp_pair(loss=0.05, seed=7, setup=lambda conn: conn.send(DATA[::-1]))
    client = a.tcp.connect(B4, 80)
    client.send(DATA)
    sim.run()
    assert bytes(accepted[0].received) == DATA and bytes(client.received) == DATA[::-1]


def test_retransmission_backs_off_then_gives_up_with_an_abort():
    """Linux's timers: RTO (here SRTT + 200 ms) doubles after each timeout up to 120 s; the connection gives
    up at the first timeout 924.6 s or more after the data was first sent (tcp_retries2 = 15)."""
    sim, a, b, link, client, server = connected()
    link.loss = 1.0
    t0 = sim.now_ns
    rto = client.rto_ns
    assert rto == client.srtt_ns + RTO_MIN_NS
    client.send(b"into the void")
    sim.run()
    expected, at, wait = [], 0, rto
    while at + wait < RETRIES2_TIMEOUT_NS:
        at += wait
        expected.append(at)
        wait = min(2 * wait, RTO_MAX_NS)
    timeouts = [t - t0 for t, text in a.events if "retransmission timeout" in text]
    assert timeouts == expected and len(expected) == 15
    assert client.retransmissions == 15
    assert client.state == "CLOSED" and client.error == "connection timed out"
    assert client.history[-1] == (t0 + at + wait, "ESTABLISHED", "CLOSED")
    assert RETRIES2_TIMEOUT_NS == 924_600_000_000 and at + wait >= RETRIES2_TIMEOUT_NS


def test_a_syn_is_sent_seven_times_in_127_seconds():
    sim, a, b, link = two_hosts()
    TcpStack(a)
    link.loss = 1.0
    client = a.tcp.connect(B4, 80)
    sim.run()
    assert client.retransmissions == 6 and client.error == "connection timed out"
    assert client.history[-1][0] == 127 * S


def test_rtt_estimator_follows_rfc_6298_with_linuxs_minimum():
    sim, a, b, link, client, server = connected()
    assert client.srtt_ns is not None and client.rto_ns == client.srtt_ns + RTO_MIN_NS   # tiny RTT: + 200 ms
    client.srtt_ns = None
    client._rtt_sample(3 * S)
    assert (client.srtt_ns, client.rttvar_ns, client.rto_ns) == (3 * S, 3 * S // 2, 9 * S)
    client._rtt_sample(1 * S)
    # RTTVAR = 3/4 * 1.5 + 1/4 * |3 - 1| = 1.625; SRTT = 7/8 * 3 + 1/8 * 1 = 2.75; RTO = 2.75 + 4 * 1.625
    assert (client.srtt_ns, client.rttvar_ns, client.rto_ns) == (2_750_000_000, 1_625_000_000, 9_250_000_000)
    client._rtt_sample(1000 * S)
    assert client.rto_ns == 120 * S                                      # at most TCP_RTO_MAX


def test_three_duplicate_acks_resend_at_once():
    sim, a, b, link, client, server = connected()
    # Lose the second data segment once: the next three segments each bring a duplicate ACK.
    count = []
    lost = lose(sim, link, lambda sender, seg: sender == "a" and seg is not None and seg.data
                and (count.append(1) or len(count) == 2))
    client.send(DATA[:10 * 1460])
    sim.run()
    assert len(lost) == 1 and bytes(server.received) == DATA[:10 * 1460]
    assert any("fast retransmit" in text for _, text in a.events)
    assert sim.now_ns < 1 * S                                            # no timeout was needed


# ---------------------------------------------------------------------------- IPv6


def test_ipv6_transfer_and_close():
    sim, a, b, link, client, server = connected(v6=True)
    wire = watch(sim, link)
    client.send(DATA)
    sim.run()
    assert bytes(server.received) == DATA
    assert client.our_mss == client.peer_mss == 1440 and client.effective_mss() == 1428
    sizes = [len(w.seg.data) for w in wire if w.sender == "a" and w.seg.data]
    assert sizes == [1428] * 70 + [40] and all(w.v6 for w in wire)
    assert (wire[0].src, wire[0].dst) == (A6, B6)
    client.close()
    server.close()
    sim.run()
    assert client.state == server.state == "CLOSED"
    assert any(text.startswith("TCP 2001:db8::1:") and "TIME-WAIT -> CLOSED" in text for _, text in a.events)


# ---------------------------------------------------------------------------- ICMP errors


def test_icmp_protocol_unreachable_aborts_syn_sent():
    sim, a, b, link = two_hosts()
    TcpStack(a)                                 # b has no TCP: it answers with ICMP 3/2 (R11)
    client = a.tcp.connect(B4, 80)
    sim.run()
    assert states(client) == ["CLOSED", "SYN-SENT", "CLOSED"]
    assert client.error.startswith("destination unreachable (ICMP 3/2")


def test_icmpv6_unrecognized_next_header_aborts_syn_sent():
    sim, a, b, link = two_hosts()
    TcpStack(a)
    client = a.tcp.connect(B6, 80, v6=True)
    sim.run()
    assert client.state == "CLOSED" and client.error.startswith("destination unreachable (ICMPv6 4/1")


def test_icmp_errors_are_soft_once_established_and_must_quote_a_sequence_in_flight():
    sim, a, b, link, client, server = connected()
    client.send(b"data in flight")                           # not yet acknowledged: the simulator is paused

    def notice(seq):
        quoted = P.ipv4(A4, B4, P.IP_TCP, raw_segment(seq, 0, "ack", sport=client.lport))[:28]
        return IcmpNotice(False, 3, 1, P.ip4("10.0.0.254"), 0, quoted, 64, sim.now_ns)
    a.tcp.icmp_arrives(notice((client.snd_una - 1000) % MOD))
    assert client.soft_error is None                          # RFC 5927: not in SND.UNA..SND.NXT
    a.tcp.icmp_arrives(notice(client.snd_una))
    assert client.state == "ESTABLISHED" and client.soft_error == "ICMP 3/1 from 10.0.0.254"
    sim.run()
    assert bytes(server.received) == b"data in flight"


# ---------------------------------------------------------------------------- user calls


def test_user_call_errors():
    sim, a, b, link, accepted = tcp_pair()
    with pytest.raises(TcpError, match="already listening"):
        b.tcp.listen(80)
    with pytest.raises(TcpError, match="no route"):
        a.tcp.connect(P.ip4("192.0.2.1"), 80)
    client = a.tcp.connect(B4, 80)
    client.close()                                           # in SYN-SENT: the TCB is simply deleted
    assert states(client) == ["CLOSED", "SYN-SENT", "CLOSED"]
    with pytest.raises(TcpError, match="does not exist"):
        client.close()


def test_a_closed_listener_answers_new_syns_with_rst():
    sim, a, b, link, accepted = tcp_pair()
    listener = b.tcp.listeners[80]
    listener.close()
    assert states(listener) == ["CLOSED", "LISTEN", "CLOSED"]
    client = a.tcp.connect(B4, 80)
    sim.run()
    assert client.error == "connection reset" and not accepted


def test_data_both_ways_with_callbacks():
    def shout_back(conn):                                            # an echo server that shouts
        conn.on_data = lambda c, data: c.send(data.upper())
    sim, a, b, link, accepted = tcp_pair(setup=shout_back)
    got = []
    client = a.tcp.connect(B4, 80)
    client.on_data = lambda c, data: got.append(data)
    client.send(b"hello, tcp")
    sim.run()
    assert b"".join(got) == b"HELLO, TCP" == bytes(client.received)



# ---------------------------------------------------------------------------- delayed ACKs, Nagle, Source Quench


def test_delayed_acks_as_linux_sends_them():
    """RFC 1122 4.2.3.2 as Linux does it: the first 16 data segments are acknowledged one by one (quick-ack
    mode), then one ACK for every second full-sized segment."""
    sim, a, b, link, client, server = connected()
    wire = watch(sim, link)
    client.send(DATA[:60 * 1448])
    sim.run()
    acks = [w for w in wire if w.sender == "b"]
    data = [w for w in wire if w.sender == "a" and w.seg.data]
    assert len(data) == 60 and bytes(server.received) == DATA[:60 * 1448]
    firsts = [w.seg.ack - acks[0].seg.ack for w in acks[:16]]
    assert firsts == [1448 * i for i in range(16)]                  # one ACK per segment
    later = [(b_.seg.ack - a_.seg.ack) // 1448 for a_, b_ in zip(acks[16:], acks[17:])]
    assert later and all(step == 2 for step in later[:-1])          # then one per two segments


def test_a_lone_segment_is_acknowledged_after_40_ms():
    sim, a, b, link, client, server = connected()
    client.send(DATA[:40 * 1460])                                  # past quick-ack mode
    sim.run()
    wire = watch(sim, link)
    t0 = sim.now_ns
    client.send(b"x" * 100)
    sim.run()
    [ack] = [w for w in wire if w.sender == "b"]
    data = [w for w in wire if w.sender == "a"]
    assert ack.time_ns - (data[0].time_ns + link.latency_ns) == TCP_DELACK_MIN_NS
    assert ack.time_ns - t0 < 50 * MS


def test_nagle_holds_a_small_segment_while_another_is_unacknowledged():
    """RFC 896 with Minshall's variant (Linux): the second small write waits for the first one's ACK."""
    def small_writes(nodelay: bool):
        sim, a, b, link, client, server = connected(latency_ns=2 * MS)
        client.send(DATA[:40 * 1460])
        sim.run()
        client.nodelay = nodelay
        wire = watch(sim, link)
        client.send(b"a" * 100)
        client.send(b"b" * 100)
        sim.run()
        return [(w.time_ns, len(w.seg.data)) for w in wire if w.sender == "a" and w.seg.data]
    with_nagle, without = small_writes(False), small_writes(True)
    assert [n for _, n in with_nagle] == [100, 100] and with_nagle[1][0] - with_nagle[0][0] >= 4 * MS
    assert [n for _, n in without] == [100, 100] and without[1][0] == without[0][0]


def test_icmp_source_quench_is_ignored_rfc_6633():
    sim, a, b, link, client, server = connected()
    client.send(b"data in flight")
    cwnd, ssthresh = client.cc.cwnd, client.cc.ssthresh
    quoted = P.ipv4(A4, B4, P.IP_TCP, raw_segment(client.snd_una, 0, "ack", sport=client.lport))[:28]
    a.tcp.icmp_arrives(IcmpNotice(False, 4, 0, P.ip4("10.0.0.254"), 0, quoted, 64, sim.now_ns))
    assert (client.cc.cwnd, client.cc.ssthresh, client.soft_error, client.state) == (cwnd, ssthresh, None,
                                                                                      "ESTABLISHED")
    sim.run()
    assert bytes(server.received) == b"data in flight"


# ---------------------------------------------------------------------------- ECN (RFC 3168)


def ecn_pair(accept: bool = True, mark=lambda i: False):
    """a connects to b:80 asking for ECN; `mark(i)` says whether a's i-th data frame is marked CE on the way."""
    from dataplane.protocols.checksums import internet_checksum
    sim, a, b, link, accepted = tcp_pair()
    b.tcp.ecn_accept = accept
    wire = watch(sim, link)
    original, count = link.send, [0]

    def send(node, port, frame, *args, **kw):
        if node is a and len(frame) > 54 and frame[12:14] == b"\x08\x00":
            count[0] += 1
            if mark(count[0]):
                f = bytearray(frame)
                f[15] |= 0b11                                       # CE
                f[24:26] = b"\0\0"
                f[24:26] = internet_checksum(bytes(f[14:34])).to_bytes(2, "big")
                frame = bytes(f)
        return original(node, port, frame, *args, **kw)
    link.send = send
    ect = []
    link.observers.append(lambda link_, end, frame: ect.append(
        (end.node.name, frame[15] & 3, len(frame) > 34 + (frame[46] >> 4) * 4))     # sender, ECN field, data?
        if frame[12:14] == b"\x08\x00" else None)
    client = a.tcp.connect(B4, 80, ecn=True)
    return sim, a, b, link, accepted, client, wire, ect


def test_ecn_is_negotiated_in_the_handshake_and_data_is_ect():
    sim, a, b, link, accepted, client, wire, ect = ecn_pair()
    client.send(DATA[:20_000])
    sim.run()
    syn, synack = wire[0], wire[1]
    assert {"syn", "ece", "cwr"} <= syn.seg.flags and {"syn", "ack", "ece"} <= synack.seg.flags
    assert "cwr" not in synack.seg.flags
    assert client.ecn and accepted[0].ecn
    data = [codepoint for node, codepoint, has_data in ect if has_data]
    pure_acks = [codepoint for node, codepoint, has_data in ect if node == "b" and not has_data]
    assert data and all(c == ECN_ECT0 for c in data)              # data segments are ECN-capable
    assert pure_acks and all(c == 0 for c in pure_acks)           # pure ACKs are not (RFC 3168 6.1.4)


def test_a_peer_that_does_not_accept_ecn_leaves_it_off():
    sim, a, b, link, accepted, client, wire, ect = ecn_pair(accept=False)
    client.send(DATA[:5000])
    sim.run()
    assert "ece" not in wire[1].seg.flags and not client.ecn and not accepted[0].ecn
    assert all(codepoint == 0 for _, codepoint, _ in ect)


def test_a_congestion_mark_is_echoed_until_cwr_and_halves_the_window_once():
    sim, a, b, link, accepted, client, wire, ect = ecn_pair(mark=lambda i: i in (30, 31, 32))
    client.send(DATA)
    sim.run()
    assert bytes(accepted[0].received) == DATA
    assert client.ecn_reductions == 1 and client.retransmissions == 0       # three marks in one window
    eces = [w for w in wire if w.sender == "b" and "ece" in w.seg.flags]
    cwrs = [w for w in wire if w.sender == "a" and "cwr" in w.seg.flags and "syn" not in w.seg.flags]
    assert eces and len(cwrs) == 1 and cwrs[0].seg.data
    # The receiver stops echoing once the CWR has arrived.
    assert all(w.time_ns <= cwrs[0].time_ns + link.latency_ns for w in eces)
    assert client.cc.ssthresh < congestion.INFINITE_SSTHRESH
