"""SCTP (dataplane/net/host/sctp.py, RFC 9260) between two hosts on one link; test names cite
shared/spec/rfc-behaviors.md: R32 (the four-way handshake, its tags, INIT rules, out-of-the-blue
packets) and R33 (the CRC32c, its byte order, silent discard of a bad one).

Packets are checked on the wire with a link observer and dissected with
dataplane.protocols.dissect; crafted packets are sent from a host's IP layer
(a host without an SCTP stack, whose SCTP input is a sink that records what
it gets). The CRC32c and its byte order are also checked against scapy's
independent implementation. Every run is deterministic.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import pytest

from netlab import two_hosts
from dataplane.net.host.sctp import (ABORT, COOKIE_ACK, COOKIE_ECHO, DATA, ERROR, FLAG_B, FLAG_E, FLAG_T,
                                     HEARTBEAT, HEARTBEAT_ACK, INIT, INIT_ACK, RTO_INITIAL, SACK, SHUTDOWN,
                                     SHUTDOWN_ACK, SHUTDOWN_COMPLETE, SctpError, SctpStack, StateCookie, init_chunk,
                                     parse_params, tsn_le, tsn_lt)
from dataplane.protocols import packets as P
from dataplane.protocols.dissect import dissect, find
from dataplane.runtime.hashing import crc32c
from dataplane.runtime.trace import DropReason

S = 1_000_000_000
MS = 1_000_000
A4, B4 = P.ip4("10.0.0.1"), P.ip4("10.0.0.2")
A6, B6 = P.ip6("2001:db8::1"), P.ip6("2001:db8::2")
PORT = 5000
_INIT_FIXED = struct.Struct("!IIHHI")


# ---------------------------------------------------------------------------- the wire


@dataclass
class Chunk:
    type: int
    flags: int
    value: bytes


@dataclass
class Wire:
    """One SCTP packet seen on the link."""
    sender: str
    time_ns: int
    v6: bool
    src: int
    dst: int
    sport: int
    dport: int
    vtag: int
    chunks: list[Chunk]
    ip: bytes                  # the IP packet, for scapy
    sctp: bytes                # the SCTP packet

    @property
    def types(self) -> list[int]:
        return [c.type for c in self.chunks]

    def chunk(self, type_: int) -> Chunk:
        return next(c for c in self.chunks if c.type == type_)


def parse_frame(frame: bytes, sender: str = "?", time_ns: int = 0) -> Wire | None:
    layers = dissect(frame)
    sctp = find(layers, "sctp")
    if sctp is None:
        return None
    ip = find(layers, "ipv4") or find(layers, "ipv6")
    v6 = ip.name == "ipv6"
    end = ip.offset + (40 + ip["payloadLen"] if v6 else ip["totalLen"])
    chunks = [Chunk(l["type"], l["flags"], frame[l.offset + 4:l.offset + l["length"]])
              for l in layers if l.name == "sctp chunk"]
    return Wire(sender, time_ns, v6, ip["srcAddr"], ip["dstAddr"], sctp["srcPort"], sctp["dstPort"],
                sctp["verificationTag"], chunks, frame[ip.offset:end], frame[sctp.offset:end])


def watch(sim, link) -> list[Wire]:
    """Every SCTP packet put on the link, in order."""
    seen: list[Wire] = []

    def observer(link, end, frame):
        w = parse_frame(frame, end.node.name, sim.now_ns)
        if w is not None:
            seen.append(w)
    link.observers.append(observer)
    return seen


def lose(link, predicate) -> list[Wire]:
    """Lose the SCTP packets for which predicate(wire) is true, as a faulty link would."""
    lost: list[Wire] = []
    send = link.send

    def faulty(node, port, frame):
        w = parse_frame(frame, node.name)
        if w is not None and predicate(w):
            lost.append(w)
            return
        send(node, port, frame)
    link.send = faulty
    return lost


def balanced(sim) -> bool:
    """Every frame that arrived was delivered or dropped with a reason, none by a catch-all."""
    return sim.ledger.unaccounted() == 0 and not any(d.reason == DropReason.PIPELINE_ERROR
                                                     for d in sim.ledger.drops)


def drops(sim, reason: DropReason, node: str = "b") -> list[str]:
    return [d.detail for d in sim.ledger.drops if d.reason == reason and d.node == node]


# ---------------------------------------------------------------------------- crafting packets


def sink(host) -> list[Wire]:
    """A host without SCTP that records the SCTP packets it receives (answers to crafted packets)."""
    got: list[Wire] = []

    def take(pkt):
        chunks, off = [], 12
        while off + 4 <= len(pkt.payload):
            t, f, length = struct.unpack_from("!BBH", pkt.payload, off)
            chunks.append(Chunk(t, f, pkt.payload[off + 4:off + length]))
            off += length + (-length % 4)
        sport, dport, vtag = struct.unpack_from("!HHI", pkt.payload)
        got.append(Wire(host.name, host.sim.now_ns, pkt.v6, pkt.src, pkt.dst, sport, dport, vtag, chunks,
                        pkt.datagram, pkt.payload))
        host.deliver("test")
    host.protocols[(False, P.IP_SCTP)] = take
    host.protocols[(True, P.IP_SCTP)] = take
    return got


def send_raw(host, packet: bytes, v6: bool = False, dst: int | None = None) -> None:
    if v6:
        assert host.send_ipv6(dst or B6, P.IP_SCTP, packet) is None
    else:
        assert host.send_ipv4(dst or B4, P.IP_SCTP, packet) is None


def raw_init(tag: int, tsn: int = 1000, os_: int = 4, mis: int = 4, a_rwnd: int = 65536) -> bytes:
    return init_chunk(INIT, tag, a_rwnd, os_, mis, tsn)


def raw_data(tsn: int, data: bytes, sid: int = 0, ssn: int = 0, flags: int = FLAG_B | FLAG_E) -> bytes:
    return P.sctp_chunk(DATA, flags, struct.pack("!IHHI", tsn, sid, ssn, 0) + data)


def cookie_of(init_ack: Chunk) -> bytes:
    return next(v for t, v in parse_params(init_ack.value[_INIT_FIXED.size:]) if t == 7)


def init_fields(c: Chunk) -> dict:
    tag, a_rwnd, os_, mis, tsn = _INIT_FIXED.unpack_from(c.value)
    return dict(tag=tag, a_rwnd=a_rwnd, os=os_, mis=mis, tsn=tsn)


def data_fields(c: Chunk) -> dict:
    tsn, sid, ssn, ppid = struct.unpack_from("!IHHI", c.value)
    return dict(tsn=tsn, sid=sid, ssn=ssn, ppid=ppid, data=c.value[12:], flags=c.flags)


def sack_fields(c: Chunk) -> dict:
    cum, a_rwnd, ngaps, ndups = struct.unpack_from("!IIHH", c.value)
    gaps = [struct.unpack_from("!HH", c.value, 12 + 4 * i) for i in range(ngaps)]
    return dict(cum=cum, a_rwnd=a_rwnd, gaps=gaps, ndups=ndups)


# ---------------------------------------------------------------------------- associations


def pair(v6: bool = False, **kw):
    """Two hosts with SCTP; b listens on PORT. Returns sim, a, b, link, wire, client stack, server stack, accepted."""
    sim, a, b, link = two_hosts(**kw)
    wire = watch(sim, link)
    sa, sb = SctpStack(a, seed=1), SctpStack(b, seed=1)
    accepted = []
    sb.listen(PORT, accepted.append)
    return sim, a, b, link, wire, sa, sb, accepted


def established(v6: bool = False, **kw):
    sim, a, b, link, wire, sa, sb, accepted = pair(v6, **kw)
    client = sa.associate(B6 if v6 else B4, PORT, v6=v6)
    sim.run(until_ns=sim.now_ns + 10 * MS)
    assert client.state == "ESTABLISHED" and accepted and accepted[0].state == "ESTABLISHED"
    return sim, a, b, link, wire, client, accepted[0]


def per_stream(messages, stream):
    return [m for s, m in messages if s == stream]


# ---------------------------------------------------------------------------- R33: CRC32c


def test_R33_crc32c_check_value_and_low_byte_first_on_the_wire():
    assert crc32c(b"123456789") == 0xE3069283
    packet = P.sctp(5000, 5001, 0x01020304, [P.sctp_chunk(COOKIE_ACK, 0, b"")])
    zeroed = packet[:8] + bytes(4) + packet[12:]
    assert packet[8:12] == crc32c(zeroed).to_bytes(4, "little")       # low byte first
    value = 0x9519E6F3
    assert value.to_bytes(4, "little") == bytes.fromhex("f3e61995")   # R33's example of the byte order


@pytest.mark.parametrize("v6", [False, True])
def test_R33_every_packet_on_the_wire_passes_scapys_checksum(v6):
    from scapy.layers.inet import IP              # scapy.layers, not scapy.all: a third of the import time
    from scapy.layers.inet6 import IPv6
    from scapy.layers.sctp import SCTP
    from scapy.packet import Padding
    sim, a, b, link, wire, client, server = established(v6=v6)
    client.send(b"x" * 3000, stream=1)
    client.shutdown()
    sim.run()
    assert {t for w in wire for t in w.types} >= {INIT, INIT_ACK, COOKIE_ECHO, COOKIE_ACK, DATA, SACK, SHUTDOWN,
                                                  SHUTDOWN_ACK, SHUTDOWN_COMPLETE}
    from scapy.layers.sctp import crc32c
    for w in wire:
        pkt = (IPv6 if v6 else IP)(w.ip)
        # scapy reads the field as a big-endian number and stores its CRC byte-swapped: the same bytes.
        assert pkt[SCTP].chksum == int.from_bytes(w.sctp[8:12], "big")
        # The CRC covers the whole packet, chunk padding included (scapy's own rebuild leaves out the padding
        # it splits off as a Padding layer, so its crc32c is applied to the bytes directly).
        assert crc32c(w.sctp[:8] + bytes(4) + w.sctp[12:]) == pkt[SCTP].chksum
        if Padding not in pkt:
            pkt[SCTP].chksum = None                        # let scapy compute it again
            assert bytes(pkt) == w.ip
    assert balanced(sim)


def test_R33_an_init_built_by_scapy_is_answered():
    from scapy.layers.inet import IP
    from scapy.layers.sctp import SCTP, SCTPChunkInit
    sim, a, b, link, wire, sa, sb, accepted = pair()
    got = sink(a)
    scapy_init = bytes(IP(src="10.0.0.1", dst="10.0.0.2") / SCTP(sport=40000, dport=PORT, tag=0) /
                       SCTPChunkInit(init_tag=0x11223344, a_rwnd=65536, n_out_streams=2, n_in_streams=2,
                                     init_tsn=7))
    send_raw(a, scapy_init[20:])
    sim.run()
    assert [w.types for w in got] == [[INIT_ACK]]
    assert got[0].vtag == 0x11223344
    assert balanced(sim)


def test_R33_a_bad_crc_is_silently_discarded():
    sim, a, b, link, wire, sa, sb, accepted = pair()
    got = sink(a)
    packet = bytearray(P.sctp(40000, PORT, 0, [raw_init(0x11223344)]))
    packet[8] ^= 0x01
    send_raw(a, bytes(packet))
    sim.run()
    assert got == [] and [w.sender for w in wire] == ["a"]               # no answer at all
    assert drops(sim, DropReason.BAD_CHECKSUM) == ["SCTP CRC32c"]
    assert sb.associations == {}
    assert balanced(sim)


def test_R33_a_corrupted_data_packet_is_discarded_then_retransmitted():
    sim, a, b, link, wire, client, server = established()
    send = link.send
    corrupted = []

    def corrupt_first_data(node, port, frame):
        w = parse_frame(frame)
        if w is not None and DATA in w.types and not corrupted:
            frame = bytearray(frame)
            frame[-1] ^= 0xFF                  # in the user data: the IPv4 header checksum does not see it
            corrupted.append(sim.now_ns)
            frame = bytes(frame)
        send(node, port, frame)
    link.send = corrupt_first_data
    client.send(b"hello, world")
    sim.run()
    assert server.received == [(0, b"hello, world")]
    assert drops(sim, DropReason.BAD_CHECKSUM) == ["SCTP CRC32c"]
    data = [w for w in wire if DATA in w.types]
    assert len(data) == 2 and data[1].time_ns - data[0].time_ns == RTO_INITIAL      # T3-rtx after 1 s
    assert balanced(sim)


# ---------------------------------------------------------------------------- R32: the handshake


def test_R32_four_way_handshake_with_the_tags_of_rfc_9260():
    sim, a, b, link, wire, sa, sb, accepted = pair()
    state_at_init_ack = []
    link.observers.append(lambda l, end, frame: state_at_init_ack.append(dict(sb.associations))
                          if (w := parse_frame(frame)) and w.types == [INIT_ACK] else None)
    client = sa.associate(B4, PORT)
    sim.run()
    assert [(w.sender, w.types) for w in wire] == [("a", [INIT]), ("b", [INIT_ACK]), ("a", [COOKIE_ECHO]),
                                                   ("b", [COOKIE_ACK])]
    init, init_ack, echo, ack = wire
    tag_a = init_fields(init.chunks[0])["tag"]
    tag_z = init_fields(init_ack.chunks[0])["tag"]
    assert init.vtag == 0 and tag_a != 0                  # INIT: verification tag 0, Initiate Tag A != 0
    assert init_ack.vtag == tag_a and tag_z not in (0, tag_a)
    assert echo.vtag == tag_z and ack.vtag == tag_a
    assert echo.chunks[0].value == cookie_of(init_ack.chunks[0])      # the cookie comes back unchanged
    assert len(cookie_of(init_ack.chunks[0])) == StateCookie._LAYOUT.size + StateCookie.MAC_LEN
    assert (client.my_tag, client.peer_tag) == (tag_a, tag_z)
    server = accepted[0]
    assert (server.my_tag, server.peer_tag) == (tag_z, tag_a)
    assert state_at_init_ack == [{}]                       # no state on the server until the COOKIE ECHO
    assert [(o, n) for _, o, n in client.history] == [("CLOSED", "COOKIE-WAIT"), ("COOKIE-WAIT", "COOKIE-ECHOED"),
                                                      ("COOKIE-ECHOED", "ESTABLISHED")]
    assert [(o, n) for _, o, n in server.history] == [("CLOSED", "ESTABLISHED")]
    assert any(t.startswith("SCTP 10.0.0.1:") and t.endswith("CLOSED -> COOKIE-WAIT") for _, t in a.events)
    assert any(t.endswith("CLOSED -> ESTABLISHED") for _, t in b.events)
    assert balanced(sim)


def test_R32_tags_and_tsns_come_from_the_seeded_generator():
    def tags(seed):
        sim, a, b, link = two_hosts()
        stack = SctpStack(a, seed=seed)
        assoc = stack.associate(B4, PORT, sport=40000)
        return assoc.my_tag, assoc.my_initial_tsn
    assert tags(3) == tags(3)
    assert tags(3) != tags(4)
    assert all(tags(s)[0] != 0 for s in range(20))


def test_R32_an_init_with_initiate_tag_0_is_silently_discarded():
    sim, a, b, link, wire, sa, sb, accepted = pair()
    got = sink(a)
    send_raw(a, P.sctp(40000, PORT, 0, [raw_init(tag=0)]))
    sim.run()
    assert got == []                                       # RFC 9260: no ABORT (RFC 4960 sent one)
    assert drops(sim, DropReason.MALFORMED) == ["SCTP INIT with Initiate Tag 0 (RFC 9260: silently discarded)"]
    send_raw(a, P.sctp(40000, PORT, 0, [raw_init(tag=7)]))
    sim.run()
    assert [(w.types, w.vtag) for w in got] == [([INIT_ACK], 7)]
    assert sb.associations == {} and balanced(sim)


def test_R32_init_is_never_bundled_and_a_bundled_one_is_discarded():
    # On the wire: INIT alone, also when it is retransmitted and when data is already queued.
    sim, a, b, link, wire, sa, sb, accepted = pair()
    lost = lose(link, lambda w: w.types == [INIT] and len(lost) < 2)
    client = sa.associate(B4, PORT)
    client.send(b"queued before the handshake")
    sim.run()
    inits = lost + [w for w in wire if INIT in w.types]
    assert len(inits) == 3 and all(w.types == [INIT] and w.vtag == 0 for w in inits)
    assert accepted[0].received == [(0, b"queued before the handshake")]
    # Received: an INIT bundled with another chunk, or with a nonzero verification tag, is discarded.
    sim, a, b, link, wire, sa, sb, accepted = pair()
    got = sink(a)
    send_raw(a, P.sctp(40000, PORT, 0, [raw_init(0x1234), raw_data(1000, b"x")]))
    send_raw(a, P.sctp(40000, PORT, 0, [raw_init(0x1234), P.sctp_chunk(COOKIE_ACK, 0, b"")]))
    send_raw(a, P.sctp(40000, PORT, 0x1234, [raw_init(0x1234)]))
    sim.run()
    assert got == [] and sb.associations == {}
    assert len(drops(sim, DropReason.MALFORMED)) == 3
    assert balanced(sim)


def _init_ack_for(a, sim, got, tag=0x0A0A0A0A, sport=40000):
    send_raw(a, P.sctp(sport, PORT, 0, [raw_init(tag)]))
    sim.run()
    init_ack = got.pop()
    assert init_ack.types == [INIT_ACK] and init_ack.vtag == tag
    return init_ack, init_fields(init_ack.chunks[0])["tag"], cookie_of(init_ack.chunks[0])


def test_R32_a_tampered_cookie_is_rejected_and_the_server_stays_stateless():
    sim, a, b, link, wire, sa, sb, accepted = pair()
    got = sink(a)
    _, tag_z, cookie = _init_ack_for(a, sim, got)
    assert sb.associations == {}                           # the INIT left no trace
    tampered = []
    for i in (0, 16, 20, 60, len(cookie) - 1):             # time, tags, TSN, addresses, the MAC itself
        c = bytearray(cookie)
        c[i] ^= 0x01
        tampered.append(bytes(c))
    tampered.append(cookie[:-1])
    other = SctpStack(two_hosts()[2], seed=1, secret=b"another secret")      # a cookie signed elsewhere
    tampered.append(StateCookie.open(sb.secret, cookie).sign(other.secret))
    for c in tampered:
        send_raw(a, P.sctp(40000, PORT, tag_z, [P.sctp_chunk(COOKIE_ECHO, 0, c)]))
    sim.run()
    assert got == [] and sb.associations == {} and accepted == []
    assert drops(sim, DropReason.BAD_CHECKSUM) == ["SCTP State Cookie does not authenticate"] * len(tampered)
    # The genuine cookie with the wrong verification tag, or from another port, is not accepted either.
    send_raw(a, P.sctp(40000, PORT, tag_z ^ 1, [P.sctp_chunk(COOKIE_ECHO, 0, cookie)]))
    send_raw(a, P.sctp(40001, PORT, tag_z, [P.sctp_chunk(COOKIE_ECHO, 0, cookie)]))
    sim.run()
    assert got == [] and sb.associations == {}
    # The genuine one builds the association.
    send_raw(a, P.sctp(40000, PORT, tag_z, [P.sctp_chunk(COOKIE_ECHO, 0, cookie)]))
    sim.run()
    assert [(w.types, w.vtag) for w in got] == [([COOKIE_ACK], 0x0A0A0A0A)]
    assert len(accepted) == 1 and accepted[0].state == "ESTABLISHED" and accepted[0].peer_tag == 0x0A0A0A0A
    assert balanced(sim)


def test_R32_a_stale_cookie_gets_an_error_and_the_client_asks_for_more_time():
    sim, a, b, link = two_hosts(latency_ns=1 * MS)
    wire = watch(sim, link)
    sa, sb = SctpStack(a, seed=1), SctpStack(b, seed=1, cookie_life_ns=1 * MS)    # shorter than a round trip
    accepted = []
    sb.listen(PORT, accepted.append)
    client = sa.associate(B4, PORT)
    sim.run()
    assert [w.types for w in wire] == [[INIT], [INIT_ACK], [COOKIE_ECHO], [ERROR], [INIT], [INIT_ACK],
                                       [COOKIE_ECHO], [COOKIE_ACK]]
    causes = parse_params(wire[3].chunks[0].value)
    assert causes[0][0] == 3 and struct.unpack("!I", causes[0][1])[0] > 0            # Stale Cookie, in us
    assert wire[3].vtag == client.my_tag
    retry = dict(parse_params(wire[4].chunks[0].value[_INIT_FIXED.size:]))
    assert 9 in retry                                      # Cookie Preservative
    assert client.state == "ESTABLISHED" and accepted[0].state == "ESTABLISHED"
    assert [n for _, _, n in client.history] == ["COOKIE-WAIT", "COOKIE-ECHOED", "COOKIE-WAIT", "COOKIE-ECHOED",
                                                 "ESTABLISHED"]
    assert balanced(sim)


def test_R32_a_lost_cookie_ack_is_repeated_for_the_repeated_cookie_echo():
    sim, a, b, link, wire, sa, sb, accepted = pair()
    lost = lose(link, lambda w: w.types == [COOKIE_ACK] and not lost)
    client = sa.associate(B4, PORT)
    sim.run()
    assert len(lost) == 1
    echoes = [w for w in wire if w.types == [COOKIE_ECHO]]
    assert len(echoes) == 2 and echoes[1].time_ns - echoes[0].time_ns == RTO_INITIAL      # T1-cookie
    assert client.state == "ESTABLISHED" and len(accepted) == 1 and len(sb.associations) == 1
    assert [(o, n) for _, o, n in accepted[0].history] == [("CLOSED", "ESTABLISHED")]       # case D
    assert balanced(sim)


def test_simultaneous_open_gives_one_association_on_each_side():
    sim, a, b, link = two_hosts()
    wire = watch(sim, link)
    sa, sb = SctpStack(a, seed=1), SctpStack(b, seed=1)
    x = sa.associate(B4, 7000, sport=7000)
    y = sb.associate(A4, 7000, sport=7000)
    sim.run()
    assert x.state == y.state == "ESTABLISHED"
    assert (x.my_tag, x.peer_tag) == (y.peer_tag, y.my_tag)
    assert len(sa.associations) == len(sb.associations) == 1
    x.send(b"ping")
    y.send(b"pong")
    sim.run()
    assert y.received == [(0, b"ping")] and x.received == [(0, b"pong")]
    assert all(w.types != [INIT] or w.vtag == 0 for w in wire)
    assert balanced(sim)


def test_a_restarted_peer_is_recognised_by_the_tie_tags():
    sim, a, b, link, wire, client, server = established()
    old_tags = (server.my_tag, server.peer_tag)
    for name in list(client._timers):                      # host a reboots: its SCTP state is gone
        client._stop_timer(name)
    restarted = SctpStack(a, seed=2).associate(B4, PORT, sport=client.lport)
    sim.run()
    assert restarted.state == "ESTABLISHED"
    assert server.state == "ESTABLISHED" and server.peer_tag == restarted.my_tag
    assert (server.my_tag, server.peer_tag) != old_tags
    assert any("the peer restarted" in t for _, t in b.events)
    restarted.send(b"after the restart")
    sim.run()
    assert server.received == [(0, b"after the restart")]
    assert balanced(sim)


def test_init_to_a_port_without_listener_gets_abort_with_its_initiate_tag():
    sim, a, b, link, wire, sa, sb, accepted = pair()
    client = sa.associate(B4, 9999)
    sim.run()
    assert [w.types for w in wire] == [[INIT], [ABORT]]
    abort = wire[1]
    assert abort.vtag == client.my_tag and abort.chunks[0].flags & FLAG_T == 0       # section 8.4 step 3
    assert client.state == "CLOSED" and client.error.startswith("aborted by the peer")
    assert drops(sim, DropReason.NO_LISTENER) == ["SCTP port 9999"]
    assert balanced(sim)


def test_a_host_without_sctp_answers_protocol_unreachable_and_the_association_ends():
    sim, a, b, link = two_hosts()
    client = SctpStack(a, seed=1).associate(B4, PORT)
    sim.run()
    assert client.state == "CLOSED" and client.error == "ICMP protocol unreachable from 10.0.0.2"
    assert sim.now_ns < MS                                 # at once, not after 8 INIT retransmissions


# ---------------------------------------------------------------------------- data transfer


def test_messages_on_two_streams_are_delivered_in_order_with_sacks():
    sim, a, b, link, wire, client, server = established()
    sent = [(i % 2, f"message {i}".encode()) for i in range(10)]
    for stream, m in sent:
        client.send(m, stream=stream, ppid=stream + 40)
    sim.run()
    assert per_stream(server.received, 0) == per_stream(sent, 0)
    assert per_stream(server.received, 1) == per_stream(sent, 1)
    data = [data_fields(c) for w in wire for c in w.chunks if c.type == DATA]
    assert [d["data"] for d in data] == [m for _, m in sent]
    assert [d["tsn"] for d in data] == [(client.my_initial_tsn + i) & 0xFFFFFFFF for i in range(10)]
    assert [d["ssn"] for d in data if d["sid"] == 1] == [0, 1, 2, 3, 4]
    assert all(d["flags"] & (FLAG_B | FLAG_E) == FLAG_B | FLAG_E for d in data)
    assert {d["ppid"] for d in data} == {40, 41}
    sacks = [sack_fields(w.chunk(SACK)) for w in wire if SACK in w.types]
    assert sacks and sacks[-1]["cum"] == data[-1]["tsn"] and sacks[-1]["gaps"] == []
    assert all(w.vtag == client.peer_tag for w in wire if w.sender == "a" and DATA in w.types)
    assert client.outstanding == {} and not client.queue
    assert balanced(sim)


def test_delayed_sack_every_second_packet_or_after_200_ms():
    sim, a, b, link, wire, client, server = established()
    t0 = sim.now_ns
    for i in range(5):                                     # five packets of one DATA chunk each, 10 ms apart
        sim.at(t0 + i * 10 * MS, client.send, b"m%d" % i)
    sim.run()
    events = [("D" if DATA in w.types else "S", w.time_ns - t0) for w in wire if w.time_ns >= t0]
    assert [e for e, _ in events] == ["D", "D", "S", "D", "D", "S", "D", "S"]
    last_data, last_sack = events[-2][1], events[-1][1]
    assert last_sack - last_data == 200 * MS + link.latency_ns      # the fifth waited for the timer
    assert balanced(sim)


def test_a_large_message_is_fragmented_to_the_mtu_and_reassembled():
    for mtu in (1500, 576):
        sim, a, b, link, wire, client, server = established(mtu=mtu)
        message = bytes(i % 251 for i in range(10_000))
        client.send(message, stream=3)
        sim.run()
        assert server.received == [(3, message)]
        per_chunk = (mtu - 20 - 12 - 16) & ~3
        pieces = [data_fields(c) for w in wire for c in w.chunks if c.type == DATA]
        assert len(pieces) == -(-len(message) // per_chunk)
        assert [p["flags"] for p in pieces] == [FLAG_B] + [0] * (len(pieces) - 2) + [FLAG_E]
        assert {p["ssn"] for p in pieces} == {0} and {p["sid"] for p in pieces} == {3}
        assert [p["tsn"] - pieces[0]["tsn"] for p in pieces] == list(range(len(pieces)))
        assert b"".join(p["data"] for p in pieces) == message
        for w in wire:                                     # no IP fragmentation: SCTP cut the message itself
            assert len(w.ip) <= mtu and struct.unpack_from("!H", w.ip, 6)[0] & 0x3FFF == 0
        assert balanced(sim)


def test_a_lost_message_holds_up_only_its_own_stream():
    sim, a, b, link, wire, client, server = established()
    lost = lose(link, lambda w: DATA in w.types and data_fields(w.chunk(DATA))["data"] == b"first on 0"
                and not lost)
    client.send(b"first on 0", stream=0)
    sim.run(until_ns=sim.now_ns + 5 * MS)
    client.send(b"second on 0", stream=0)
    client.send(b"first on 1", stream=1)
    sim.run()
    assert len(lost) == 1
    assert server.received == [(1, b"first on 1"), (0, b"first on 0"), (0, b"second on 0")]
    gap_sacks = [sack_fields(w.chunk(SACK)) for w in wire if SACK in w.types and sack_fields(w.chunk(SACK))["gaps"]]
    # Each later packet is acknowledged at once, with a gap block: the lost TSN (cum + 1) is missing.
    assert [g["gaps"] for g in gap_sacks] == [[(2, 2)], [(2, 3)]]
    assert {g["cum"] for g in gap_sacks} == {(data_fields(lost[0].chunks[0])["tsn"] - 1) & 0xFFFFFFFF}
    assert balanced(sim)


def test_t3_rtx_retransmits_after_1_s_then_doubles():
    sim, a, b, link, wire, client, server = established()
    lost = lose(link, lambda w: DATA in w.types and len(lost) < 3)
    t0 = sim.now_ns
    client.send(b"persistent")
    sim.run()
    times = [w.time_ns - t0 for w in wire if DATA in w.types]
    assert times == [7 * S] and len(lost) == 3            # sent at 0, then after RTO 1 s, 2 s, 4 s
    assert [t for t, text in a.events if "T3-rtx expired" in text] == [t0 + 1 * S, t0 + 3 * S, t0 + 7 * S]
    assert server.received == [(0, b"persistent")]
    assert client.retransmissions == 3
    assert client.rto == 8 * S                             # backed off, until an RTT is measured again
    assert balanced(sim)


def test_fast_retransmit_after_three_miss_indications():
    sim, a, b, link, wire, client, server = established()
    target = []
    lose(link, lambda w: DATA in w.types and data_fields(w.chunks[0])["data"].startswith(b"1:")
         and not target and not target.append(w))
    t0 = sim.now_ns
    for i in range(12):
        client.send(f"{i}:".encode() + b"z" * 1200)
    sim.run()
    assert [m.split(b":")[0] for _, m in server.received] == [str(i).encode() for i in range(12)]
    resent = [w for w in wire if DATA in w.types and data_fields(w.chunks[0])["data"].startswith(b"1:")]
    assert len(resent) == 1 and resent[0].time_ns - t0 < 100 * MS           # long before the 1 s T3-rtx
    assert any("fast retransmit" in t for _, t in a.events)
    assert balanced(sim)


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_lossy_link_still_delivers_everything_in_order(seed):
    sim, a, b, link = two_hosts(loss=0.05, seed=seed)
    sa, sb = SctpStack(a, seed=seed), SctpStack(b, seed=seed)
    accepted = []
    sb.listen(PORT, accepted.append)
    client = sa.associate(B4, PORT)
    sent = [(i % 3, bytes([i]) * (1 + (i * 397) % 4000)) for i in range(100)]
    for stream, m in sent:
        client.send(m, stream=stream)
    client.shutdown()
    sim.run()
    server = accepted[0]
    for stream in range(3):
        assert per_stream(server.received, stream) == per_stream(sent, stream)
    assert client.state == server.state == "CLOSED" and client.error is None and server.error is None
    assert client.retransmissions > 0
    assert sim.ledger.drops_by_reason().get("link_loss", 0) > 0
    assert balanced(sim)


def test_transfer_across_the_tsn_wrap():
    assert tsn_lt(0xFFFFFFFF, 0) and tsn_le(0xFFFFFFFE, 1) and not tsn_lt(5, 0xFFFFFFF0)
    sim, a, b, link, wire, sa, sb, accepted = pair()
    sa.new_tsn = lambda: 0xFFFFFFFD
    client = sa.associate(B4, PORT)
    message = bytes(range(256)) * 30
    client.send(message)
    sim.run()
    tsns = [data_fields(c)["tsn"] for w in wire for c in w.chunks if c.type == DATA]
    assert tsns[:4] == [0xFFFFFFFD, 0xFFFFFFFE, 0xFFFFFFFF, 0]
    assert accepted[0].received == [(0, message)] and client.outstanding == {}
    assert balanced(sim)


def test_invalid_sends_are_refused():
    sim, a, b, link, wire, client, server = established()
    with pytest.raises(SctpError):
        client.send(b"")
    with pytest.raises(SctpError):
        client.send(b"x", stream=16)                      # 16 streams were negotiated: 0..15
    client.abort()
    with pytest.raises(SctpError):
        client.send(b"x")


# ---------------------------------------------------------------------------- closing


@pytest.mark.parametrize("closer", ["client", "server"])
def test_R32_shutdown_sequence_after_all_data_is_acknowledged(closer):
    sim, a, b, link, wire, client, server = established()
    first, second = (client, server) if closer == "client" else (server, client)
    t0 = sim.now_ns
    first.send(b"q" * 6000)
    first.shutdown()                                       # data first, then the SHUTDOWN
    sim.run()
    assert second.received == [(0, b"q" * 6000)]
    tail = [w for w in wire if w.time_ns >= t0 and not set(w.types) <= {DATA, SACK}]
    assert [w.types for w in tail] == [[SHUTDOWN], [SHUTDOWN_ACK], [SHUTDOWN_COMPLETE]]
    shut, shut_ack, complete = tail
    assert shut.vtag == first.peer_tag and shut_ack.vtag == second.peer_tag and complete.vtag == first.peer_tag
    assert complete.chunks[0].flags & FLAG_T == 0
    assert struct.unpack("!I", shut.chunks[0].value)[0] == (second.my_initial_tsn - 1) & 0xFFFFFFFF
    last_data_acked = max(w.time_ns for w in wire if SACK in w.types)
    assert shut.time_ns >= last_data_acked
    assert [n for _, _, n in first.history][-3:] == ["SHUTDOWN-PENDING", "SHUTDOWN-SENT", "CLOSED"]
    assert [n for _, _, n in second.history][-3:] == ["SHUTDOWN-RECEIVED", "SHUTDOWN-ACK-SENT", "CLOSED"]
    assert first.error is None and second.error is None
    assert a.sctp.associations == {} and b.sctp.associations == {}
    assert balanced(sim)


def test_shutdown_before_the_handshake_completes_waits_for_it():
    sim, a, b, link, wire, sa, sb, accepted = pair()
    client = sa.associate(B4, PORT)
    client.send(b"one and done")
    client.shutdown()
    sim.run()
    assert accepted[0].received == [(0, b"one and done")]
    assert client.state == accepted[0].state == "CLOSED" and client.error is None
    assert balanced(sim)


def test_a_lost_shutdown_complete_is_answered_out_of_the_blue():
    sim, a, b, link, wire, client, server = established()
    lost = lose(link, lambda w: w.types == [SHUTDOWN_COMPLETE] and not lost)
    client.shutdown()
    sim.run()
    tail = [(w.sender, w.types, w.chunks[0].flags) for w in wire if w.types[0] in (SHUTDOWN_ACK, SHUTDOWN_COMPLETE)]
    # The server repeats SHUTDOWN ACK; the client, already CLOSED, answers it with SHUTDOWN COMPLETE, T=1.
    assert [(w.types, w.chunks[0].flags) for w in lost] == [([SHUTDOWN_COMPLETE], 0)]
    assert tail == [("b", [SHUTDOWN_ACK], 0), ("b", [SHUTDOWN_ACK], 0), ("a", [SHUTDOWN_COMPLETE], FLAG_T)]
    assert server.state == "CLOSED" and server.error is None
    assert balanced(sim)


def test_abort_closes_both_ends_at_once():
    sim, a, b, link, wire, client, server = established()
    client.send(b"x" * 20_000)                             # data in flight is dropped with the association
    client.abort()
    sim.run()
    abort = next(w for w in wire if ABORT in w.types)
    assert abort.vtag == client.peer_tag and abort.chunk(ABORT).flags & FLAG_T == 0
    assert parse_params(abort.chunk(ABORT).value)[0][0] == 12       # User-Initiated Abort
    assert client.state == server.state == "CLOSED"
    assert server.error == "aborted by the peer (cause 12)" and client.error is None
    assert a.sctp.associations == {} and b.sctp.associations == {}
    assert balanced(sim)


def test_an_abort_with_the_wrong_tag_is_ignored_and_the_t_bit_rules_hold():
    sim, a, b, link, wire, client, server = established()
    sport = client.lport
    send_raw(a, P.sctp(sport, PORT, 0xDEADBEEF, [P.sctp_chunk(ABORT, 0, b"")]))                # not the tag
    send_raw(a, P.sctp(sport, PORT, server.my_tag, [P.sctp_chunk(ABORT, FLAG_T, b"")]))         # T=1: not it
    sim.run()
    assert server.state == "ESTABLISHED"
    assert len(drops(sim, DropReason.NOT_FOR_US)) == 2
    send_raw(a, P.sctp(sport, PORT, server.peer_tag, [P.sctp_chunk(ABORT, FLAG_T, b"")]))       # reflected
    sim.run()
    assert server.state == "CLOSED"
    assert balanced(sim)


# ---------------------------------------------------------------------------- verification tags, OOTB


def test_a_packet_with_the_wrong_verification_tag_is_silently_discarded():
    sim, a, b, link, wire, client, server = established()
    n = len(wire)
    send_raw(a, P.sctp(client.lport, PORT, server.my_tag ^ 0x5A5A, [raw_data(client.next_tsn, b"forged")]))
    sim.run()
    assert server.received == [] and len(wire) == n + 1                # no SACK, no ABORT
    assert drops(sim, DropReason.NOT_FOR_US) == [f"SCTP verification tag 0x{server.my_tag ^ 0x5A5A:08x} is "
                                                 f"not this association's"]
    assert balanced(sim)


def test_R32_out_of_the_blue_data_gets_abort_with_the_t_bit_and_its_own_tag():
    sim, a, b, link, wire, sa, sb, accepted = pair()
    got = sink(a)
    send_raw(a, P.sctp(40000, PORT, 0x12345678, [raw_data(1, b"who are you?")]))
    sim.run()
    assert len(got) == 1
    abort = got[0]
    assert abort.types == [ABORT] and abort.vtag == 0x12345678 and abort.chunks[0].flags & FLAG_T
    assert (abort.sport, abort.dport) == (PORT, 40000) and (abort.src, abort.dst) == (B4, A4)
    assert drops(sim, DropReason.NO_LISTENER) == ["SCTP out of the blue DATA (answered with ABORT)"]
    assert balanced(sim)


@pytest.mark.parametrize("chunk, answer", [
    (P.sctp_chunk(ABORT, 0, b""), None),
    (P.sctp_chunk(ABORT, FLAG_T, b""), None),
    (P.sctp_chunk(SHUTDOWN_COMPLETE, 0, b""), None),
    (P.sctp_chunk(COOKIE_ACK, 0, b""), None),
    (P.sctp_chunk(ERROR, 0, P.sctp_param(3, bytes(4))), None),          # Stale Cookie
    (P.sctp_chunk(SHUTDOWN_ACK, 0, b""), SHUTDOWN_COMPLETE),
    (P.sctp_chunk(SACK, 0, struct.pack("!IIHH", 5, 65536, 0, 0)), ABORT),
    (P.sctp_chunk(HEARTBEAT, 0, P.sctp_param(1, b"info")), ABORT),
    (P.sctp_chunk(SHUTDOWN, 0, struct.pack("!I", 5)), ABORT),
])
def test_R32_out_of_the_blue_rules_of_section_8_4(chunk, answer):
    sim, a, b, link, wire, sa, sb, accepted = pair()
    got = sink(a)
    send_raw(a, P.sctp(40000, PORT, 0xCAFEF00D, [chunk]))
    sim.run()
    if answer is None:
        assert got == []
    else:
        assert [w.types for w in got] == [[answer]]
        assert got[0].vtag == 0xCAFEF00D and got[0].chunks[0].flags == FLAG_T            # reflected, T=1
    assert len(drops(sim, DropReason.NO_LISTENER)) == 1 and balanced(sim)


def test_ootb_over_ipv6_and_a_multicast_destination_is_not_answered():
    sim, a, b, link, wire, sa, sb, accepted = pair()
    got = sink(a)
    send_raw(a, P.sctp(40000, PORT, 0x0BADC0DE, [raw_data(1, b"v6")]), v6=True)
    send_raw(a, P.sctp(40000, PORT, 0x0BADC0DE, [raw_data(1, b"all")]), v6=True, dst=P.ip6("ff02::1"))
    sim.run()
    assert [(w.types, w.vtag, w.v6) for w in got] == [([ABORT], 0x0BADC0DE, True)]
    assert len(drops(sim, DropReason.NO_LISTENER)) == 2 and balanced(sim)


# ---------------------------------------------------------------------------- other chunks


def test_heartbeat_is_answered_with_its_information():
    sim, a, b, link, wire, client, server = established()
    info = P.sctp_param(1, b"sender-specific info")
    send_raw(a, P.sctp(client.lport, PORT, server.my_tag, [P.sctp_chunk(HEARTBEAT, 0, info)]))
    sim.run()
    ack = next(w for w in wire if HEARTBEAT_ACK in w.types)
    assert ack.vtag == client.my_tag and ack.chunk(HEARTBEAT_ACK).value == info
    assert balanced(sim)


@pytest.mark.parametrize("ctype, delivered, reported", [
    (0x0F, False, False),      # 00: stop, discard the packet
    (0x4F, False, True),       # 01: stop, discard, report
    (0x8F, True, False),       # 10: skip the chunk, go on
    (0xCF, True, True),        # 11: skip, go on, report
])
def test_unknown_chunk_types_follow_their_two_high_bits(ctype, delivered, reported):
    sim, a, b, link, wire, client, server = established()
    n = len(wire)
    packet = P.sctp(client.lport, PORT, server.my_tag,
                    [P.sctp_chunk(ctype, 0, b"????"), raw_data(client.next_tsn, b"after the unknown chunk")])
    send_raw(a, packet)
    sim.run()
    assert (server.received == [(0, b"after the unknown chunk")]) == delivered
    errors = [w for w in wire[n:] if ERROR in w.types]
    assert bool(errors) == reported
    if reported:
        cause, info = parse_params(errors[0].chunk(ERROR).value)[0]
        assert cause == 6 and info[0] == ctype              # Unrecognized Chunk Type, the chunk quoted
    assert balanced(sim)


def test_data_for_a_stream_that_does_not_exist_is_acknowledged_and_reported():
    sim, a, b, link, wire, client, server = established()
    n = len(wire)
    send_raw(a, P.sctp(client.lport, PORT, server.my_tag, [raw_data(client.next_tsn, b"nowhere", sid=99)]))
    sim.run()
    assert server.received == []
    error = next(w for w in wire[n:] if ERROR in w.types)
    assert parse_params(error.chunk(ERROR).value)[0] == (1, struct.pack("!HH", 99, 0))
    sacks = [sack_fields(w.chunk(SACK)) for w in wire[n:] if SACK in w.types]
    assert sacks[-1]["cum"] == client.next_tsn              # the TSN is acknowledged all the same
    assert balanced(sim)


# ---------------------------------------------------------------------------- IPv6


def test_ipv6_association_handshake_data_and_shutdown():
    sim, a, b, link, wire, client, server = established(v6=True)
    message = bytes(i % 253 for i in range(5000))
    client.send(message, stream=2)
    client.send(b"short", stream=0)
    client.shutdown()
    sim.run()
    assert server.received == [(2, message), (0, b"short")]
    assert all(w.v6 for w in wire) and wire[0].types == [INIT] and wire[0].vtag == 0
    assert (wire[0].src, wire[0].dst) == (A6, B6) and (server.local, server.peer) == (B6, A6)
    pieces = [data_fields(c) for w in wire for c in w.chunks if c.type == DATA and data_fields(c)["sid"] == 2]
    assert len(pieces) == -(-5000 // ((1500 - 40 - 12 - 16) & ~3))
    assert all(len(w.ip) <= 1500 for w in wire)
    assert client.state == server.state == "CLOSED"
    assert any("[2001:db8::1]" in t and "COOKIE-WAIT" in t for _, t in a.events)
    assert balanced(sim)


def test_both_ends_sending_at_once():
    sim, a, b, link, wire, client, server = established()
    one, two = bytes(range(256)) * 40, bytes(range(255, -1, -1)) * 40
    for _ in range(3):
        client.send(one)
        server.send(two)
    sim.run()
    assert server.received == [(0, one)] * 3 and client.received == [(0, two)] * 3
    assert all(len(w.ip) <= 1500 for w in wire)
    assert balanced(sim)


def test_a_reply_sent_from_on_receive_carries_the_delayed_sack():
    sim, a, b, link, wire, client, server = established()
    server.on_receive = lambda stream, message: server.send(b"pong")
    n = len(wire)
    client.send(b"ping")
    sim.run()
    assert [(w.sender, w.types) for w in wire[n:]] == [("a", [DATA]), ("b", [SACK, DATA]), ("a", [SACK])]
    assert client.received == [(0, b"pong")]
    assert balanced(sim)


def test_a_due_sack_and_a_full_size_chunk_do_not_overflow_the_packet():
    sim, a, b, link, wire, client, server = established()
    reply = bytes(4000)
    server.on_receive = lambda stream, message: server.send(reply) if message == b"second" else None
    n = len(wire)
    client.send(b"first")
    sim.run(until_ns=sim.now_ns + 1 * MS)
    client.send(b"second")                                 # the second packet: a SACK is due at once
    sim.run()
    assert client.received == [(0, reply)]
    from_b = [w for w in wire[n:] if w.sender == "b"]
    assert from_b[0].types == [SACK] and from_b[1].types == [DATA] and len(from_b[1].ip) == 1500
    for w in wire:                                         # never above the MTU, never IP fragments
        assert len(w.ip) <= 1500 and struct.unpack_from("!H", w.ip, 6)[0] & 0x3FFF == 0
    assert balanced(sim)


def test_in_cookie_wait_only_an_abort_with_our_own_tag_is_accepted():
    sim, a, b, link = two_hosts()
    got = sink(b)                                          # b takes the INIT and never answers it
    client = SctpStack(a, seed=1).associate(B4, PORT, sport=40000)
    sim.run(until_ns=100 * MS)
    assert [w.types for w in got] == [[INIT]]
    send_raw(b, P.sctp(PORT, 40000, 0, [P.sctp_chunk(ABORT, FLAG_T, b"")]), dst=A4)    # the peer's tag: unknown
    send_raw(b, P.sctp(PORT, 40000, client.my_tag ^ 1, [P.sctp_chunk(ABORT, 0, b"")]), dst=A4)
    sim.run(until_ns=200 * MS)
    assert client.state == "COOKIE-WAIT" and len(drops(sim, DropReason.NOT_FOR_US, node="a")) == 2
    send_raw(b, P.sctp(PORT, 40000, client.my_tag, [P.sctp_chunk(ABORT, 0, b"")]), dst=A4)
    sim.run(until_ns=300 * MS)
    assert client.state == "CLOSED" and client.error == "aborted by the peer"
    assert balanced(sim)
