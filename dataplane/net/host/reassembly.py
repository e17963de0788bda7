"""Reassembly of IPv4 and IPv6 fragments at a host (R17-R25).

One Reassembler per address family. A datagram being reassembled is a
`_Partial`: a byte buffer, an RFC 815 hole list, the fragment with offset 0
(whose header becomes the header of the result), and one timer.

Keys. IPv4: (source, destination, protocol, identification) (RFC 791, R17).
IPv6: (source, destination, identification) (RFC 8200 section 4.5).

Completion (RFC 815). The hole list starts as one hole [0, infinity).
Every fragment removes the part of each hole it covers, leaving at most a
hole before it and a hole after it; the fragment without "more fragments"
fixes the end, so nothing after it is a hole. The datagram is complete when
the end is known and no hole is left. Arrival order does not matter (R17).

Timer (RFC 1122 section 3.3.2, R18, R23). Started by the first fragment of
a datagram and never restarted or taken from the TTL: `timeout_ns` (60 s by
default). When it fires, the partial datagram is dropped with
REASSEMBLY_TIMEOUT, and Time Exceeded code 1 (ICMP 11/1, ICMPv6 3/1) is sent
only if the fragment with offset 0 arrived; it quotes that fragment.

IPv4 overlap policy (R19): the newest copy of overlapping bytes wins, as
RFC 791 describes (each fragment's data is written into the buffer at its
offset, over whatever was there). Exact duplicates are therefore harmless.
If several fragments with offset 0 arrive, the newest one's header (and
options) is used for the result. A fragment that contradicts the known end
of the datagram (a second last fragment with another end, or data past the
end) makes the whole datagram be dropped as MALFORMED, as does a result
longer than 65535 bytes.

IPv6 (RFC 8200 section 4.5, RFC 5722, RFC 6946, RFC 7112):
  - M=1 with a fragment length that is not a multiple of 8: the fragment is
    dropped, Parameter Problem code 0 pointing at the Payload Length (4).
  - offset + length making the reassembled payload longer than 65535: the
    fragment is dropped, Parameter Problem code 0 pointing at the Fragment
    Offset field (the fragment header's offset + 2; 42 without extension
    headers).
  - a first fragment (offset 0) that does not hold the whole chain of
    extension headers after the Fragment header and the start of the
    upper-layer header (UPPER_LAYER_MIN bytes of it; 1 for protocols not in
    that table): dropped, Parameter Problem code 3, pointer 0 (R23).
    These three errors quote the offending fragment.
  - any overlap: the whole datagram is dropped silently (FRAGMENT_OVERLAP,
    no ICMP) (R24). An exact duplicate (same offset, length, M flag and
    bytes) is dropped alone and the reassembly goes on.
  - an atomic fragment (offset 0, M=0) is processed in isolation: it is
    returned at once and pending reassemblies with the same ID are not
    touched (R25).
  The result is the first fragment's unfragmentable part (the IPv6 header
  and the extension headers before the Fragment header), with the next
  header field before the Fragment header set to the Fragment header's
  next header and the Payload Length fixed, followed by the fragmentable
  data.

ECN (RFC 3168 section 5.3, R20), applied to both IPv4 (low 2 bits of the
second header byte) and IPv6 (low 2 bits of the Traffic Class): if any
fragment is CE the result is CE, unless some fragment is Not-ECT, in which
case the datagram is dropped (MALFORMED); a codepoint shared by every
fragment is kept; any other mix (ECT(0) with ECT(1), or Not-ECT with ECT
and no CE) keeps the codepoint of the fragment with offset 0.

Limits, per reassembler (that is per host and address family):
  - memory: MAX_BYTES, Linux's ipfrag_high_thresh (4 MB). A fragment is
    charged as Linux charges skb->truesize, its length plus SKB_OVERHEAD,
    plus however much it grows its datagram's buffer (a fragment far into
    a datagram makes room for the bytes before it). A fragment that would
    go over the limit first EVICTS the least recently used incomplete
    datagrams (the one whose latest fragment is the oldest; for a flood of
    first fragments, the oldest datagram), until it fits: each is dropped
    with REASSEMBLY_EVICTED and without ICMP, because Time Exceeded code 1
    reports the reassembly timer (RFC 792, RFC 1122 3.3.2, RFC 8200 4.5),
    and Linux never sent it for an evicted queue either (its LRU evictor,
    inet_frag_evictor, only killed the queue up to 3.16; the bucket
    evictor of 3.17 to 4.16 went through ip_expire and
    ip6_expire_frag_queue, which skip the ICMP when inet_frag_evicting()).
    Eviction is what Linux did before 4.17, least recently used first up
    to 3.16; since 4.17 it drops new fragments instead and waits for the
    timer, which lets a few incomplete datagrams block every reassembly for
    ipfrag_time (a fragment flood does exactly that).
    The fragment's own datagram is used last, so it is evicted only when it
    alone is over the limit; then the fragment is dropped (REASSEMBLY_LIMIT).
  - fragments per datagram: MAX_FRAGMENTS; one more drops the whole
    datagram (REASSEMBLY_LIMIT), as FreeBSD's net.inet.ip.maxfragsperpacket
    does, so that a datagram cut into tiny pieces cannot make each fragment
    cost a walk over thousands of holes. (Linux bounds the disorder among
    the fragments of one source instead, ipfrag_max_dist.)
  - optionally `max_datagrams` pending datagrams, enforced the same way
    (evicting the least recently used); Linux has no such limit, so it is
    off by default.
`evictions` counts the evicted datagrams and `peak_bytes` the most bytes
ever held, for the run summary.

Everything is deterministic: no wall clock, no randomness; time is the
simulator's.
"""

