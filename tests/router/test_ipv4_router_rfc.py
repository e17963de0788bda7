"""IPv4 router behaviour required by the RFCs; test names cite shared/spec/rfc-behaviors.md.

scapy is the independent oracle: every packet the router emits must dissect
cleanly with correct checksums, and fragments must reassemble."""

from __future__ import annotations

import pytest
from scapy.all import ARP, ICMP, IP, IPOption, TCP, UDP, Ether, Raw, defragment, raw

from routerlab import H1_MAC, H2_MAC, R_MAC, make_router, router  # noqa: F401 (router is a fixture)
from dataplane.protocols.checksums import incremental_update, internet_checksum
from dataplane.runtime.trace import DropReason


def send(router, pkt, port=1, now=0.0):
    outputs, drops, _ = router.receive(port, raw(pkt), now)
    return [(p, Ether(f)) for p, f in outputs], drops


def from_h1(ip_layer, *upper, dst_mac="00:00:00:00:01:00"):
    pkt = Ether(src="08:00:00:00:01:01", dst=dst_mac) / ip_layer
    for u in upper:
        pkt = pkt / u
    return pkt


def assert_checksums_ok(pkt):
    """Recompute every checksum with scapy; they must equal what we sent."""
    again = Ether(raw(pkt))
    for layer, field in ((IP, "chksum"), (ICMP, "chksum"), (UDP, "chksum"), (TCP, "chksum")):
        if layer in again:
            sent = again[layer].getfieldval(field)
            copy = Ether(raw(pkt))
            del copy[layer].chksum
            assert Ether(raw(copy))[layer].getfieldval(field) == sent, f"bad {layer.__name__} checksum"


def test_forwarding_rewrites_macs_and_decrements_ttl(router):
    out, drops = send(router, from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=64), UDP(sport=1, dport=2), Raw(b"x")))
    assert drops == [] and len(out) == 1
    port, p = out[0]
    assert port == 2 and p.dst == "08:00:00:00:02:02" and p.src == "00:00:00:00:02:00"
    assert p[IP].ttl == 63
    assert_checksums_ok(p)


# -- R1: header validation ------------------------------------------------------------------------

@pytest.mark.parametrize("mangle", [
    lambda ip: ip.__setattr__("chksum", ip.chksum ^ 0x0100),        # a flipped checksum bit
    lambda ip: ip.__setattr__("ihl", 4),                            # IHL below 5
    lambda ip: ip.__setattr__("version", 5),
    lambda ip: ip.__setattr__("len", 16),                           # total length below the header
    lambda ip: ip.__setattr__("len", 400),                          # total length beyond the frame
])
def test_R1_invalid_headers_are_dropped_silently_and_counted(router, mangle):
    ip = IP(raw(IP(src="10.0.1.1", dst="10.0.2.2", ttl=64) / UDP() / Raw(b"y" * 20)))
    mangle(ip)
    frame = raw(Ether(src="08:00:00:00:01:01", dst="00:00:00:00:01:00", type=0x0800)) + raw(ip)
    outputs, drops, _ = router.receive(1, frame, 0.0)
    assert outputs == []                       # nothing sent: no ICMP about a bad header
    assert router.device.counter_read("drops", 0)[0] == 1
    assert drops and drops[0][0] is DropReason.MARK_TO_DROP


# -- R3: incremental checksum update ------------------------------------------------------------

def test_R3_rfc1624_example_and_ttl_word():
    assert incremental_update(0xDD2F, 0x5555, 0x3285) == 0x0000
    hdr = bytes.fromhex("45000073000040004011b861c0a80001c0a800c7")
    new_hc = incremental_update(0xB861, (64 << 8) | 17, (63 << 8) | 17)
    assert new_hc == 0xB961
    assert new_hc == internet_checksum(hdr[:8] + bytes([63, 17]) + b"\x00\x00" + hdr[12:])


def test_R3_router_checksum_equals_a_full_recompute(router):
    pkt = from_h1(IP(bytes.fromhex("45000073000040004011b861c0a80001c0a800c7") + bytes(95)))
    pkt[IP].dst = "10.0.2.9"
    del pkt[IP].chksum
    out, _ = send(router, Ether(raw(pkt)))
    ip = out[0][1][IP]
    assert ip.ttl == 63
    recomputed = IP(raw(ip))
    del recomputed.chksum
    assert IP(raw(recomputed)).chksum == ip.chksum


# -- R4, R5, R8, R9: Time Exceeded -------------------------------------------------------------------

