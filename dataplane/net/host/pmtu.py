"""Path MTU discovery state of a host (R16: RFC 1191 for IPv4; R26: RFC 8201 for IPv6).

The cache holds an estimate per destination, which only ever goes down when
an ICMP message reports a smaller MTU, never below the protocol minimum
(68 for IPv4, 1280 for IPv6), and never up because of such a message. An
IPv4 "fragmentation needed" with a next-hop MTU of 0 (old routers) picks the
next lower value from the plateau table of RFC 1191 section 7. After
AGE_NS (10 minutes, RFC 1191 section 6.3 recommends 10) without a
decrease, the estimate is forgotten and the next packet probes with the
link MTU again (no sooner than 5 minutes after a decrease, as required).
"""

from __future__ import annotations

PLATEAUS = (65535, 32000, 17914, 8166, 4352, 2002, 1492, 1006, 508, 296, 68)   # RFC 1191 section 7
MIN_V4, MIN_V6 = 68, 1280
AGE_NS = 10 * 60 * 1_000_000_000


class PmtuCache:
    def __init__(self, sim, v6: bool):
        self.sim = sim
        self.v6 = v6
        self.entries: dict[int, tuple[int, int]] = {}     # destination -> (mtu, time of the last decrease)
        self.ignored = 0                                    # reports that could not be believed (R26)

    @property
    def minimum(self) -> int:
        return MIN_V6 if self.v6 else MIN_V4

    def mtu(self, dst: int, link_mtu: int) -> int:
        e = self.entries.get(dst)
        if e is None:
            return link_mtu
        mtu, since = e
        if self.sim.now_ns - since >= AGE_NS:
            del self.entries[dst]          # time to probe for an increase
            return link_mtu
        return min(mtu, link_mtu)

    def _lower(self, dst: int, mtu: int) -> None:
        e = self.entries.get(dst)
        # Never raise the estimate because of an ICMP message; an aged estimate no longer counts.
        if e is None or self.sim.now_ns - e[1] >= AGE_NS or mtu < e[0]:
            self.entries[dst] = (mtu, self.sim.now_ns)

    def on_frag_needed(self, dst: int, next_hop_mtu: int, quoted_total_len: int) -> None:
        """RFC 1191: an IPv4 Destination Unreachable, fragmentation needed (3/4)."""
        if next_hop_mtu == 0:
            # An old router: guess the next plateau below the length of the packet it refused.
            next_hop_mtu = next((p for p in PLATEAUS if p < quoted_total_len), MIN_V4)
        self._lower(dst, max(MIN_V4, next_hop_mtu))

    def on_packet_too_big(self, dst: int, mtu: int) -> None:
        """RFC 8201: an ICMPv6 Packet Too Big; one below 1280 is discarded (R26)."""
        if mtu < MIN_V6:
            self.ignored += 1
            return
        self._lower(dst, mtu)
