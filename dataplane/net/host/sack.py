"""Selective acknowledgments: the options of RFC 2018 (with D-SACK, RFC 2883), and the sender's
scoreboard of RFC 6675, for tcp.py.

The options. SACK-permitted (kind 4, length 2) goes on a SYN and a SYN,ACK;
a connection uses SACK only when both carried it. A SACK option (kind 5)
lists up to four blocks [left, right) of data the receiver holds beyond
RCV.NXT: as many as fit in the 40 bytes of TCP options that the segment's
other options leave (4 alone, 3 beside timestamps). Both are aligned with
two NOPs, as Linux writes them.

The receiver (ReceivedBlocks, RFC 2018 section 4): the first block is the
contiguous block holding the segment that arrived last, then the other
blocks, most recently changed first. A duplicate segment is reported once,
as a D-SACK block ahead of them (RFC 2883 section 4).

The sender (Scoreboard, RFC 6675): which octets between HighACK (SND.UNA)
and HighData (SND.NXT) the peer has SACKed, as sorted ranges. Its routines
carry the RFC's names in Python's spelling: update() (Update), is_lost()
(IsLost: DupThresh SACKed ranges, or more than (DupThresh - 1) * SMSS
SACKed bytes, above the octet), next_seg() (NextSeg's rule 1: the first lost
octet not yet retransmitted, cut at the next SACKed range), set_pipe()
(SetPipe). Rules 3 and 4 of NextSeg (retransmitting data not deemed lost,
and the "rescue" retransmission) are left out, as Linux leaves them out
(it dropped forward retransmission in 4.14 and probes the tail of a window
with TLP instead). After a retransmission timeout the scoreboard is kept
(Linux's tcp_enter_loss): every un-SACKed octet sent before the timeout is
lost (`timed_out`), and only those go again. A receiver may discard data it
SACKed (reneging, RFC 2018 section 8, RFC 6675 section 5.1): a cumulative
ACK that stops at SACKed data shows it (`reneged`), and the next timeout
clears the scoreboard (`clear`), as Linux does.

Sequence numbers are modulo 2**32; the scoreboard keeps offsets from
HighACK, so its arithmetic needs no wrap-around.
"""

from __future__ import annotations

import bisect
import struct

__all__ = ["DUP_THRESH", "MAX_OPTION_BYTES", "blocks_option", "parse_blocks",
           "blocks_that_fit", "ReceivedBlocks", "Scoreboard"]

MOD = 1 << 32
HALF = MOD // 2
DUP_THRESH = 3                        # RFC 6675's DupThresh (RFC 5681 3.2)
MAX_OPTION_BYTES = 40                 # a TCP header is at most 60 bytes
NOP = 1
KIND_SACK = 5                       # (SACK-permitted, kind 4, is built with the SYN options: tcp_options.py)
_BLOCK = struct.Struct("!II")


# ---------------------------------------------------------------------------- the options


