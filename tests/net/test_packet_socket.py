"""Packet sockets of a host (Host.open_packet_socket, Host.send_frame): whole frames in and out, as AF_PACKET."""

from __future__ import annotations

from netlab import MAC_A, MAC_B, two_hosts

from dataplane.protocols import packets as P
from dataplane.runtime.trace import DropReason

BROADCAST = (1 << 48) - 1


def frame(dst: int, src: int, ethertype: int, payload: bytes = b"hello") -> bytes:
    return P.ethernet(dst, src, ethertype, payload)


def test_a_frame_of_an_unknown_ethertype_goes_to_the_socket_and_counts_as_delivered():
    sim, a, b, _ = two_hosts()
    seen = []
    b.open_packet_socket(lambda port, f: seen.append((sim.now_ns, port, f)))
    sent = frame(MAC_B, MAC_A, 0x1234)
    assert a.send_frame(1, sent)
    sim.run()
    assert [(p, f) for _, p, f in seen] == [(1, sent)]
    assert seen[0][0] > 0
    assert sim.ledger.fates["delivered"] == 1 and sim.ledger.total_drops == 0


def test_without_a_socket_the_same_frame_is_dropped_with_its_reason():
    sim, a, b, _ = two_hosts()
    a.send_frame(1, frame(MAC_B, MAC_A, 0x1234))
    sim.run()
    assert sim.ledger.drops_by_reason() == {DropReason.NO_LISTENER.name.lower(): 1}


def test_the_socket_gets_a_copy_and_the_stack_still_answers():
    sim, a, b, _ = two_hosts()
    seen = []
    b.open_packet_socket(lambda port, f: seen.append(f))
    got = []
    a.open_packet_socket(lambda port, f: got.append(f))
    echo = P.ipv4(P.ip4("10.0.0.1"), P.ip4("10.0.0.2"), 1, P.icmp(8, 0, (7 << 16) | 1, b"x"))
    a.send_frame(1, frame(MAC_B, MAC_A, P.ETH_IPV4, echo))
    sim.run()
    def kinds(frames):
        return [(int.from_bytes(f[12:14], "big"), f[34] if f[12:14] == b"\x08\x00" else None) for f in frames]
    # b's socket saw the echo request and a's ARP reply; a's saw b's ARP request and the echo reply
    assert kinds(seen) == [(P.ETH_IPV4, 8), (P.ETH_ARP, None)]
    assert kinds(got) == [(P.ETH_ARP, None), (P.ETH_IPV4, 0)]


def test_frames_for_another_mac_reach_only_a_promiscuous_socket():
    sim, a, b, _ = two_hosts()
    plain, promisc = [], []
    b.open_packet_socket(lambda port, f: plain.append(f))
    b.open_packet_socket(lambda port, f: promisc.append(f), promiscuous=True)
    a.send_frame(1, frame(0x02AA00000001, MAC_A, 0x1234))
    a.send_frame(1, frame(BROADCAST, MAC_A, 0x1234))
    sim.run()
    assert len(plain) == 1 and len(promisc) == 2
    assert sim.ledger.fates["delivered"] == 2


def test_closed_sockets_see_nothing():
    sim, a, b, _ = two_hosts()
    seen = []
    sock = b.open_packet_socket(lambda port, f: seen.append(f))
    sock.close()
    a.send_frame(1, frame(MAC_B, MAC_A, 0x1234))
    sim.run()
    assert seen == [] and sim.ledger.total_drops == 1


def test_a_runt_frame_is_refused_with_a_reason():
    sim, a, b, _ = two_hosts()
    assert not a.send_frame(1, b"\x00" * 10)
    assert sim.ledger.drops_by_reason() == {DropReason.MALFORMED.name.lower(): 1}


def test_an_unclaimed_only_socket_gets_just_what_the_stack_drops_with_the_reason():
    sim, a, b, _ = two_hosts()
    seen = []
    sock = b.open_packet_socket(lambda port, f: seen.append((f, sock.verdict)), unclaimed_only=True)
    echo = P.ipv4(P.ip4("10.0.0.1"), P.ip4("10.0.0.2"), 1, P.icmp(8, 0, (7 << 16) | 1, b"x"))
    a.send_frame(1, frame(MAC_B, MAC_A, P.ETH_IPV4, echo))            # taken: b answers it
    a.send_frame(1, frame(MAC_B, MAC_A, 0x1234))                       # no listener
    broken = bytearray(echo)
    broken[10] ^= 0xFF
    a.send_frame(1, frame(MAC_B, MAC_A, P.ETH_IPV4, bytes(broken)))    # a bad IPv4 header checksum
    sim.run()
    assert [(int.from_bytes(f[12:14], "big"), reason) for f, (reason, _) in seen] == [
        (0x1234, DropReason.NO_LISTENER), (P.ETH_IPV4, DropReason.BAD_CHECKSUM)]
    # The unknown EtherType went to the socket; the broken frame stays a drop with its reason.
    assert sim.ledger.drops_by_reason() == {DropReason.BAD_CHECKSUM.name.lower(): 1}


def test_a_frame_the_sockets_filter_rejects_is_not_taken_and_the_stack_decides_its_fate():
    sim, a, b, _ = two_hosts()
    seen = []
    b.open_packet_socket(lambda port, f: seen.append(f) if f[12:14] == b"\x12\x35" else False)
    a.send_frame(1, frame(MAC_B, MAC_A, 0x1234))
    a.send_frame(1, frame(MAC_B, MAC_A, 0x1235))
    sim.run()
    assert len(seen) == 1
    assert sim.ledger.fates["delivered"] == 1
    assert sim.ledger.drops_by_reason() == {DropReason.NO_LISTENER.name.lower(): 1}
