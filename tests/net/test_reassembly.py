"""Fragment reassembly at hosts (dataplane/net/host/reassembly.py); test names cite
shared/spec/rfc-behaviors.md (R17-R25).

Most tests drive a Reassembler alone on a real (deterministic) Simulator and
record what it sends and drops; the rest go through two hosts on a link
(tests/net/netlab.py). scapy is an independent oracle where it helps: its
fragments must reassemble to the original packet byte for byte, and what we
rebuild must dissect with correct checksums.
"""

from __future__ import annotations

import itertools
import random

import pytest
from scapy.all import IP, UDP, IPv6, IPv6ExtHdrFragment, Raw, fragment, fragment6, raw

from netlab import MAC_A, MAC_B, two_hosts
from dataplane.net.host import reassembly
from dataplane.net.host.reassembly import CE, ECT0, ECT1, MAX_BYTES, NOT_ECT, SKB_OVERHEAD, Reassembler
from dataplane.net.sim import Simulator
from dataplane.protocols import packets as P
from dataplane.protocols.checksums import internet_checksum
from dataplane.protocols.ipfrag import fragment_ipv4
from dataplane.runtime.trace import DropReason

S = 1_000_000_000
A4, B4, C4 = P.ip4("10.0.0.1"), P.ip4("10.0.0.2"), P.ip4("10.0.0.3")
A6, B6, C6 = P.ip6("2001:db8::1"), P.ip6("2001:db8::2"), P.ip6("2001:db8::3")


# ---------------------------------------------------------------------------- helpers


class Rig:
    """A Reassembler on a Simulator, recording the errors it asks for and the drops it reports."""

    def __init__(self, v6: bool = False, timeout_s: float = 60, **limits):
        self.sim = Simulator()
        self.errors: list[tuple] = []
        self.drops: list[tuple[DropReason, str]] = []
        self.r = Reassembler(self.sim, v6, int(timeout_s * S), lambda *e: self.errors.append(e),
                             lambda reason, detail: self.drops.append((reason, detail)), **limits)

    def add(self, frag, off=None):
        if self.r.v6:
            return self.r.add_ipv6(frag, 40 if off is None else off)
        return self.r.add_ipv4(frag)

    def reasons(self):
        return [d[0] for d in self.drops]

    def run(self, seconds: float):
        self.sim.run(until_ns=int(seconds * S))


