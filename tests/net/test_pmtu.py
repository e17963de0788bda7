"""Path MTU discovery state of hosts (dataplane/net/host/pmtu.py); test names cite
shared/spec/rfc-behaviors.md: R16 (RFC 1191, IPv4) and R26 (RFC 8201, IPv6).

The cache is tested alone on a Simulator (for its clock), then through a
host: an ICMP "fragmentation needed" (3/4) or an ICMPv6 Packet Too Big that
quotes a packet the host sent must make it send smaller packets to that
destination afterwards.
"""

from __future__ import annotations

import pytest

from netlab import MAC_A, MAC_B, two_hosts
from dataplane.net.host.pmtu import AGE_NS, MIN_V4, MIN_V6, PLATEAUS, PmtuCache
from dataplane.net.sim import Simulator
from dataplane.protocols import packets as P

S = 1_000_000_000
MINUTE = 60 * S
A4, B4, C4 = P.ip4("10.0.0.1"), P.ip4("10.0.0.2"), P.ip4("10.0.0.3")
A6, B6 = P.ip6("2001:db8::1"), P.ip6("2001:db8::2")


def cache(v6: bool = False) -> tuple[Simulator, PmtuCache]:
    sim = Simulator()
    return sim, PmtuCache(sim, v6=v6)


# ---------------------------------------------------------------------------- R16: IPv4, the cache alone


def test_R16_no_entry_means_the_link_mtu():
    sim, c = cache()
    assert c.mtu(B4, 1500) == 1500 and c.mtu(B4, 9000) == 9000


def test_R16_a_dtb_lowers_the_estimate_for_that_destination_only():
    sim, c = cache()
    c.on_frag_needed(B4, 1000, 1500)
    assert c.mtu(B4, 1500) == 1000
    assert c.mtu(C4, 1500) == 1500
    assert c.mtu(B4, 576) == 576                 # never above the link MTU


@pytest.mark.parametrize("reported", [67, 40, 1])
def test_R16_never_below_68(reported):
    sim, c = cache()
    c.on_frag_needed(B4, reported, 1500)
    assert c.mtu(B4, 1500) == MIN_V4 == 68


def test_R16_never_raised_by_a_dtb():
    sim, c = cache()
    c.on_frag_needed(B4, 1000, 1500)
    c.on_frag_needed(B4, 1400, 1500)
    assert c.mtu(B4, 1500) == 1000
    c.on_frag_needed(B4, 0, 1500)                # the plateau below 1500 is 1492: still higher
    assert c.mtu(B4, 1500) == 1000
    c.on_frag_needed(B4, 900, 1000)
    assert c.mtu(B4, 1500) == 900


def test_R16_plateau_table_is_rfc_1191_section_7():
    assert sorted(PLATEAUS) == [68, 296, 508, 1006, 1492, 2002, 4352, 8166, 17914, 32000, 65535]


@pytest.mark.parametrize("quoted_total_len, expected", [
    (1500, 1492),            # the vector of R16
    (1492, 1006),
    (1006, 508),
    (576, 508),
    (2002, 1492),
    (4000, 2002),
    (9000, 8166),
    (65535, 32000),
    (296, 68),
    (100, 68),
    (68, 68),                # nothing lower: the minimum
    (0, 68),
])
def test_R16_next_hop_mtu_0_picks_the_next_lower_plateau(quoted_total_len, expected):
    sim, c = cache()
    c.on_frag_needed(B4, 0, quoted_total_len)
    assert c.mtu(B4, 65535) == expected


def test_R16_estimate_ages_after_10_minutes_never_before_5():
    sim, c = cache()
    assert 5 * MINUTE <= AGE_NS == 10 * MINUTE
    c.on_frag_needed(B4, 1000, 1500)
    sim.run(until_ns=5 * MINUTE)
    assert c.mtu(B4, 1500) == 1000
    sim.run(until_ns=10 * MINUTE - 1)
    assert c.mtu(B4, 1500) == 1000
    sim.run(until_ns=10 * MINUTE)
    assert c.mtu(B4, 1500) == 1500               # probe with the link MTU again
    assert B4 not in c.entries


def test_R16_each_decrease_restarts_the_aging_clock():
    sim, c = cache()
    c.on_frag_needed(B4, 1400, 1500)
    sim.run(until_ns=4 * MINUTE)
    c.on_frag_needed(B4, 1200, 1400)
    sim.run(until_ns=12 * MINUTE)
    assert c.mtu(B4, 1500) == 1200
    sim.run(until_ns=14 * MINUTE)
    assert c.mtu(B4, 1500) == 1500