def test_R4_ttl_1_gets_time_exceeded_from_the_interface_toward_the_source(router):
    orig = from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1), UDP(sport=33434, dport=33435), Raw(b"probe"))
    out, drops = send(router, orig)
    assert len(out) == 1
    port, p = out[0]
    assert port == 1 and p.dst == "08:00:00:00:01:01" and p.src == "00:00:00:00:01:00"
    assert p[IP].src == "10.0.1.254" and p[IP].dst == "10.0.1.1"
    assert (p[ICMP].type, p[ICMP].code) == (11, 0)
    assert raw(p[ICMP].payload) == raw(orig[IP])          # a short packet is quoted whole (R8)
    assert_checksums_ok(p)


def test_R4_source_address_belongs_to_the_outgoing_interface_not_the_ingress(router):
    # The packet comes in on port 2 from a host of 10.0.1.0/24 (asymmetric path): the error leaves by port 1.
    orig = Ether(src="08:00:00:00:02:02", dst="00:00:00:00:02:00") / IP(src="10.0.1.1", dst="10.0.3.3", ttl=1) / UDP()
    out, _ = send(router, orig, port=2)
    assert out[0][0] == 1 and out[0][1][IP].src == "10.0.1.254"


def test_R4_no_time_exceeded_for_multicast_destinations(router):
    out, _ = send(router, from_h1(IP(src="10.0.1.1", dst="224.0.0.9", ttl=1), UDP()))
    assert out == []


def test_R5_the_router_accepts_packets_for_itself_whatever_the_ttl(router):
    out, _ = send(router, from_h1(IP(src="10.0.1.1", dst="10.0.2.254", ttl=1), ICMP(type=8, id=7, seq=3),
                                  Raw(b"ping")))
    assert len(out) == 1
    p = out[0][1]
    assert p[ICMP].type == 0 and p[IP].src == "10.0.2.254" and p[IP].dst == "10.0.1.1"


def test_R8_large_packets_are_quoted_up_to_576_bytes(router):
    orig = from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1), UDP(), Raw(b"z" * 972))
    assert len(orig[IP]) == 1000
    out, _ = send(router, orig)
    p = out[0][1]
    quoted = raw(p[IP])[28:]                  # after the IP and ICMP headers
    assert len(p[IP]) == 576 and len(quoted) == 548
    assert quoted == raw(orig[IP])[:548]


@pytest.mark.parametrize("pkt,why", [
    (lambda: from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1), ICMP(type=11, code=0), Raw(bytes(28))),
     "about an ICMP error"),
    (lambda: from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1, frag=10), Raw(bytes(40))), "not the first fragment"),
    (lambda: from_h1(IP(src="10.0.1.1", dst="10.0.2.255", ttl=1), UDP()), "directed broadcast destination"),
    (lambda: from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1), UDP(), dst_mac="ff:ff:ff:ff:ff:ff"),
     "link-layer broadcast or multicast"),
])
def test_R9_no_errors_about_these(router, pkt, why):
    out, drops = send(router, pkt())
    assert out == []
    assert router.agent.stats.suppressed.get(why) == 1


@pytest.mark.parametrize("src", ["127.0.0.1", "240.0.0.1", "0.1.2.3", "255.255.255.255"])
def test_R9_martian_sources_are_not_routed_and_get_no_error(router, src):
    # RFC 1812 5.3.7: the pipeline drops them (drops[2]) before any TTL check, so nothing reaches the agent.
    out, drops = send(router, from_h1(IP(src=src, dst="10.0.2.2", ttl=1), UDP()))
    assert out == [] and router.device.counter_read("drops", 2)[0] == 1
    assert router.agent.stats.handled == {}


def test_R9_the_agent_sends_no_error_about_an_invalid_source(router):
    # For programs that do route such packets: the agent's own check (R9).
    import struct
    from dataplane.router.agent import CPU_IN_FORMAT, REASON_TTL_EXPIRED
    for src in ("127.0.0.1", "240.0.0.1"):
        punt = struct.pack(CPU_IN_FORMAT, REASON_TTL_EXPIRED, 0, 1, 0, 0) + \
            raw(from_h1(IP(src=src, dst="10.0.2.2", ttl=1), UDP()))
        out, drops = router.agent.handle(punt, 0.0)
        assert out == [] and drops == [(DropReason.TTL_EXCEEDED, "no ICMP error: invalid source address")]
    assert router.agent.stats.suppressed == {"invalid source address": 2}