def frag4(offset: int, data: bytes, more: bool, ident: int = 7, src: int = A4, dst: int = B4,
          proto: int = P.IP_UDP, ecn: int = 0, ttl: int = 64, df: bool = False) -> bytes:
    """An IPv4 fragment: `offset` in bytes (a multiple of 8)."""
    assert offset % 8 == 0
    return P.ipv4(src, dst, proto, data, ident=ident, frag_offset=offset // 8, mf=more, ecn=ecn, ttl=ttl, df=df)


def frag6(offset: int, data: bytes, more: bool, ident: int = 7, src: int = A6, dst: int = B6, nh: int = P.IP_UDP,
          tc: int = 0, before: bytes = b"") -> bytes:
    """An IPv6 fragment; `before` is an unfragmentable extension header chain whose last next header is 44."""
    fh = P.ipv6_fragment_header(nh, offset // 8, more, ident)
    first_nh = 60 if before else P.IP_FRAG6
    return P.ipv6(src, dst, first_nh, before + fh + data, traffic_class=tc)


def dest_options(next_header: int) -> bytes:
    """An 8-byte Destination Options header holding one PadN option."""
    return bytes([next_header, 0, 1, 4, 0, 0, 0, 0])


def split6(payload: bytes, per: int, **kw) -> list[bytes]:
    """Cut an upper-layer payload into IPv6 fragments of `per` bytes (a multiple of 8)."""
    return [frag6(o, payload[o:o + per], o + per < len(payload), **kw) for o in range(0, len(payload), per)]


def udp4(size: int, src: int = A4, dst: int = B4) -> bytes:
    return P.udp(src, dst, 1000, 9, bytes((i * 7) & 0xFF for i in range(size)))


def udp6(size: int, src: int = A6, dst: int = B6) -> bytes:
    return P.udp(src, dst, 1000, 9, bytes((i * 13) & 0xFF for i in range(size)), v6=True)


def assert_ipv4_whole(dg: bytes) -> dict:
    h = P._IPV4.unpack(dg)
    assert h["mf"] == 0 and h["fragOffset"] == 0
    assert h["totalLen"] == len(dg)
    assert internet_checksum(dg[:h["ihl"] * 4]) == 0
    return h


# ---------------------------------------------------------------------------- R17: keys and completion


def test_R17_fragments_of_R12_vector_reassemble_to_the_original_in_every_order():
    original = P.ipv4(A4, B4, P.IP_UDP, udp4(1472), ident=111)
    frags = fragment_ipv4(original, 576)
    assert [len(f) for f in frags] == [572, 572, 396]                  # R12 (v)
    for order in itertools.permutations(frags):
        rig = Rig()
        results = [rig.add(f) for f in order]
        assert results[:-1] == [None, None]
        assert results[-1] == original
        assert rig.drops == [] and rig.r.pending == {} and rig.r.bytes_held == 0


@pytest.mark.parametrize("seed", range(20))
def test_R17_random_arrival_order_gives_an_identical_payload_ipv4(seed):
    original = P.ipv4(A4, B4, P.IP_UDP, udp4(3000), ident=4242, ecn=ECT0, df=False)
    frags = fragment_ipv4(original, 100)
    random.Random(seed).shuffle(frags)
    rig = Rig()
    out = [rig.add(f) for f in frags]
    assert all(o is None for o in out[:-1])
    assert out[-1] == original
    assert_ipv4_whole(out[-1])
    assert rig.r.reassembled == 1 and rig.r.pending == {}


@pytest.mark.parametrize("seed", range(20))
def test_R17_random_arrival_order_gives_an_identical_payload_ipv6(seed):
    payload = udp6(3000)
    original = P.ipv6(A6, B6, P.IP_UDP, payload)
    frags = split6(payload, 96, ident=0xDEADBEEF)
    random.Random(seed).shuffle(frags)
    rig = Rig(v6=True)
    out = [rig.add(f) for f in frags]
    assert all(o is None for o in out[:-1])
    assert out[-1] == original
    assert rig.drops == [] and rig.r.pending == {}


def test_R17_scapy_fragments_reassemble_to_the_original():
    """An independent fragmenter (scapy) for both families."""
    pkt4 = IP(src="10.0.0.1", dst="10.0.0.2", id=99) / UDP(sport=5, dport=9) / Raw(bytes(range(256)) * 8)
    rig = Rig()
    out = [rig.add(raw(f)) for f in reversed(fragment(pkt4, fragsize=480))]
    assert out[-1] == raw(pkt4)
    pkt6 = IPv6(src="2001:db8::1", dst="2001:db8::2") / IPv6ExtHdrFragment(id=5) / UDP(sport=5, dport=9) / \
        Raw(bytes(range(256)) * 8)
    frags6 = fragment6(pkt6, 600)
    assert len(frags6) > 2
    rig6 = Rig(v6=True)
    out6 = [rig6.add(raw(f)) for f in frags6[::-1]]
    expect = IPv6(src="2001:db8::1", dst="2001:db8::2") / UDP(sport=5, dport=9) / Raw(bytes(range(256)) * 8)
    assert out6[-1] == raw(expect)


def test_R17_completion_waits_for_every_hole_whatever_comes_last():
    """RFC 815: the last fragment first, then a middle one, then the first: complete only at the end."""
    rig = Rig()
    assert rig.add(frag4(16, b"c" * 8, False)) is None
    assert rig.add(frag4(8, b"b" * 8, True)) is None
    p = rig.r.pending[(A4, B4, P.IP_UDP, 7)]
    assert p.holes == [(0, 8)] and p.end == 24
    out = rig.add(frag4(0, b"a" * 8, True))
    assert out[20:] == b"a" * 8 + b"b" * 8 + b"c" * 8


def test_R17_ipv4_key_includes_the_protocol():
    rig = Rig()
    assert rig.add(frag4(0, b"U" * 8, True, proto=P.IP_UDP)) is None
    assert rig.add(frag4(8, b"T" * 8, False, proto=P.IP_TCP)) is None       # same src, dst and ID
    assert len(rig.r.pending) == 2
    out = rig.add(frag4(8, b"u" * 8, False, proto=P.IP_UDP))
    assert out[20:] == b"U" * 8 + b"u" * 8 and out[9] == P.IP_UDP


def test_R17_fragments_from_two_sources_with_the_same_id_do_not_mix_ipv4():
    rig = Rig()
    assert rig.add(frag4(0, b"A" * 16, True, src=A4)) is None
    assert rig.add(frag4(0, b"C" * 16, True, src=C4)) is None
    a = rig.add(frag4(16, b"a" * 8, False, src=A4))
    c = rig.add(frag4(16, b"c" * 8, False, src=C4))
    assert a[20:] == b"A" * 16 + b"a" * 8 and P._IPV4.unpack(a)["srcAddr"] == A4
    assert c[20:] == b"C" * 16 + b"c" * 8 and P._IPV4.unpack(c)["srcAddr"] == C4


def test_R17_fragments_from_two_sources_with_the_same_id_do_not_mix_ipv6():
    rig = Rig(v6=True)
    assert rig.add(frag6(0, b"A" * 16, True, src=A6)) is None
    assert rig.add(frag6(0, b"C" * 16, True, src=C6)) is None
    a = rig.add(frag6(16, b"a" * 8, False, src=A6))
    c = rig.add(frag6(16, b"c" * 8, False, src=C6))
    assert a == P.ipv6(A6, B6, P.IP_UDP, b"A" * 16 + b"a" * 8)
    assert c == P.ipv6(C6, B6, P.IP_UDP, b"C" * 16 + b"c" * 8)


def test_R17_ipv6_key_is_src_dst_id_not_the_next_header():
    """RFC 8200: the next header of the result comes from the first fragment; later ones do not split the key."""
    rig = Rig(v6=True)
    assert rig.add(frag6(8, b"b" * 8, False, nh=59)) is None
    out = rig.add(frag6(0, b"a" * 8, True, nh=P.IP_UDP))
    assert out == P.ipv6(A6, B6, P.IP_UDP, b"a" * 8 + b"b" * 8)


def test_R17_ipv4_result_keeps_options_and_df_of_the_first_fragment():
    options = bytes([0x94, 4, 0, 0])                    # Router Alert (copied)
    payload = udp4(200)
    original = P.ipv4(A4, B4, P.IP_UDP, payload, ident=9, options=options, ttl=33)
    frags = fragment_ipv4(original, 100)
    rig = Rig()
    out = [rig.add(f) for f in frags[::-1]][-1]
    assert out == original
    h = assert_ipv4_whole(out)
    assert h["ihl"] == 6 and h["ttl"] == 33


# ---------------------------------------------------------------------------- R18: timeout (IPv4)


def test_R18_only_fragment_0_gives_time_exceeded_11_1_quoting_it_after_60_s():
    rig = Rig()
    first = frag4(0, b"x" * 64, True)
    assert rig.add(first) is None
    rig.run(59.999999999)
    assert rig.errors == [] and len(rig.r.pending) == 1
    rig.run(60)
    assert rig.errors == [(False, first, 11, 1, 0)]
    assert rig.reasons() == [DropReason.REASSEMBLY_TIMEOUT]
    assert rig.r.pending == {} and rig.r.bytes_held == 0 and rig.r.timeouts == 1


def test_R18_only_a_later_fragment_times_out_in_silence():
    rig = Rig()
    assert rig.add(frag4(64, b"x" * 64, True)) is None
    assert rig.add(frag4(128, b"y" * 8, False)) is None
    rig.run(120)
    assert rig.errors == []
    assert rig.reasons() == [DropReason.REASSEMBLY_TIMEOUT]
    assert "no first fragment" in rig.drops[0][1]


def test_R18_timeout_is_fixed_not_taken_from_ttl_nor_restarted_by_later_fragments():
    rig = Rig()
    assert rig.add(frag4(0, b"x" * 8, True, ttl=1)) is None       # RFC 791 would use the TTL (1 s)
    rig.run(30)
    assert rig.errors == []
    assert rig.add(frag4(16, b"z" * 8, False, ttl=255)) is None    # RFC 791 would raise the timer
    rig.run(59.9)
    assert rig.errors == []
    rig.run(60)
    assert [e[2:4] for e in rig.errors] == [(11, 1)]
    rig.run(200)
    assert len(rig.errors) == 1


def test_R18_the_timeout_given_is_used_and_the_host_default_is_60_s():
    rig = Rig(timeout_s=120)
    rig.add(frag4(0, b"x" * 8, True))
    rig.run(119)
    assert rig.errors == []
    rig.run(120)
    assert len(rig.errors) == 1
    sim, a, b, link = two_hosts()
    assert b.reassembler(False).timeout_ns == 60 * S
    assert b.reassembler(True).timeout_ns == 60 * S


def test_R18_a_completed_datagram_leaves_no_timer_behind():
    rig = Rig()
    rig.add(frag4(0, b"x" * 8, True))
    assert rig.add(frag4(8, b"y" * 8, False)) is not None
    rig.run(120)
    assert rig.errors == [] and rig.drops == []
    assert rig.sim.pending == 0


def _capture(sim, link):
    frames = []
    link.observers.append(lambda lk, end, frame: frames.append((end.node.name, frame)))
    return frames


def test_R18_host_sends_time_exceeded_11_1_quoting_the_first_fragment():
    sim, a, b, link = two_hosts()
    notices = []
    a.icmp_listeners.append(notices.append)
    first = frag4(0, udp4(64)[:48], True, ident=321)
    b.receive(1, P.ethernet(MAC_B, MAC_A, P.ETH_IPV4, first))
    sim.run(until_ns=59 * S)
    assert notices == []
    sim.run(until_ns=61 * S)
    assert [(n.type, n.code, n.src) for n in notices] == [(11, 1, B4)]
    assert notices[0].data == first                     # its header and all its data (under 548 bytes)
    assert [d.reason for d in sim.ledger.drops] == [DropReason.REASSEMBLY_TIMEOUT]


def test_R18_host_stays_silent_when_fragment_0_never_arrived():
    sim, a, b, link = two_hosts()
    frames = _capture(sim, link)
    b.receive(1, P.ethernet(MAC_B, MAC_A, P.ETH_IPV4, frag4(8, b"y" * 8, False)))
    sim.run(until_ns=200 * S)
    assert [n for n, _ in frames if n == "b"] == []
    assert [d.reason for d in sim.ledger.drops] == [DropReason.REASSEMBLY_TIMEOUT]


@pytest.mark.parametrize("dst", [
    "255.255.255.255",
    "10.0.0.255",
])
def test_R18_no_time_exceeded_about_a_broadcast_datagram(dst):
    sim, a, b, link = two_hosts()
    frames = _capture(sim, link)
    first = frag4(0, b"x" * 16, True, dst=P.ip4(dst))
    b.receive(1, P.ethernet(P.BROADCAST_MAC, MAC_A, P.ETH_IPV4, first))
    sim.run(until_ns=61 * S)
    assert [d.reason for d in sim.ledger.drops] == [DropReason.REASSEMBLY_TIMEOUT]
    assert [n for n, _ in frames if n == "b"] == []


# ---------------------------------------------------------------------------- R19: IPv4 overlap policy


def test_R19_policy_is_documented_in_the_module():
    assert "newest copy of overlapping bytes wins" in reassembly.__doc__


def test_R19_newest_copy_of_overlapping_bytes_wins():
    rig = Rig()
    rig.add(frag4(0, b"A" * 16, True))
    rig.add(frag4(8, b"B" * 16, True))          # overlaps A's second half
    out = rig.add(frag4(24, b"C" * 8, False))
    assert out[20:] == b"A" * 8 + b"B" * 16 + b"C" * 8
    assert rig.drops == []

    rig = Rig()
    rig.add(frag4(8, b"B" * 16, True))
    rig.add(frag4(0, b"A" * 16, True))          # now A is newer
    out = rig.add(frag4(24, b"C" * 8, False))
    assert out[20:] == b"A" * 16 + b"B" * 8 + b"C" * 8


def test_R19_a_fragment_inside_another_overwrites_it():
    rig = Rig()
    rig.add(frag4(0, b"A" * 32, True))
    rig.add(frag4(8, b"n" * 8, True))
    out = rig.add(frag4(32, b"Z" * 3, False))
    assert out[20:] == b"A" * 8 + b"n" * 8 + b"A" * 16 + b"ZZZ"
    assert_ipv4_whole(out)


def test_R19_exact_duplicates_are_harmless():
    rig = Rig()
    original = P.ipv4(A4, B4, P.IP_UDP, udp4(500), ident=3)
    frags = fragment_ipv4(original, 200)
    assert rig.add(frags[0]) is None and rig.add(frags[0]) is None and rig.add(frags[1]) is None
    assert rig.add(frags[2]) == original
    assert rig.add(frags[2]) is None                  # a late duplicate starts a new reassembly ...
    rig.run(61)
    assert rig.errors == []                           # ... which times out silently (no fragment 0)


def test_R19_fragments_that_disagree_on_the_end_drop_the_datagram():
    rig = Rig()
    rig.add(frag4(0, b"A" * 8, True))
    rig.add(frag4(16, b"C" * 8, False))
    assert rig.add(frag4(24, b"D" * 8, True)) is None        # data past the end
    assert rig.reasons() == [DropReason.MALFORMED] and rig.r.pending == {}
    rig = Rig()
    rig.add(frag4(16, b"C" * 8, True))
    assert rig.add(frag4(8, b"B" * 8, False)) is None         # a last fragment before received data
    assert rig.reasons() == [DropReason.MALFORMED] and rig.r.bytes_held == 0


def test_R19_a_datagram_over_65535_bytes_is_dropped():
    """The 'ping of death': the last fragment's offset plus length passes 65535."""
    rig = Rig()
    rig.add(frag4(0, b"A" * 8, True))
    assert rig.add(frag4(8189 * 8, b"x" * 40, False)) is None
    assert rig.reasons() == [DropReason.MALFORMED] and rig.r.pending == {}
    rig.run(100)
    assert rig.errors == []


# ---------------------------------------------------------------------------- R20: ECN


@pytest.mark.parametrize("codepoints, result", [
    ((CE, ECT0), CE),
    ((ECT0, CE), CE),
    ((ECT1, CE, ECT0), CE),
    ((CE, CE), CE),
    ((ECT0, ECT0), ECT0),
    ((ECT1, ECT1, ECT1), ECT1),
    ((NOT_ECT, NOT_ECT), NOT_ECT),
    ((CE, NOT_ECT), None),
    ((NOT_ECT, ECT0, CE), None),
    ((ECT0, ECT1), ECT0),                 # no rule in R20: the first fragment's codepoint
    ((NOT_ECT, ECT1), NOT_ECT),
])
@pytest.mark.parametrize("v6", [False, True])
def test_R20_ecn_of_the_reassembled_datagram(codepoints, result, v6):
    rig = Rig(v6=v6)
    n = len(codepoints)
    out = None
    # Deliver the last fragment first so that the first fragment's codepoint is not the last one seen.
    for i in reversed(range(n)):
        more = i < n - 1
        if v6:
            out = rig.add(frag6(8 * i, bytes([65 + i]) * 8, more, tc=0xA0 | codepoints[i]))
        else:
            out = rig.add(frag4(8 * i, bytes([65 + i]) * 8, more, ecn=codepoints[i]))
    if result is None:
        assert out is None
        assert rig.reasons() == [DropReason.MALFORMED] and "Not-ECT" in rig.drops[0][1]
        assert rig.r.pending == {}
        return
    if v6:
        assert P._IPV6.unpack(out)["trafficClass"] == 0xA0 | result
    else:
        assert out[1] & 3 == result
        assert_ipv4_whole(out)
    assert out.endswith(b"".join(bytes([65 + i]) * 8 for i in range(n)))


# ---------------------------------------------------------------------------- R21 / R22: IPv6 fragments


def test_R21_every_node_reassembles_1500_bytes_sent_over_a_1280_link():
    sim, a, b, link = two_hosts(mtu=1280)
    got = []
    b.udp_bind(9, lambda pkt, sport, dport, data: got.append((pkt.src, data)))
    frames = _capture(sim, link)
    data = bytes(range(256)) * 5 + bytes(172)           # 1452 bytes of data: a 1500-byte IPv6 packet
    assert a.udp_send(B6, 1000, 9, data, v6=True) is None
    sim.run()
    assert got == [(A6, data)]
    ip_frames = [f for n, f in frames if n == "a" and f[12:14] == b"\x86\xdd" and f[14 + 6] == 44]
    assert len(ip_frames) == 2 and all(len(f) - 14 <= 1280 for f in ip_frames)
    assert sim.ledger.drops == []


def test_R22_fragment_header_fields_are_read_from_their_bits():
    fh = P.ipv6_fragment_header(17, 3, True, 7)
    assert fh == bytes.fromhex("1100001900000007")
    rig = Rig(v6=True)
    # Offset 3 (24 bytes), M=1, ID 7, built by hand; the reserved bits set must not matter.
    hand = bytes.fromhex("11ff001d00000007")
    assert rig.r.add_ipv6(P.ipv6(A6, B6, 44, hand + b"d" * 8), 40) is None
    assert rig.add(frag6(32, b"e" * 8, False)) is None
    assert rig.add(frag6(0, b"a" * 24, True)) == P.ipv6(A6, B6, 17, b"a" * 24 + b"d" * 8 + b"e" * 8)


def test_R22_extension_headers_before_the_fragment_header_are_kept():
    """The unfragmentable part: the next header before the Fragment header becomes the fragment's NH."""
    before = dest_options(44)
    payload = udp6(100)
    rig = Rig(v6=True)
    frags = [frag6(o, payload[o:o + 56], o + 56 < len(payload), before=before) for o in range(0, len(payload), 56)]
    out = [rig.r.add_ipv6(f, 48) for f in frags[::-1]][-1]
    assert out == P.ipv6(A6, B6, 60, dest_options(P.IP_UDP) + payload)


def test_R22_host_fragments_put_the_upper_layer_header_in_the_first_fragment():
    sim, a, b, link = two_hosts()
    frames = _capture(sim, link)
    got = []
    b.udp_bind(9, lambda pkt, sport, dport, data: got.append(data))
    data = bytes(4000)
    a.udp_send(B6, 1000, 9, data, v6=True)
    sim.run()
    assert got == [data]
    frags = [f[14:] for n, f in frames if n == "a" and f[12:14] == b"\x86\xdd" and f[14 + 6] == 44]
    assert len(frags) == 3
    for i, f in enumerate(frags):
        h = P._FRAG6.unpack(f[40:48])
        assert h["nextHdr"] == P.IP_UDP and h["mf"] == (i < 2)
        if h["mf"]:
            assert (len(f) - 48) % 8 == 0
    assert P._FRAG6.unpack(frags[0][40:48])["fragOffset"] == 0 and len(frags[0]) - 48 >= 8


# ---------------------------------------------------------------------------- R23: IPv6 reassembly errors


def test_R23_timeout_sends_icmpv6_3_1_only_if_the_first_fragment_arrived():
    rig = Rig(v6=True)
    first = frag6(0, b"x" * 16, True, ident=1)
    rig.add(first)
    rig.add(frag6(32, b"z" * 8, False, ident=2))       # another datagram, without its first fragment
    rig.run(59)
    assert rig.errors == []
    rig.run(60)
    assert rig.errors == [(True, first, 3, 1, 0)]
    assert rig.reasons() == [DropReason.REASSEMBLY_TIMEOUT] * 2
    assert rig.r.pending == {}


def test_R23_M_set_with_a_length_not_a_multiple_of_8_is_parameter_problem_pointer_4():
    rig = Rig(v6=True)
    bad = frag6(8, b"x" * 12, True)
    assert rig.add(bad) is None
    assert rig.errors == [(True, bad, 4, 0, 4)]
    assert rig.reasons() == [DropReason.MALFORMED] and rig.r.pending == {}
    assert rig.add(frag6(8, b"x" * 12, False)) is None          # the last fragment may have any length
    assert len(rig.errors) == 1


def test_R23_result_over_65535_is_parameter_problem_pointing_at_the_fragment_offset():
    rig = Rig(v6=True)
    bad = frag6(8189 * 8, b"x" * 32, False)              # 65512 + 32 = 65544
    assert rig.add(bad) is None
    assert rig.errors == [(True, bad, 4, 0, 42)]
    assert rig.reasons() == [DropReason.MALFORMED]
    one_over = frag6(8188 * 8, b"x" * 32, False)         # 65504 + 32 = 65536
    assert rig.add(one_over) is None and rig.errors[-1][4] == 42
    fits = frag6(8188 * 8, b"x" * 31, False)             # 65535 exactly: kept for reassembly
    assert rig.add(fits) is None and len(rig.errors) == 2 and len(rig.r.pending) == 1


def test_R23_over_65535_pointer_follows_extension_headers_before_the_fragment_header():
    rig = Rig(v6=True)
    bad = frag6(8188 * 8, b"x" * 24, False, before=dest_options(44))    # 8 + 65504 + 24 > 65535
    assert rig.r.add_ipv6(bad, 48) is None
    assert rig.errors == [(True, bad, 4, 0, 50)]


@pytest.mark.parametrize("nh, data", [
    (P.IP_TCP, b"t" * 8),                                # 8 bytes of a 20-byte TCP header
    (60, dest_options(P.IP_UDP)),                        # the chain is whole, the UDP header is not there
    (60, bytes([P.IP_UDP, 1]) + bytes(6)),               # a 16-byte Destination Options header cut at 8
    (43, bytes([P.IP_UDP, 0, 0, 0]) + bytes(4)),         # a Routing header and nothing after it
])
def test_R23_first_fragment_without_the_upper_layer_header_is_parameter_problem_3_0(nh, data):
    rig = Rig(v6=True)
    bad = frag6(0, data, True, nh=nh)
    assert rig.add(bad) is None
    assert rig.errors == [(True, bad, 4, 3, 0)]
    assert rig.reasons() == [DropReason.MALFORMED] and rig.r.pending == {}


@pytest.mark.parametrize("nh, data", [
    (P.IP_UDP, b"u" * 8),
    (P.IP_TCP, b"t" * 24),
    (60, dest_options(P.IP_UDP) + b"u" * 8),
    (60, dest_options(59)),                              # No Next Header: nothing more is needed
])
def test_R23_first_fragment_with_the_whole_chain_is_accepted(nh, data):
    rig = Rig(v6=True)
    assert rig.add(frag6(0, data, True, nh=nh)) is None
    assert rig.errors == [] and rig.drops == [] and len(rig.r.pending) == 1


def test_R23_host_sends_parameter_problem_pointer_4():
    sim, a, b, link = two_hosts()
    notices = []
    a.icmp_listeners.append(notices.append)
    b.receive(1, P.ethernet(MAC_B, MAC_A, P.ETH_IPV6, frag6(0, udp6(20)[:12], True)))
    sim.run(until_ns=S)
    assert [(n.type, n.code, n.body) for n in notices] == [(4, 0, 4)]


def test_R23_host_sends_time_exceeded_3_1_quoting_the_first_fragment():
    sim, a, b, link = two_hosts()
    notices = []
    a.icmp_listeners.append(notices.append)
    first = frag6(0, udp6(40)[:32], True, ident=99)
    b.receive(1, P.ethernet(MAC_B, MAC_A, P.ETH_IPV6, first))
    sim.run(until_ns=61 * S)
    assert [(n.type, n.code, n.src) for n in notices] == [(3, 1, B6)]
    assert notices[0].data == first


# ---------------------------------------------------------------------------- R24: IPv6 overlaps


def test_R24_any_overlap_drops_the_whole_datagram_silently():
    rig = Rig(v6=True)
    rig.add(frag6(0, b"A" * 16, True))
    rig.add(frag6(32, b"C" * 8, False))
    assert rig.add(frag6(8, b"B" * 16, True)) is None       # overlaps [8, 16) of the first
    assert rig.reasons() == [DropReason.FRAGMENT_OVERLAP]
    assert rig.r.pending == {} and rig.r.bytes_held == 0
    assert rig.add(frag6(16, b"B" * 16, True)) is None       # the gap alone no longer completes anything
    rig.run(200)
    assert rig.errors == []                                 # no ICMP, ever (the new partial has no fragment 0)


@pytest.mark.parametrize("second", [
    (8, b"a" * 8, True),          # same start, shorter
    (16, b"A" * 8, True),         # inside, same bytes: still an overlap (not an exact duplicate)
    (8, b"A" * 16, False),        # same range, other M flag
    (8, b"Z" * 16, True),         # same range, other bytes
    (0, b"u" * 16, True),         # the first fragment, overlapping from below
])
def test_R24_overlaps_that_are_not_exact_duplicates(second):
    rig = Rig(v6=True)
    rig.add(frag6(8, b"A" * 16, True))
    assert rig.add(frag6(*second)) is None
    assert rig.reasons() == [DropReason.FRAGMENT_OVERLAP] and rig.r.pending == {}
    assert rig.errors == []


def test_R24_an_exact_duplicate_is_dropped_alone():
    payload = udp6(200)
    frags = split6(payload, 64)
    rig = Rig(v6=True)
    rig.add(frags[0])
    rig.add(frags[1])
    assert rig.add(frags[1]) is None
    assert rig.reasons() == [DropReason.FRAGMENT_OVERLAP] and "duplicate" in rig.drops[0][1]
    assert len(rig.r.pending) == 1
    rig.add(frags[2])
    assert rig.add(frags[3]) == P.ipv6(A6, B6, P.IP_UDP, payload)


def test_R24_host_overlap_sends_nothing():
    sim, a, b, link = two_hosts()
    frames = _capture(sim, link)
    for f in (frag6(0, udp6(40)[:24], True), frag6(16, b"B" * 16, True), frag6(32, b"C" * 8, False)):
        b.receive(1, P.ethernet(MAC_B, MAC_A, P.ETH_IPV6, f))
    sim.run(until_ns=200 * S)
    assert [n for n, _ in frames if n == "b"] == []
    assert DropReason.FRAGMENT_OVERLAP in [d.reason for d in sim.ledger.drops]


# ---------------------------------------------------------------------------- R25: atomic fragments


def test_R25_atomic_fragment_is_processed_in_isolation():
    payload = udp6(100)
    rig = Rig(v6=True)
    pending_first = frag6(0, payload[:64], True, ident=7)
    rig.add(pending_first)
    before = {k: (bytes(p.buffer), list(p.holes), p.held, p.first) for k, p in rig.r.pending.items()}
    held = rig.r.bytes_held
    atomic = rig.add(frag6(0, b"atomic!!", False, ident=7))
    assert atomic == P.ipv6(A6, B6, P.IP_UDP, b"atomic!!")
    assert {k: (bytes(p.buffer), list(p.holes), p.held, p.first) for k, p in rig.r.pending.items()} == before
    assert rig.r.bytes_held == held and rig.drops == []
    # The pending datagram is still whole when its last fragment comes.
    assert rig.add(frag6(64, payload[64:], False, ident=7)) == P.ipv6(A6, B6, P.IP_UDP, payload)


def test_R25_atomic_fragment_does_not_create_state_nor_a_timer():
    rig = Rig(v6=True)
    assert rig.add(frag6(0, b"u" * 8, False)) == P.ipv6(A6, B6, P.IP_UDP, b"u" * 8)
    assert rig.r.pending == {} and rig.sim.pending == 0


def test_R25_host_delivers_an_atomic_fragment_beside_a_pending_datagram():
    sim, a, b, link = two_hosts()
    got = []
    b.udp_bind(9, lambda pkt, sport, dport, data: got.append(data))
    big = udp6(100)
    b.receive(1, P.ethernet(MAC_B, MAC_A, P.ETH_IPV6, frag6(0, big[:64], True, ident=7)))
    small = udp6(10)
    b.receive(1, P.ethernet(MAC_B, MAC_A, P.ETH_IPV6, frag6(0, small, False, ident=7)))
    assert got == [small[8:]]
    b.receive(1, P.ethernet(MAC_B, MAC_A, P.ETH_IPV6, frag6(64, big[64:], False, ident=7)))
    assert got == [small[8:], big[8:]]


# ---------------------------------------------------------------------------- limits


def test_a_fragment_is_charged_its_truesize_and_the_buffer_it_adds():
    rig = Rig()
    first = frag4(0, b"x" * 8, True, ident=1)
    rig.add(first)
    assert rig.r.bytes_held == len(first) + SKB_OVERHEAD + 8
    far = frag4(800, b"y" * 8, True, ident=1)            # makes room for the 800 bytes before it
    rig.add(far)
    assert rig.r.bytes_held == len(first) + len(far) + 2 * SKB_OVERHEAD + 808 == rig.r.peak_bytes


def test_the_optional_datagram_limit_evicts_the_least_recently_used():
    rig = Rig(max_datagrams=4)
    for ident in range(4):
        assert rig.add(frag4(0, b"x" * 8, True, ident=ident)) is None
    rig.sim.run(until_ns=1)
    assert rig.add(frag4(16, b"z" * 8, True, ident=0)) is None       # ident 0 is used again: 1 is now the oldest
    assert rig.drops == []
    assert rig.add(frag4(0, b"x" * 8, True, ident=4)) is None
    assert rig.reasons() == [DropReason.REASSEMBLY_EVICTED] and "id 1:" in rig.drops[0][1]
    assert sorted(k[3] for k in rig.r.pending) == [0, 2, 3, 4] and rig.r.evictions == 1
    # A fragment of a pending datagram evicts nothing, and completes it.
    assert rig.add(frag4(8, b"y" * 8, True, ident=0)) is None
    assert rig.add(frag4(24, b"w" * 8, False, ident=0)) is not None
    assert len(rig.r.pending) == 3 and rig.r.evictions == 1
    assert rig.errors == []                                   # no ICMP for an evicted datagram


@pytest.mark.parametrize("v6", [False, True])
def test_full_buffers_evict_the_oldest_datagram_without_icmp(v6):
    rig = Rig(v6=v6)
    per = 1400
    ident = 0
    while not rig.drops:
        ident += 1
        for i in range(40):                              # 40 fragments of 1400 bytes, never the last one
            f = frag6(i * per, b"d" * per, True, ident=ident) if v6 else frag4(i * per, b"d" * per, True, ident=ident)
            before = rig.r.bytes_held
            rig.add(f)
            assert rig.r.bytes_held <= MAX_BYTES
            if rig.drops:
                break
    # The fragment that did not fit made room by evicting datagram 1, the oldest; it was itself kept.
    cost = len(f) + SKB_OVERHEAD + per
    assert before + cost > MAX_BYTES == 4 * 1024 * 1024
    assert rig.reasons() == [DropReason.REASSEMBLY_EVICTED] and rig.r.evictions == 1
    assert " id 1:" in rig.drops[0][1] and "least recently used" in rig.drops[0][1]
    evicted = int(rig.drops[0][1].split(" fragments, ")[1].split(" bytes")[0])
    assert rig.r.bytes_held == before - evicted + cost <= MAX_BYTES
    assert 1 not in {k[-1] for k in rig.r.pending} and ident in {k[-1] for k in rig.r.pending}
    assert rig.r.peak_bytes <= MAX_BYTES and rig.errors == []
    partials = len(rig.r.pending)
    rig.run(61)
    assert rig.r.pending == {} and rig.r.bytes_held == 0
    assert len(rig.errors) == partials                       # time exceeded for each one that timed out
    assert rig.reasons().count(DropReason.REASSEMBLY_TIMEOUT) == partials


def test_a_fragment_too_big_for_the_limit_alone_is_dropped():
    small = len(frag4(0, b"x" * 8, True)) + SKB_OVERHEAD + 8
    rig = Rig(max_bytes=small)
    assert rig.add(frag4(0, b"x" * 8, True, ident=1)) is None
    assert rig.add(frag4(8, b"x" * 80, True, ident=1)) is None       # its own datagram is not evicted for it
    assert rig.reasons() == [DropReason.REASSEMBLY_LIMIT] and len(rig.r.pending) == 1
    assert rig.add(frag4(0, b"x" * 8, True, ident=2)) is None        # another datagram evicts it
    assert rig.reasons()[-1] == DropReason.REASSEMBLY_EVICTED and [k[3] for k in rig.r.pending] == [2]


@pytest.mark.parametrize("v6", [False, True])
def test_fragments_per_datagram_are_bounded(v6):
    assert reassembly.MAX_FRAGMENTS == 2 * 1365            # a 65535-byte datagram at the 68-byte minimum MTU: 1365
    rig = Rig(v6=v6, max_fragments=5)
    for i in range(5):
        assert rig.add(frag6(i * 8, b"a" * 8, True) if v6 else frag4(i * 8, b"a" * 8, True)) is None
    assert rig.drops == []
    assert rig.add(frag6(40, b"a" * 8, True) if v6 else frag4(40, b"a" * 8, True)) is None
    assert rig.reasons() == [DropReason.REASSEMBLY_LIMIT] and "more than 5 fragments" in rig.drops[0][1]
    assert rig.r.pending == {} and rig.r.bytes_held == 0 and rig.errors == []


# ---------------------------------------------------------------------------- through the host stack


@pytest.mark.parametrize("v6", [False, True])
def test_udp_datagram_larger_than_the_link_mtu_is_fragmented_and_delivered_whole(v6):
    sim, a, b, link = two_hosts(mtu=1000)
    frames = _capture(sim, link)
    got = []
    b.udp_bind(9, lambda pkt, sport, dport, data: got.append((pkt.src, sport, data)))
    data = bytes((i * 31) & 0xFF for i in range(5000))
    assert a.udp_send(B6 if v6 else B4, 1234, 9, data, v6=v6) is None
    sim.run()
    assert got == [(A6 if v6 else A4, 1234, data)]
    ip = [f for n, f in frames if n == "a" and f[12:14] == (b"\x86\xdd" if v6 else b"\x08\x00")
          and (f[14 + 6] == 44 if v6 else f[14 + 9] == P.IP_UDP)]
    assert len(ip) == 6 and all(len(f) - 14 <= 1000 for f in ip)
    assert sim.ledger.drops == [] and b.reassembler(v6).pending == {}


@pytest.mark.parametrize("v6", [False, True])
def test_host_keeps_fragments_from_two_sources_with_the_same_id_apart(v6):
    sim, a, b, link = two_hosts()
    got = []
    b.udp_bind(9, lambda pkt, sport, dport, data: got.append((pkt.src, data)))
    srcs = (A6, C6) if v6 else (A4, C4)
    udps = {s: (udp6(100, src=s) if v6 else udp4(100, src=s)) for s in srcs}
    assert udps[srcs[0]][8:] == udps[srcs[1]][8:]          # same data, so a mix-up would show in the checksum
    heads, tails = [], []
    for s in srcs:
        u = udps[s]
        if v6:
            heads.append(frag6(0, u[:56], True, src=s, ident=77))
            tails.append(frag6(56, u[56:], False, src=s, ident=77))
        else:
            heads.append(frag4(0, u[:56], True, src=s, ident=77))
            tails.append(frag4(56, u[56:], False, src=s, ident=77))
    etype = P.ETH_IPV6 if v6 else P.ETH_IPV4
    for f in (heads[0], heads[1], tails[1], tails[0]):
        b.receive(1, P.ethernet(MAC_B, MAC_A, etype, f))
    assert got == [(srcs[1], udps[srcs[1]][8:]), (srcs[0], udps[srcs[0]][8:])]
    assert sim.ledger.drops == []


def test_host_ipv4_fragments_from_scapy_are_delivered():
    sim, a, b, link = two_hosts()
    got = []
    b.udp_bind(53, lambda pkt, sport, dport, data: got.append(data))
    pkt = IP(src="10.0.0.1", dst="10.0.0.2", id=1) / UDP(sport=1, dport=53) / Raw(b"q" * 3000)
    for f in fragment(pkt, fragsize=1000)[::-1]:
        b.receive(1, P.ethernet(MAC_B, MAC_A, P.ETH_IPV4, raw(f)))
    assert got == [b"q" * 3000]
