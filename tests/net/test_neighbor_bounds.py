"""Bounds on what a host keeps while it resolves neighbours (dataplane/net/host/stack.py, NeighborCache).

Linux's neighbour layer (net/core/neighbour.c) is the model: the packets
waiting for one unresolved address are charged skb->truesize against
unres_qlen_bytes, and one that does not fit pushes out the OLDEST waiting
packets (__neigh_event_send); the table holds at most gc_thresh3 entries.
Every packet ends sent, or dropped with a reason in the ledger.
"""

from __future__ import annotations

import ipaddress
import tracemalloc
from collections import deque

from netlab import MAC_B, two_hosts
from dataplane.net.host.reassembly import SKB_OVERHEAD
from dataplane.net.host.stack import GC_THRESH3, STATIC_EXPIRY_NS, UNRES_QLEN_BYTES
from dataplane.net.sim import Ledger
from dataplane.protocols import packets as P
from dataplane.runtime.trace import DropReason

S = 1_000_000_000
A, NOBODY = P.ip4("10.0.0.1"), P.ip4("10.0.0.99")


def datagram(tag: int = 0, size: int = 1472, dst: int = NOBODY) -> bytes:
    return P.ipv4(A, dst, P.IP_UDP, P.udp(A, dst, 1000, 9, tag.to_bytes(4, "big") + bytes(size - 4)))


class CountingLedger(Ledger):
    """Counts drops by reason without keeping a record each, so that tracemalloc sees what the host holds."""

    def __init__(self):
        super().__init__()
        self.counts: dict[DropReason, int] = {}

    def drop(self, rec, on_link: bool = False) -> None:
        self.counts[rec.reason] = self.counts.get(rec.reason, 0) + 1


def test_400000_datagrams_to_an_unresolved_neighbour_hold_at_most_unres_qlen_bytes():
    sim, a, b, link = two_hosts()
    iface = a.interfaces[1]
    pkt = datagram()
    for _ in range(400_000):
        a.arp.send(iface, NOBODY, pkt)
    waiting = a.arp.pending[NOBODY]
    fits = UNRES_QLEN_BYTES // (len(pkt) + SKB_OVERHEAD)                 # 1500 + 576 bytes each
    assert UNRES_QLEN_BYTES == 212_992 and len(waiting.packets) == fits == 102
    assert a.arp.held_bytes() == fits * (len(pkt) + SKB_OVERHEAD) <= a.arp.peak_queue_bytes <= UNRES_QLEN_BYTES
    assert a.arp.discards == 400_000 - fits
    assert sim.ledger.drops_by_reason() == {"neighbor_queue_full": 400_000 - fits}
    sim.run()
    # Three ARP requests went unanswered: what still waited is dropped, once each.
    assert a.arp.pending == {} and a.arp.held_bytes() == 0
    assert sim.ledger.drops_by_reason() == {"neighbor_queue_full": 400_000 - fits, "no_route": fits}
    assert link.ends[(id(a), 1)].sent == 3                              # the ARP requests, nothing else


def test_memory_held_does_not_grow_with_the_flood():
    peaks = []
    for n in (5_000, 20_000):
        sim, a, b, link = two_hosts()
        sim.ledger = CountingLedger()
        a.events = deque(maxlen=1000)         # the event log is bounded on its own (EVENT_LOG_MAX); keep it small
        iface = a.interfaces[1]
        pkts = [datagram(i) for i in range(100)]
        tracemalloc.start()
        for i in range(n):
            a.arp.send(iface, NOBODY, pkts[i % 100])
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert sim.ledger.counts == {DropReason.NEIGHBOR_QUEUE_FULL: n - 102}
    # 30 MB offered; what is held is the queue (102 references to the packets) and the bounded log.
    assert peaks[1] < 1 << 20 and abs(peaks[1] - peaks[0]) < 64 << 10


def test_the_oldest_waiting_packet_is_dropped_first():
    sim, a, b, link = two_hosts()
    iface = a.interfaces[1]
    pkts = [datagram(i, size=100) for i in range(10)]
    a.arp.queue_bytes = 3 * (len(pkts[0]) + SKB_OVERHEAD)
    for p in pkts:
        a.arp.send(iface, NOBODY, p)
    assert [p for _, p in a.arp.pending[NOBODY].packets] == pkts[-3:]
    drops = sim.ledger.drops
    assert [d.reason for d in drops] == [DropReason.NEIGHBOR_QUEUE_FULL] * 7
    assert drops[0].detail == f"{a.arp.queue_bytes} bytes wait for 10.0.0.99; the oldest packet goes"