def test_R9_an_expiring_echo_gets_time_exceeded_but_an_expiring_error_does_not(router):
    out, _ = send(router, from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1), ICMP(type=8)))
    assert len(out) == 1 and out[0][1][ICMP].type == 11
    out, _ = send(router, from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1), ICMP(type=3, code=3)))
    assert out == []


def test_R9_first_fragment_gets_an_error_later_ones_do_not(router):
    first = from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1, flags="MF", id=5), UDP(), Raw(bytes(64)))
    later = from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1, id=5, frag=9), Raw(bytes(64)))
    assert len(send(router, first)[0]) == 1
    assert send(router, later)[0] == []


def test_R10_errors_are_rate_limited_by_a_token_bucket():
    r = make_router(rate=1.0, burst=3.0)
    probe = from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=1), UDP())
    sent = [len(send(r, probe, now=t)[0]) for t in (0, 1, 2, 3, 4)]      # within 4 microseconds
    assert sent == [1, 1, 1, 0, 0]
    drops = send(r, probe, now=5)[1]
    assert drops == [(DropReason.TTL_EXCEEDED, "no ICMP error: rate limit")]
    assert r.agent.stats.suppressed["rate limit"] == 3
    assert len(send(r, probe, now=2_000_010)[0]) == 1                     # two seconds later: tokens again


# -- R11: echo, no route, unreachable ports and protocols ---------------------------------------

def test_R11_echo_reply_returns_id_sequence_and_data(router):
    out, _ = send(router, from_h1(IP(src="10.0.1.1", dst="10.0.1.254"), ICMP(type=8, id=0x1234, seq=9),
                                  Raw(b"0123456789" * 5)))
    p = out[0][1]
    assert (p[ICMP].type, p[ICMP].id, p[ICMP].seq) == (0, 0x1234, 9)
    assert raw(p[ICMP].payload) == b"0123456789" * 5
    assert p[IP].src == "10.0.1.254"
    assert_checksums_ok(p)


def test_R11_no_route_gets_destination_unreachable_3_0(router):
    out, _ = send(router, from_h1(IP(src="10.0.1.1", dst="192.0.2.1"), UDP()))
    p = out[0][1]
    assert (p[ICMP].type, p[ICMP].code) == (3, 0) and p[IP].dst == "10.0.1.1"


def test_R11_udp_to_the_router_gets_port_unreachable_and_other_protocols_protocol_unreachable(router):
    p = send(router, from_h1(IP(src="10.0.1.1", dst="10.0.1.254"), UDP(dport=9)))[0][0][1]
    assert (p[ICMP].type, p[ICMP].code) == (3, 3)
    p = send(router, from_h1(IP(src="10.0.1.1", dst="10.0.1.254", proto=99), Raw(b"x")))[0][0][1]
    assert (p[ICMP].type, p[ICMP].code) == (3, 2)


def test_R31_tcp_to_the_router_gets_a_reset(router):
    p = send(router, from_h1(IP(src="10.0.1.1", dst="10.0.1.254"), TCP(sport=40000, dport=22, flags="S",
                                                                        seq=1000)))[0][0][1]
    assert p[TCP].flags == "RA" and p[TCP].ack == 1001 and p[TCP].seq == 0


def test_arp_requests_for_the_router_are_answered(router):
    req = Ether(src="08:00:00:00:01:01", dst="ff:ff:ff:ff:ff:ff") / ARP(op=1, hwsrc="08:00:00:00:01:01",
                                                                        psrc="10.0.1.1", pdst="10.0.1.254")
    out, _ = send(router, req)
    p = out[0][1]
    assert out[0][0] == 1 and p[ARP].op == 2 and p[ARP].hwsrc == "00:00:00:00:01:00" and p[ARP].psrc == "10.0.1.254"
    assert p[ARP].hwdst == "08:00:00:00:01:01"
    assert send(router, req.copy().__class__(raw(req).replace(bytes([10, 0, 1, 254]), bytes([10, 0, 1, 99]))))[0] == []


# -- R12, R13, R14, R15: fragmentation ---------------------------------------------------------------

def fragments_of(router, orig):
    out, drops = send(router, orig)
    assert drops == [] or all(d[0] is not DropReason.PIPELINE_ERROR for d in drops)
    return [p for port, p in out if port == 3]