def test_R16_an_ignored_increase_does_not_restart_the_aging_clock():
    sim, c = cache()
    c.on_frag_needed(B4, 1000, 1500)
    sim.run(until_ns=8 * MINUTE)
    c.on_frag_needed(B4, 1400, 1500)             # not believed: no change, no new timestamp
    sim.run(until_ns=10 * MINUTE)
    assert c.mtu(B4, 1500) == 1500


@pytest.mark.parametrize("v6", [False, True])
def test_R16_R26_a_decrease_after_the_estimate_aged_is_not_lost(v6):
    sim, c = cache(v6)
    dst = B6 if v6 else B4
    report = c.on_packet_too_big if v6 else (lambda d, m: c.on_frag_needed(d, m, 1500))
    report(dst, 1300)
    sim.run(until_ns=11 * MINUTE)                # the 1300 estimate has aged out ...
    report(dst, 1400)                            # ... and the path now reports 1400 (below the link's 1500)
    assert c.mtu(dst, 1500) == 1400


# ---------------------------------------------------------------------------- R26: IPv6, the cache alone


@pytest.mark.parametrize("reported", [1279, 1000, 68, 0])
def test_R26_a_ptb_under_1280_is_discarded(reported):
    sim, c = cache(v6=True)
    c.on_packet_too_big(B6, reported)
    assert c.mtu(B6, 1500) == 1500 and c.ignored == 1
    assert B6 not in c.entries


def test_R26_never_below_1280():
    sim, c = cache(v6=True)
    c.on_packet_too_big(B6, 1280)
    assert c.mtu(B6, 1500) == MIN_V6 == 1280
    c.on_packet_too_big(B6, 1279)
    c.on_packet_too_big(B6, 576)
    assert c.mtu(B6, 1500) == 1280 and c.ignored == 2


def test_R26_never_raised_by_a_ptb():
    sim, c = cache(v6=True)
    c.on_packet_too_big(B6, 1400)
    c.on_packet_too_big(B6, 1480)
    c.on_packet_too_big(B6, 9000)
    assert c.mtu(B6, 1500) == 1400
    c.on_packet_too_big(B6, 1300)
    assert c.mtu(B6, 1500) == 1300


def test_R26_estimate_ages_like_ipv4():
    sim, c = cache(v6=True)
    c.on_packet_too_big(B6, 1300)
    sim.run(until_ns=AGE_NS - 1)
    assert c.mtu(B6, 1500) == 1300
    sim.run(until_ns=AGE_NS)
    assert c.mtu(B6, 1500) == 1500


# ---------------------------------------------------------------------------- through the host


def _capture(link):
    frames = []
    link.observers.append(lambda lk, end, frame: frames.append((end.node.name, frame[14:])))
    return frames


def _udp4_from_a(frames):
    return [f for n, f in frames if n == "a" and f[0] >> 4 == 4 and f[9] == P.IP_UDP]


def _udp6_from_a(frames):
    return [f for n, f in frames if n == "a" and f[0] >> 4 == 6 and f[6] in (P.IP_UDP, P.IP_FRAG6)]


def _dtb_to_a(a, mtu: int, quoted: bytes, sender: int = B4) -> None:
    """ICMP Destination Unreachable, fragmentation needed (3/4), quoting a packet a sent (RFC 1191 section 4)."""
    icmp = P.icmp(3, 4, mtu & 0xFFFF, quoted[:28])
    a.receive(1, P.ethernet(MAC_A, MAC_B, P.ETH_IPV4, P.ipv4(sender, A4, P.IP_ICMP, icmp)))


def _ptb_to_a(a, mtu: int, quoted: bytes, sender: int = B6) -> None:
    icmp = P.icmpv6(sender, A6, 2, 0, mtu, quoted[:1232])
    a.receive(1, P.ethernet(MAC_A, MAC_B, P.ETH_IPV6, P.ipv6(sender, A6, P.IP_ICMPV6, icmp)))


def _hosts():
    sim, a, b, link = two_hosts()
    got = []
    b.udp_bind(9, lambda pkt, sport, dport, data: got.append(data))
    return sim, a, b, link, got, _capture(link)


def test_R16_host_sends_smaller_packets_after_a_frag_needed():
    sim, a, b, link, got, frames = _hosts()
    data = bytes(1400)
    a.udp_send(B4, 1000, 9, data)
    sim.run()
    sent = _udp4_from_a(frames)
    assert [len(f) for f in sent] == [1428] and got == [data]
    _dtb_to_a(a, 1000, sent[0])
    assert a.pmtu4.mtu(B4, 1500) == 1000
    assert a.pmtu4.mtu(C4, 1500) == 1500
    frames.clear()
    a.udp_send(B4, 1000, 9, data)
    sim.run()
    sent = _udp4_from_a(frames)
    assert len(sent) == 2 and max(len(f) for f in sent) <= 1000
    assert got == [data, data]