def test_a_packet_bigger_than_the_queue_still_waits_alone():
    sim, a, b, link = two_hosts()
    a.arp.queue_bytes = 100                                  # as Linux: the loop stops at an empty queue
    a.arp.send(a.interfaces[1], NOBODY, datagram(1))
    a.arp.send(a.interfaces[1], NOBODY, datagram(2))
    assert [p for _, p in a.arp.pending[NOBODY].packets] == [datagram(2)]
    assert sim.ledger.drops_by_reason() == {"neighbor_queue_full": 1}


def test_queued_packets_go_out_in_order_when_the_neighbour_answers():
    sim, a, b, link = two_hosts()
    got = []
    b.udp_bind(9, lambda pkt, sport, dport, data: got.append(data[:4]))
    for i in range(20):
        a.udp_send(P.ip4("10.0.0.2"), 1000, 9, i.to_bytes(4, "big") + bytes(996))
    sim.run()
    assert got == [i.to_bytes(4, "big") for i in range(20)] and sim.ledger.drops == []


def test_unresolved_addresses_are_bounded_by_gc_thresh3():
    sim, a, b, link = two_hosts()
    iface = a.interfaces[1]
    assert a.arp.max_entries == GC_THRESH3 == 1024
    a.arp.max_entries = 4
    base = int(ipaddress.IPv4Address("10.0.0.100"))
    for i in range(6):
        a.arp.send(iface, base + i, datagram(i, dst=base + i))
    assert sorted(a.arp.pending) == [base + i for i in range(4)]
    assert sim.ledger.drops_by_reason() == {"neighbor_table_full": 2} and a.arp.overflows == 2
    assert sim.ledger.drops[0].detail == "4 addresses being resolved; 10.0.0.104 is not"
    assert a.limits_reached() == ["ARP queues: 0 packets pushed out (212992 bytes per address), "
                                  "2 refused (4 unresolved at most)"]
    sim.run(until_ns=4 * S)                                  # the resolutions fail: room again
    assert a.arp.pending == {}
    a.arp.send(iface, base + 5, datagram(5, dst=base + 5))
    assert list(a.arp.pending) == [base + 5] and a.arp.peak_unresolved == 4


def test_resolved_entries_are_bounded_and_static_ones_kept():
    sim, a, b, link = two_hosts()
    a.arp.max_entries = 8
    static = P.ip4("10.0.0.250")
    a.arp_cache[static] = (MAC_B, STATIC_EXPIRY_NS)
    for i in range(20):
        a.arp.learn(P.ip4("10.0.1.0") + i, 0x020000000100 + i)
    assert len(a.arp.entries) == 8 and static in a.arp.entries
    # The least recently learned go first; learning an address again makes it new.
    assert sorted(a.arp.entries) == sorted([static] + [P.ip4("10.0.1.0") + i for i in range(13, 20)])
    a.arp.learn(P.ip4("10.0.1.13"), 0x020000000199)
    a.arp.learn(P.ip4("10.0.2.1"), 0x020000000200)
    assert P.ip4("10.0.1.13") in a.arp.entries and P.ip4("10.0.1.14") not in a.arp.entries


def test_neighbor_discovery_has_the_same_bounds():
    sim, a, b, link = two_hosts()
    iface = a.interfaces[1]
    src, nobody = P.ip6("2001:db8::1"), P.ip6("2001:db8::99")
    pkt = P.ipv6(src, nobody, P.IP_UDP, P.udp(src, nobody, 1, 9, bytes(1400), v6=True))
    for _ in range(1000):
        a.nd.send(iface, nobody, pkt)
    fits = UNRES_QLEN_BYTES // (len(pkt) + SKB_OVERHEAD)
    assert len(a.nd.pending[nobody].packets) == fits and a.nd.held_bytes() <= UNRES_QLEN_BYTES
    assert sim.ledger.drops_by_reason() == {"neighbor_queue_full": 1000 - fits}
    assert a.limits_reached()[0].startswith(f"ND queues: {1000 - fits} packets pushed out")