def test_R12_rfc791_example_2_boundaries():
    r = make_router(mtu3=280)
    orig = from_h1(IP(src="10.0.1.1", dst="10.0.3.3", id=111, ttl=64), Raw(bytes(range(256)) + bytes(196)))
    assert len(orig[IP]) == 472
    frags = fragments_of(r, orig)
    assert [(f[IP].len, f[IP].flags.MF, f[IP].frag) for f in frags] == [(276, 1, 0), (216, 0, 32)]
    for f in frags:
        assert f[IP].id == 111 and f[IP].ttl == 63
        assert_checksums_ok(f)
    whole = defragment([f[IP] for f in frags])[0]
    expected = orig[IP].copy()
    expected.ttl = 63
    del expected.chksum
    assert raw(whole.payload) == raw(expected.payload)


def test_R12_1500_bytes_at_mtu_576():
    r = make_router(mtu3=576)
    orig = from_h1(IP(src="10.0.1.1", dst="10.0.3.3", id=7), UDP(sport=5, dport=6), Raw(b"q" * 1472))
    frags = fragments_of(r, orig)
    assert [(f[IP].len, f[IP].frag) for f in frags] == [(572, 0), (572, 69), (396, 138)]
    assert [f[IP].flags.MF for f in frags] == [1, 1, 0]
    assert raw(defragment([f[IP] for f in frags])[0][UDP]) == raw(orig[UDP])


def test_R12_fragments_can_be_fragmented_again():
    r = make_router(mtu3=300)
    # A fragment (MF set, offset 40 units) of some larger datagram: the last piece keeps MF set.
    orig = from_h1(IP(src="10.0.1.1", dst="10.0.3.3", id=9, flags="MF", frag=40), Raw(bytes(700)))
    frags = fragments_of(r, orig)
    # NFB = (300 - 20) / 8 = 35 blocks of data per fragment; offsets add the original 40.
    assert [f[IP].frag for f in frags] == [40, 75, 110]
    assert [len(f[IP].payload) for f in frags] == [280, 280, 140]
    assert all(f[IP].flags.MF for f in frags)


def test_R13_copied_options_go_into_every_fragment_others_only_into_the_first():
    r = make_router(mtu3=200)
    opts = [IPOption(b"\x83\x07\x04\x0a\x00\x03\x03"),     # LSRR (131): copied
            IPOption(b"\x07\x07\x04\x00\x00\x00\x00")]     # Record Route (7): first fragment only
    orig = from_h1(IP(src="10.0.1.1", dst="10.0.3.3", id=3, options=opts), Raw(bytes(400)))
    frags = fragments_of(r, orig)
    assert len(frags) >= 3
    first_opts = [o.option for o in frags[0][IP].options]
    assert 3 in first_opts and 7 in first_opts                # scapy numbers options without the copy bit
    for f in frags[1:]:
        kinds = [o.copy_flag for o in f[IP].options if o.option not in (0, 1)]
        assert kinds and all(kinds)
        assert f[IP].ihl == 7                                  # 20 + 7 option bytes, re-padded to 28
        assert_checksums_ok(f)
    assert raw(defragment([f[IP] for f in frags])[0].payload) == bytes(400)


def test_R14_df_set_gets_fragmentation_needed_with_the_next_hop_mtu():
    r = make_router(mtu3=1400)
    orig = from_h1(IP(src="10.0.1.1", dst="10.0.3.3", flags="DF"), UDP(), Raw(bytes(1472)))
    assert len(orig[IP]) == 1500
    out, drops = send(r, orig)
    assert [port for port, _ in out] == [1]
    p = out[0][1]
    assert (p[ICMP].type, p[ICMP].code) == (3, 4)
    assert raw(p[ICMP])[4:8] == bytes.fromhex("00000578")
    assert any(d[0] is DropReason.FRAGMENTATION_NEEDED for d in drops)


def test_R15_an_mtu_below_68_is_refused_at_configuration():
    from dataplane.router.agent import RouterConfigError
    with pytest.raises(RouterConfigError, match="MTU 67; IPv4 needs at least 68"):
        make_router(mtu3=67)
    make_router(mtu3=68)


def test_every_emitted_packet_dissects_cleanly(router):
    from dataplane.protocols.dissect import dissect
    probes = [from_h1(IP(src="10.0.1.1", dst="10.0.2.2", ttl=t), UDP(), Raw(bytes(n)))
              for t in (1, 2, 64) for n in (0, 100, 700)]
    for probe in probes:
        for _, p in send(router, probe)[0]:
            assert all(l.problem is None for l in dissect(raw(p)))
            assert_checksums_ok(p)