def test_R16_host_frag_needed_with_mtu_0_uses_the_plateau_1492():
    sim, a, b, link, got, frames = _hosts()
    a.udp_send(B4, 1000, 9, bytes(1472))          # a 1500-byte datagram
    sim.run()
    sent = _udp4_from_a(frames)
    assert len(sent[0]) == 1500
    _dtb_to_a(a, 0, sent[0])
    assert a.pmtu4.mtu(B4, 1500) == 1492
    frames.clear()
    a.udp_send(B4, 1000, 9, bytes(1472))
    sim.run()
    assert max(len(f) for f in _udp4_from_a(frames)) <= 1492
    assert len(got) == 2


def test_R16_host_never_goes_below_68_nor_raises_on_a_dtb():
    sim, a, b, link, got, frames = _hosts()
    a.udp_send(B4, 1000, 9, bytes(1400))
    sim.run()
    quoted = _udp4_from_a(frames)[0]
    _dtb_to_a(a, 1000, quoted)
    _dtb_to_a(a, 1300, quoted)
    assert a.pmtu4.mtu(B4, 1500) == 1000
    _dtb_to_a(a, 40, quoted)
    assert a.pmtu4.mtu(B4, 1500) == 68
    frames.clear()
    a.udp_send(B4, 1000, 9, bytes(200))
    sim.run()
    sent = _udp4_from_a(frames)
    assert len(sent) == 5 and max(len(f) for f in sent) <= 68
    assert got[-1] == bytes(200)


def test_R16_host_probes_with_the_link_mtu_after_10_minutes():
    sim, a, b, link, got, frames = _hosts()
    a.udp_send(B4, 1000, 9, bytes(1400))
    sim.run()
    _dtb_to_a(a, 1000, _udp4_from_a(frames)[0])
    t = sim.now_ns                               # the time of the decrease
    sim.run(until_ns=t + 10 * MINUTE - S)
    frames.clear()
    a.udp_send(B4, 1000, 9, bytes(1400))
    sim.run(until_ns=t + 10 * MINUTE - S // 2)
    assert len(_udp4_from_a(frames)) == 2
    sim.run(until_ns=t + 10 * MINUTE)
    frames.clear()
    a.udp_send(B4, 1000, 9, bytes(1400))
    sim.run(until_ns=t + 10 * MINUTE + S)
    assert [len(f) for f in _udp4_from_a(frames)] == [1428]


def test_R16_host_with_df_reports_message_too_long_after_a_dtb():
    sim, a, b, link, got, frames = _hosts()
    a.udp_send(B4, 1000, 9, bytes(1400), df=True)
    sim.run()
    _dtb_to_a(a, 1200, _udp4_from_a(frames)[0])
    assert a.udp_send(B4, 1000, 9, bytes(1400), df=True) == "message too long (path MTU 1200)"
    assert a.udp_send(B4, 1000, 9, bytes(1100), df=True) is None


def test_R26_host_sends_smaller_packets_after_a_packet_too_big():
    sim, a, b, link, got, frames = _hosts()
    data = bytes(1400)
    a.udp_send(B6, 1000, 9, data, v6=True)
    sim.run()
    sent = _udp6_from_a(frames)
    assert [len(f) for f in sent] == [1448] and got == [data]
    _ptb_to_a(a, 1300, sent[0])
    assert a.pmtu6.mtu(B6, 1500) == 1300
    frames.clear()
    a.udp_send(B6, 1000, 9, data, v6=True)
    sim.run()
    sent = _udp6_from_a(frames)
    assert len(sent) == 2 and max(len(f) for f in sent) <= 1300
    assert got == [data, data]


def test_R26_host_discards_a_packet_too_big_under_1280_and_never_raises():
    sim, a, b, link, got, frames = _hosts()
    a.udp_send(B6, 1000, 9, bytes(1400), v6=True)
    sim.run()
    quoted = _udp6_from_a(frames)[0]
    _ptb_to_a(a, 1000, quoted)
    assert a.pmtu6.mtu(B6, 1500) == 1500 and a.pmtu6.ignored == 1
    _ptb_to_a(a, 1280, quoted)
    assert a.pmtu6.mtu(B6, 1500) == 1280
    _ptb_to_a(a, 1400, quoted)
    _ptb_to_a(a, 600, quoted)
    assert a.pmtu6.mtu(B6, 1500) == 1280 and a.pmtu6.ignored == 2
    frames.clear()
    a.udp_send(B6, 1000, 9, bytes(1400), v6=True)
    sim.run()
    assert max(len(f) for f in _udp6_from_a(frames)) <= 1280
    assert len(got) == 2