def blocks_that_fit(room: int) -> int:
    """How many blocks fit in `room` option bytes (two NOPs, kind, length, 8 bytes a block)."""
    return max(0, (room - 4) // 8)


def blocks_option(blocks, room: int = MAX_OPTION_BYTES) -> bytes:
    """NOP, NOP, a SACK option with the first blocks that fit in `room` bytes; b"" for none."""
    blocks = list(blocks)[:blocks_that_fit(room)]
    if not blocks:
        return b""
    return bytes((NOP, NOP, KIND_SACK, 2 + 8 * len(blocks))) + b"".join(
        _BLOCK.pack(left % MOD, right % MOD) for left, right in blocks)


def parse_blocks(value: bytes) -> tuple[tuple[int, int], ...]:
    """The (left, right) edges of a SACK option's value (its bytes after kind and length). A length that is
    not a whole number of blocks is ignored, as Linux ignores it: ()."""
    if not value or len(value) % 8:
        return ()
    return tuple(_BLOCK.unpack_from(value, i) for i in range(0, len(value), 8))


def _lt(a: int, b: int) -> bool:
    return 0 < (b - a) % MOD < HALF


def _le(a: int, b: int) -> bool:
    return (b - a) % MOD < HALF


# ---------------------------------------------------------------------------- the receiver (RFC 2018 section 4)


class ReceivedBlocks:
    """The blocks of out-of-order data a receiver holds, most recently changed first (sequence numbers)."""

    def __init__(self):
        self.blocks: list[tuple[int, int]] = []
        self.dsack: tuple[int, int] | None = None     # a duplicate to report once (RFC 2883)

    def arrived(self, left: int, right: int) -> None:
        """A segment [left, right) beyond RCV.NXT is held: its contiguous block goes first, merged with every
        block it overlaps or touches."""
        kept = []
        for b_left, b_right in self.blocks:
            if _le(b_left, right) and _le(left, b_right):
                left = b_left if _lt(b_left, left) else left
                right = b_right if _lt(right, b_right) else right
            else:
                kept.append((b_left, b_right))
        self.blocks = [(left, right)] + kept

    def duplicate(self, left: int, right: int) -> None:
        """A segment (or part of one) that was already received: the next ACK reports it first (D-SACK)."""
        self.dsack = (left, right)

    def advanced(self, rcv_nxt: int) -> None:
        """RCV.NXT moved: the blocks it reached were taken by the application."""
        if self.blocks:
            self.blocks = [b for b in self.blocks if _lt(rcv_nxt, b[0])]

    def clear(self) -> None:
        self.blocks = []
        self.dsack = None

    def option(self, room: int) -> bytes:
        """The SACK option of the next ACK within `room` option bytes; a D-SACK block is sent once."""
        blocks = self.blocks if self.dsack is None else [self.dsack] + self.blocks
        self.dsack = None
        return blocks_option(blocks, room)

    def option_length(self, room: int = MAX_OPTION_BYTES) -> int:
        """The bytes option(room) would take now (a data segment is cut shorter by them, as Linux's
        tcp_current_mss counts them)."""
        n = min(len(self.blocks) + (self.dsack is not None), blocks_that_fit(room))
        return 4 + 8 * n if n else 0

    def __bool__(self) -> bool:
        return bool(self.blocks) or self.dsack is not None


# ---------------------------------------------------------------------------- the sender (RFC 6675)


class Scoreboard:
    """What the peer has SACKed between HighACK and HighData, and the state of RFC 6675's loss recovery that
    goes with it: HighRxt (`high_rxt`) and the octets a timeout declared lost (`lost_end`). Offsets count
    from HighACK; `high_ack` is the sequence number."""

    def __init__(self, high_ack: int = 0):
        self.high_ack = high_ack
        self._starts: list[int] = []      # SACKed ranges [start, end): sorted, disjoint, never adjacent
        self._ends: list[int] = []
        self.sacked_bytes = 0
        self.high_rxt = 0                 # the octets below it have been retransmitted in this recovery
        self.lost_end = 0                 # after a timeout: every un-SACKed octet below it is lost
        self.reneged = False              # the peer acknowledged less than it had SACKed
        self._boundary: tuple[int, int] | None = None    # (mss, offset): the cache of _lost_boundary

    # -------------------------------------------------------------- queries

    @property
    def ranges(self) -> list[tuple[int, int]]:
        """The SACKed ranges as sequence numbers [left, right)."""
        return [((self.high_ack + s) % MOD, (self.high_ack + e) % MOD) for s, e in zip(self._starts, self._ends)]

    def __bool__(self) -> bool:
        return bool(self._starts)

    def offset(self, seq: int) -> int:
        return (seq - self.high_ack) % MOD

    def sacked(self, seq: int) -> bool:
        off = self.offset(seq)
        i = bisect.bisect_right(self._starts, off) - 1
        return i >= 0 and off < self._ends[i]

    def is_lost(self, seq: int, mss: int) -> bool:
        """IsLost (RFC 6675 4): an un-SACKed octet is lost when DupThresh discontiguous SACKed ranges, or
        more than (DupThresh - 1) * SMSS SACKed bytes, lie above it (or a timeout declared it lost)."""
        off = self.offset(seq)
        return not self.sacked(seq) and off < self._lost_boundary(mss)

    def _lost_boundary(self, mss: int) -> int:
        """The offset below which every un-SACKed octet is lost: the start of the highest SACKed range that
        has enough SACKed data above and in it, or the end of what a timeout declared lost."""
        if self._boundary is not None and self._boundary[0] == mss:
            return self._boundary[1]
        boundary, count, total = 0, 0, 0
        for i in range(len(self._starts) - 1, -1, -1):
            count += 1
            total += self._ends[i] - self._starts[i]
            if count >= DUP_THRESH or total > (DUP_THRESH - 1) * mss:
                boundary = self._starts[i]
                break
        boundary = max(boundary, self.lost_end)
        self._boundary = (mss, boundary)
        return boundary

    def _sacked_below(self, off: int) -> int:
        """SACKed octets at offsets below `off`."""
        total = 0
        for s, e in zip(self._starts, self._ends):
            if s >= off:
                break
            total += min(e, off) - s
        return total

    def set_pipe(self, high_data: int, mss: int) -> int:
        """SetPipe (RFC 6675 4): the octets between HighACK and HighData in the network: those neither SACKed
        nor lost, and the lost ones that were retransmitted (below HighRxt)."""
        end = self.offset(high_data)
        boundary = min(self._lost_boundary(mss), end)
        lost_not_resent = 0
        if boundary > self.high_rxt:
            lost_not_resent = boundary - self.high_rxt - (self._sacked_below(boundary) - self._sacked_below(self.high_rxt))
        return end - self.sacked_bytes - lost_not_resent

    def next_seg(self, high_data: int, mss: int) -> tuple[int, int] | None:
        """NextSeg's rule 1 (RFC 6675 4): (sequence number, length) of the first un-SACKed octets at or after
        HighRxt that are lost, at most an SMSS and not into SACKed data; None when nothing lost is left to
        send. (Rule 2, new data, is the caller's; rules 3 and 4 are left out, as in Linux.)"""
        start = self.high_rxt
        i = bisect.bisect_right(self._starts, start) - 1
        if i >= 0 and start < self._ends[i]:
            start = self._ends[i]                                      # inside a SACKed range: skip it
        if start >= self._lost_boundary(mss):
            return None
        return self.hole_at((self.high_ack + start) % MOD, high_data, mss)

    def hole_at(self, seq: int, high_data: int, mss: int) -> tuple[int, int] | None:
        """(seq, length): the un-SACKed octets from `seq` (not SACKed itself) up to the next SACKed range,
        HighData or an SMSS; None when seq is at or beyond HighData."""
        start, end = self.offset(seq), self.offset(high_data)
        if start >= end:
            return None
        j = bisect.bisect_right(self._starts, start)
        stop = min(start + mss, self._starts[j] if j < len(self._starts) else end, end)
        return seq, stop - start

    # -------------------------------------------------------------- changes

    def update(self, ack: int, blocks, high_data: int) -> int:
        """Update (RFC 6675 4) for an ACK: move HighACK to SEG.ACK, then mark the blocks it SACKs. Blocks
        below SEG.ACK (D-SACK, RFC 2883) or beyond HighData (never sent: not believed) mark nothing.
        Returns how many octets were SACKed that were not before (RFC 6675's sign of a duplicate ACK)."""
        self.advance(ack)
        limit = self.offset(high_data)
        new = 0
        for left, right in blocks:
            s, e = self.offset(left), self.offset(right)
            if e >= HALF or e > limit:
                continue                       # below HighACK, or beyond what was sent
            if s >= HALF:
                s = 0                          # starts below HighACK: the rest counts
            if s < e:
                new += self._mark(s, e)
        return new

    def advance(self, ack: int) -> None:
        """HighACK moves to `ack` (a cumulative ACK). If it stops at or inside a SACKed range, the peer has
        dropped data it had SACKed (reneging)."""
        d = (ack - self.high_ack) % MOD
        if d == 0 or d >= HALF:
            return
        self.high_ack = ack
        self.high_rxt = max(0, self.high_rxt - d)
        self.lost_end = max(0, self.lost_end - d)
        self._boundary = None
        if not self._starts:
            return
        starts, ends = [], []
        sacked = 0
        for s, e in zip(self._starts, self._ends):
            if e <= d:
                continue
            if s <= d:
                self.reneged = True
            s = max(0, s - d)
            starts.append(s)
            ends.append(e - d)
            sacked += e - d - s
        self._starts, self._ends, self.sacked_bytes = starts, ends, sacked
        if not starts:
            self.reneged = False                   # nothing SACKed is left to have been discarded

    def retransmitted(self, seq: int, length: int) -> None:
        """NextSeg's segment went out again: HighRxt moves past it (RFC 6675 5, C.2)."""
        self.high_rxt = max(self.high_rxt, self.offset(seq) + length)

    def start_recovery(self) -> None:
        """A new loss recovery: nothing of it has been retransmitted yet."""
        self.high_rxt = 0

    def timed_out(self, high_data: int) -> None:
        """A retransmission timeout: every un-SACKed octet sent so far is lost and none retransmitted
        (Linux's tcp_timeout_mark_lost). If the peer reneged, what it SACKed is forgotten first."""
        if self.reneged:
            self.clear()
        self.high_rxt = 0
        self.lost_end = self.offset(high_data)
        self._boundary = None

    def clear(self) -> None:
        """Forget every SACKed range (RFC 2018 section 8: the peer may have discarded them)."""
        self._starts, self._ends = [], []
        self.sacked_bytes = 0
        self.reneged = False
        self._boundary = None

    def _mark(self, s: int, e: int) -> int:
        """SACK the offsets [s, e), merging with the ranges it overlaps or touches; returns the new octets."""
        starts, ends = self._starts, self._ends
        i = bisect.bisect_left(ends, s)                   # the first range that ends at or after s
        j = bisect.bisect_right(starts, e)                # the ranges from i to j overlap or touch [s, e)
        if i == j:
            starts.insert(i, s)
            ends.insert(i, e)
            new = e - s
        else:
            covered = sum(ends[k] - starts[k] for k in range(i, j))
            s, e = min(s, starts[i]), max(e, ends[j - 1])
            starts[i:j] = [s]
            ends[i:j] = [e]
            new = (e - s) - covered
        if new:
            self.sacked_bytes += new
            self._boundary = None
        return new