from __future__ import annotations

import ipaddress
from collections import OrderedDict

from ...protocols.checksums import internet_checksum
from ...runtime.trace import DropReason

MAX_BYTES = 4 * 1024 * 1024         # Linux net.ipv4.ipfrag_high_thresh and net.ipv6.ip6frag_high_thresh
# What Linux's SKB_TRUESIZE() adds to a packet's bytes: struct sk_buff and struct skb_shared_info,
# cache-aligned (about 256 + 320 bytes on 64-bit). The neighbour queues (stack.py) charge it too.
SKB_OVERHEAD = 576
MAX_IP_LEN = 65535
# A 65535-byte IPv4 datagram cut for the 68-byte minimum MTU (RFC 791) makes 1365 fragments of 48 bytes;
# twice that leaves room for fragments cut again on the way and for duplicates.
MAX_FRAGMENTS = 2 * -(-(MAX_IP_LEN - 20) // 48)
_INFINITY = 1 << 32

# IPv6 extension headers that may follow a Fragment header, with their length rule:
# length in 8-octet units not counting the first 8 (RFC 8200 4.*), or 4-octet units plus 2 for AH (RFC 4302).
_EXT_8 = {0, 43, 44, 60, 135, 139, 140}
_EXT_AH = 51
_NO_NEXT_HEADER = 59
# How much of the upper-layer header the first fragment must hold (R23): the fixed header of
# the common protocols; any other protocol must have at least its first byte there.
UPPER_LAYER_MIN = {6: 20, 17: 8, 58: 4, 132: 12, 1: 4, 4: 20, 41: 40, 47: 4}

NOT_ECT, ECT1, ECT0, CE = 0, 1, 2, 3


class _Partial:
    """A datagram being reassembled."""

    __slots__ = ("key", "buffer", "holes", "end", "max_end", "first", "ecn", "held", "count", "timer",
                 "ranges", "started_ns", "used_ns")

    def __init__(self, key, started_ns: int):
        self.key = key
        self.buffer = bytearray()
        self.holes: list[tuple[int, int]] = [(0, _INFINITY)]    # RFC 815, half-open [first, last + 1)
        self.end: int | None = None        # length of the data, once the last fragment arrived
        self.max_end = 0                   # end of the highest byte received
        self.first: bytes | None = None    # the fragment with offset 0 (its whole packet)
        self.ecn: set[int] = set()
        self.held = 0                      # bytes charged for its fragments, for MAX_BYTES
        self.count = 0                     # fragments accepted
        self.timer = None
        self.ranges: set[tuple[int, int, bool]] = set()     # IPv6: (start, end, more) received
        self.started_ns = started_ns
        self.used_ns = started_ns          # when its latest fragment arrived

    def complete(self) -> bool:
        return self.end is not None and not self.holes

    def covers(self, start: int, end: int) -> bool:
        """True if [start, end) lies inside one hole, i.e. overlaps nothing received."""
        return any(hs <= start and end <= he for hs, he in self.holes)

    def fill(self, start: int, end: int, more: bool, data: bytes) -> None:
        """RFC 815 section 3, steps 1-8: remove [start, end) from the holes; write the bytes (newest wins)."""
        holes = []
        for hs, he in self.holes:
            if end <= hs or start >= he:            # steps 2 and 3: this hole is not touched
                holes.append((hs, he))
                continue
            if start > hs:                          # step 5: a hole before the fragment
                holes.append((hs, start))
            if end < he:                            # step 6: a hole after it (cut below if this is the last)
                holes.append((end, he))
        if not more:
            self.end = end
            holes = [(hs, min(he, end)) for hs, he in holes if hs < end]
        self.holes = holes
        if len(self.buffer) < end:
            self.buffer.extend(bytes(end - len(self.buffer)))
        self.buffer[start:end] = data
        self.max_end = max(self.max_end, end)


class Reassembler:
    def __init__(self, sim, v6: bool, timeout_ns: int, send_error, drop,
                 max_datagrams: int | None = None, max_bytes: int = MAX_BYTES,
                 max_fragments: int = MAX_FRAGMENTS):
        """send_error(v6, quoted_datagram, type, code, pointer); drop(reason, detail)."""
        self.sim = sim
        self.v6 = v6
        self.timeout_ns = int(timeout_ns)
        self.send_error = send_error
        self.drop = drop
        self.max_datagrams = max_datagrams
        self.max_bytes = max_bytes
        self.max_fragments = max_fragments
        self.pending: OrderedDict[tuple, _Partial] = OrderedDict()     # least recently used first
        self.bytes_held = 0
        self.peak_bytes = 0
        self.reassembled = 0
        self.timeouts = 0
        self.evictions = 0

    # ------------------------------------------------------------------ shared

    def _name(self, key) -> str:
        if self.v6:
            return f"{ipaddress.IPv6Address(key[0])} > {ipaddress.IPv6Address(key[1])} id {key[2]}"
        return f"{ipaddress.IPv4Address(key[0])} > {ipaddress.IPv4Address(key[1])} proto {key[2]} id {key[3]}"

    @staticmethod
    def charge(p: _Partial | None, size: int, end: int) -> int:
        """What a fragment of `size` bytes ending at `end` costs: its truesize and the buffer it adds."""
        return size + SKB_OVERHEAD + max(0, end - (len(p.buffer) if p is not None else 0))

    def _partial(self, key, size: int, end: int) -> tuple[_Partial | None, int]:
        """The partial datagram for key (made if needed) and the fragment's charge, once it fits in the limits."""
        p = self.pending.get(key)
        if p is not None:
            self.pending.move_to_end(key)         # most recently used: the last one evicted
        cost = self.charge(p, size, end)
        while self.pending and (self.bytes_held + cost > self.max_bytes or self._too_many(p)):
            victim = next(iter(self.pending.values()))
            if victim is p:
                break
            self._evict(victim, cost)
        if self.bytes_held + cost > self.max_bytes:
            self.drop(DropReason.REASSEMBLY_LIMIT, f"reassembly: a fragment of {self._name(key)} costing {cost} "
                                                   f"bytes does not fit in {self.max_bytes}")
            return None, 0
        if p is None:
            p = self.pending[key] = _Partial(key, self.sim.now_ns)
            # The timer names the key only: a cancelled timer stays queued until its time, and must not keep
            # an evicted datagram's buffers alive that long.
            p.timer = self.sim.schedule(self.timeout_ns, self._expire, key)
        p.used_ns = self.sim.now_ns
        return p, cost

    def _too_many(self, p: _Partial | None) -> bool:
        return p is None and self.max_datagrams is not None and len(self.pending) >= self.max_datagrams

    def _evict(self, p: _Partial, cost: int) -> None:
        """Make room by dropping the least recently used datagram; no ICMP (see the module's "Limits")."""
        held, pending = self.bytes_held, len(self.pending)
        self._discard(p)
        self.evictions += 1
        idle = (self.sim.now_ns - p.used_ns) / 1e6
        self.drop(DropReason.REASSEMBLY_EVICTED,
                  f"{self._name(p.key)}: {p.count} fragments, {p.held} bytes, idle {idle:g} ms; the least recently "
                  f"used of {pending} datagrams holding {held} of {self.max_bytes} bytes, evicted for a fragment "
                  f"of {cost} bytes")

    def _too_fragmented(self, p: _Partial) -> bool:
        """MAX_FRAGMENTS: one fragment more drops the whole datagram (see the module's "Limits")."""
        if p.count < self.max_fragments:
            return False
        self._abandon(p, DropReason.REASSEMBLY_LIMIT, f"more than {self.max_fragments} fragments")
        return True

    def _discard(self, p: _Partial) -> None:
        if self.pending.get(p.key) is p:
            del self.pending[p.key]
        self.sim.cancel(p.timer)
        self.bytes_held -= p.held

    def _abandon(self, p: _Partial, reason: DropReason, why: str) -> None:
        self._discard(p)
        self.drop(reason, f"{why}: {self._name(p.key)}, {p.count + 1} fragments discarded")

    def _hold(self, p: _Partial, cost: int) -> None:
        p.held += cost
        p.count += 1
        self.bytes_held += cost
        self.peak_bytes = max(self.peak_bytes, self.bytes_held)

    def _expire(self, key) -> None:
        """R18 / R23: the fixed timer fired before the datagram was complete. Every way out of `pending`
        cancels the timer, so the datagram under `key` is the one it was started for."""
        p = self.pending[key]
        self._discard(p)
        self.timeouts += 1
        if p.first is not None:
            self.send_error(self.v6, p.first, 3 if self.v6 else 11, 1, 0)
        self.drop(DropReason.REASSEMBLY_TIMEOUT,
                  f"{self._name(key)}: {p.count} fragments after {self.timeout_ns / 1e9:g} s"
                  + ("" if p.first is not None else " (no first fragment: no ICMP)"))

    @staticmethod
    def _ecn(p: _Partial, first_ecn: int) -> int | None:
        """R20 (RFC 3168 5.3): the codepoint of the result, or None to drop the datagram."""
        if CE in p.ecn:
            return None if NOT_ECT in p.ecn else CE
        if len(p.ecn) == 1:
            return next(iter(p.ecn))
        return first_ecn

    # ------------------------------------------------------------------ IPv4 (RFC 791, RFC 815)

    def add_ipv4(self, datagram: bytes) -> bytes | None:
        ihl = (datagram[0] & 0x0F) * 4
        total = int.from_bytes(datagram[2:4], "big")
        datagram = bytes(datagram[:total])
        word = int.from_bytes(datagram[6:8], "big")
        more = bool(word & 0x2000)
        start = (word & 0x1FFF) * 8
        data = datagram[ihl:]
        end = start + len(data)
        if start == 0 and not more:
            return datagram                      # not a fragment
        key = (int.from_bytes(datagram[12:16], "big"), int.from_bytes(datagram[16:20], "big"), datagram[9],
               int.from_bytes(datagram[4:6], "big"))
        if ihl + end > MAX_IP_LEN:
            p = self.pending.get(key)
            if p is not None:
                self._abandon(p, DropReason.MALFORMED, f"fragment ends at {ihl + end} bytes, over 65535")
            else:
                self.drop(DropReason.MALFORMED, f"fragment of {self._name(key)} ends at {ihl + end} bytes, "
                                                f"over 65535")
            return None
        if more and not data:
            self.drop(DropReason.MALFORMED, f"empty fragment with MF of {self._name(key)}")
            return None
        p, cost = self._partial(key, len(datagram), end)
        if p is None:
            return None
        if (p.end is not None and (end > p.end or (not more and end != p.end))) or (not more and p.max_end > end):
            self._abandon(p, DropReason.MALFORMED, "fragments disagree on the end of the datagram")
            return None
        if self._too_fragmented(p):
            return None
        self._hold(p, cost)
        p.fill(start, end, more, data)           # R19: newest copy wins
        p.ecn.add(datagram[1] & 3)
        if start == 0:
            p.first = datagram
        if not p.complete():
            return None
        self._discard(p)
        ihl0 = (p.first[0] & 0x0F) * 4
        hdr = bytearray(p.first[:ihl0])
        length = ihl0 + p.end
        if length > MAX_IP_LEN:
            self.drop(DropReason.MALFORMED, f"reassembled {self._name(key)} is {length} bytes, over 65535")
            return None
        ecn = self._ecn(p, p.first[1] & 3)
        if ecn is None:
            self.drop(DropReason.MALFORMED, f"{self._name(key)}: CE and Not-ECT fragments (RFC 3168 5.3)")
            return None
        hdr[1] = (hdr[1] & 0xFC) | ecn
        hdr[2:4] = length.to_bytes(2, "big")
        hdr[6:8] = (int.from_bytes(hdr[6:8], "big") & 0xC000).to_bytes(2, "big")   # keep DF; MF 0, offset 0
        hdr[10:12] = b"\x00\x00"
        hdr[10:12] = internet_checksum(bytes(hdr)).to_bytes(2, "big")
        self.reassembled += 1
        return bytes(hdr) + bytes(p.buffer[:p.end])

    # ------------------------------------------------------------------ IPv6 (RFC 8200 4.5)

    def add_ipv6(self, datagram: bytes, frag_offset: int) -> bytes | None:
        datagram = bytes(datagram)
        if len(datagram) < frag_offset + 8 or frag_offset < 40:
            self.drop(DropReason.MALFORMED, "truncated IPv6 Fragment header")
            return None
        nh_pos = _next_header_field(datagram, frag_offset)
        if nh_pos is None:
            self.drop(DropReason.MALFORMED, "IPv6 extension headers do not lead to the Fragment header")
            return None
        fh = datagram[frag_offset:frag_offset + 8]
        frag_nh = fh[0]
        word = int.from_bytes(fh[2:4], "big")
        start = (word >> 3) * 8
        more = bool(word & 1)
        ident = int.from_bytes(fh[4:8], "big")
        data = datagram[frag_offset + 8:]
        end = start + len(data)
        key = (int.from_bytes(datagram[8:24], "big"), int.from_bytes(datagram[24:40], "big"), ident)
        unfragmentable = frag_offset - 40          # extension headers before the Fragment header
        if more and len(data) % 8:
            self.send_error(True, datagram, 4, 0, 4)
            self.drop(DropReason.MALFORMED, f"fragment of {self._name(key)} with M=1 and {len(data)} bytes, "
                                            f"not a multiple of 8 (Parameter Problem, pointer 4)")
            return None
        if unfragmentable + end > MAX_IP_LEN:
            self.send_error(True, datagram, 4, 0, frag_offset + 2)
            self.drop(DropReason.MALFORMED, f"fragment of {self._name(key)} would make a payload of "
                                            f"{unfragmentable + end} bytes, over 65535 (Parameter Problem, "
                                            f"pointer {frag_offset + 2})")
            return None
        if start == 0 and not _has_upper_layer(frag_nh, data):
            self.send_error(True, datagram, 4, 3, 0)
            self.drop(DropReason.MALFORMED, f"first fragment of {self._name(key)} lacks the upper-layer header "
                                            f"(Parameter Problem code 3)")
            return None
        if start == 0 and not more:
            # R25 (RFC 6946): an atomic fragment, processed in isolation from any reassembly.
            return _rebuild6(datagram, frag_offset, nh_pos, frag_nh, data, None)
        if more and not data:
            self.drop(DropReason.MALFORMED, f"empty fragment with M=1 of {self._name(key)}")
            return None
        p = self.pending.get(key)
        if p is not None:
            if (start, end, more) in p.ranges and bytes(p.buffer[start:end]) == data:
                self.drop(DropReason.FRAGMENT_OVERLAP,
                          f"exact duplicate fragment of {self._name(key)} at {start} dropped alone")
                return None
            if (p.end is not None and end > p.end) or (not more and (p.max_end > end or p.end not in (None, end))):
                self._abandon(p, DropReason.MALFORMED, "fragments disagree on the end of the datagram")
                return None
            if not p.covers(start, end):
                # R24 (RFC 5722): any overlap abandons the datagram, silently (no ICMP).
                self._abandon(p, DropReason.FRAGMENT_OVERLAP, f"fragment [{start}, {end}) overlaps")
                return None
        p, cost = self._partial(key, len(datagram), end)
        if p is None or self._too_fragmented(p):
            return None
        self._hold(p, cost)
        p.fill(start, end, more, data)
        p.ranges.add((start, end, more))
        p.ecn.add((datagram[1] >> 4) & 3)
        if start == 0:
            p.first = datagram
        if not p.complete():
            return None
        self._discard(p)
        first = p.first
        f_off = _fragment_header_offset(first)
        ecn = self._ecn(p, (first[1] >> 4) & 3)
        if ecn is None:
            self.drop(DropReason.MALFORMED, f"{self._name(key)}: CE and Not-ECT fragments (RFC 3168 5.3)")
            return None
        out = _rebuild6(first, f_off, _next_header_field(first, f_off), first[f_off], bytes(p.buffer[:p.end]), ecn)
        if len(out) - 40 > MAX_IP_LEN:
            self.drop(DropReason.MALFORMED, f"reassembled {self._name(key)} is over 65535 bytes")
            return None
        self.reassembled += 1
        return out


def _next_header_field(datagram: bytes, frag_offset: int) -> int | None:
    """The position of the next-header field that names the Fragment header (6 if no extension headers)."""
    pos, off = 6, 40
    while off < frag_offset:
        if off + 2 > len(datagram):
            return None
        pos, off = off, off + 8 * (datagram[off + 1] + 1)
    return pos if off == frag_offset else None


def _fragment_header_offset(datagram: bytes) -> int:
    """Where the Fragment header of a (validated) fragment starts."""
    nh, off = datagram[6], 40
    while nh != 44:
        nh, off = datagram[off], off + 8 * (datagram[off + 1] + 1)
    return off


def _has_upper_layer(nh: int, data: bytes) -> bool:
    """R23 (RFC 8200 4.5, RFC 7112): the first fragment holds every header through the upper-layer header."""
    off = 0
    while nh in _EXT_8 or nh == _EXT_AH:
        if off + 2 > len(data):
            return False
        length = (data[off + 1] + 2) * 4 if nh == _EXT_AH else (data[off + 1] + 1) * 8
        nh, off = data[off], off + length
        if off > len(data):
            return False
    if nh == _NO_NEXT_HEADER:
        return True
    return len(data) - off >= UPPER_LAYER_MIN.get(nh, 1)


def _rebuild6(first: bytes, frag_offset: int, nh_pos: int, frag_nh: int, data: bytes, ecn: int | None) -> bytes:
    """The unfragmentable part of the first fragment, without the Fragment header, then the data."""
    out = bytearray(first[:frag_offset])
    out[nh_pos] = frag_nh
    out[4:6] = (frag_offset - 40 + len(data)).to_bytes(2, "big")
    if ecn is not None:
        out[1] = (out[1] & 0xCF) | (ecn << 4)
    return bytes(out) + data
