"""The SACK options (RFC 2018, RFC 2883) and RFC 6675's scoreboard (dataplane/net/host/sack.py), with
hand-built ACKs. Segments are 1000 bytes (SMSS) from sequence number 0 unless a test says otherwise; the
sender has sent 10 of them (HighData 10000)."""

from __future__ import annotations

import pytest

from dataplane.net.host.tcp_options import syn_options
from dataplane.net.host.sack import (DUP_THRESH, MAX_OPTION_BYTES, ReceivedBlocks, Scoreboard, blocks_option,
                                     blocks_that_fit, parse_blocks)
from dataplane.net.host.tcp import parse_segment
from dataplane.protocols import packets as P

MSS = 1000
HIGH_DATA = 10_000
MOD = 1 << 32


def board(*blocks, ack: int = 0, high_data: int = HIGH_DATA) -> Scoreboard:
    sb = Scoreboard(ack)
    sb.update(ack, blocks, high_data)
    return sb


# ---------------------------------------------------------------------------- the options


def test_sack_permitted_is_kind_4_length_2_after_two_nops():
    assert syn_options(1460, sack_permitted=True)[4:] == bytes([1, 1, 4, 2])      # NOP, NOP, SACK-permitted


@pytest.mark.parametrize("room, fit", [(40, 4), (28, 3), (20, 2), (12, 1), (8, 0)])
def test_the_blocks_that_fit_in_the_room_the_other_options_leave(room, fit):
    """40 bytes alone give 4 blocks; beside timestamps (12 bytes with their NOPs) 3 (RFC 2018 section 3)."""
    assert blocks_that_fit(room) == fit
    blocks = [(i * 100, i * 100 + 50) for i in range(5)]
    option = blocks_option(blocks, room)
    assert len(option) == (4 + 8 * fit if fit else 0) and len(option) <= room
    if fit:
        assert option[:4] == bytes([1, 1, 5, 2 + 8 * fit])
        assert parse_blocks(option[4:]) == tuple(blocks[:fit])


def test_blocks_are_parsed_from_a_segment_and_a_bad_length_is_ignored():
    option = blocks_option([(MOD - 10, 5), (100, 200)])
    seg = parse_segment(P.tcp(1, 2, 3, 4, 0, 0, "ack", options=option))
    assert seg.sack == ((MOD - 10, 5), (100, 200)) and not seg.sack_permitted
    bad = bytes([5, 14]) + bytes(12)                     # 12 bytes are not a whole number of blocks: Linux ignores it
    assert parse_segment(P.tcp(1, 2, 3, 4, 0, 0, "ack", options=bad)).sack == ()
    syn = parse_segment(P.tcp(1, 2, 3, 4, 0, 0, "syn", options=syn_options(1460, sack_permitted=True)))
    assert syn.sack_permitted and syn.mss == 1460


# ---------------------------------------------------------------------------- the receiver's blocks


def test_the_first_block_holds_the_latest_segment_then_the_most_recent_others():
    rx = ReceivedBlocks()
    rx.arrived(2000, 3000)
    rx.arrived(4000, 5000)
    rx.arrived(6000, 7000)
    assert rx.blocks == [(6000, 7000), (4000, 5000), (2000, 3000)]
    rx.arrived(3000, 4000)                               # fills the gap between two blocks: one block, first
    assert rx.blocks == [(2000, 5000), (6000, 7000)]
    rx.arrived(7000, 8000)                               # extends a block: it moves to the front
    assert rx.blocks == [(6000, 8000), (2000, 5000)]


def test_blocks_the_receiver_took_are_dropped_and_a_dsack_is_reported_once_first():
    rx = ReceivedBlocks()
    rx.arrived(2000, 3000)
    rx.arrived(5000, 6000)
    rx.advanced(4000)                                    # RCV.NXT moved past the first block
    assert rx.blocks == [(5000, 6000)]
    rx.duplicate(1000, 2000)
    assert parse_blocks(rx.option(MAX_OPTION_BYTES)[4:]) == ((1000, 2000), (5000, 6000))
    assert parse_blocks(rx.option(MAX_OPTION_BYTES)[4:]) == ((5000, 6000),)
    rx.advanced(6000)
    assert not rx and rx.option(MAX_OPTION_BYTES) == b""


def test_receiver_blocks_across_the_sequence_number_wrap():
    rx = ReceivedBlocks()
    rx.arrived(MOD - 1000, 0)
    rx.arrived(0, 1000)
    assert rx.blocks == [(MOD - 1000, 1000)]
    rx.advanced(MOD - 2000)
    assert rx.blocks == [(MOD - 1000, 1000)]             # not reached: RCV.NXT is before it
    rx.advanced(1000)
    assert rx.blocks == []


# ---------------------------------------------------------------------------- Update


def test_update_merges_ranges_and_counts_only_new_octets():
    sb = Scoreboard(0)
    assert sb.update(0, [(2000, 3000)], HIGH_DATA) == 1000
    assert sb.update(0, [(2000, 3000)], HIGH_DATA) == 0               # the same block again: no news
    assert sb.update(0, [(3000, 4000), (2500, 2600)], HIGH_DATA) == 1000
    assert sb.ranges == [(2000, 4000)] and sb.sacked_bytes == 2000
    assert sb.update(0, [(6000, 7000), (1000, 2000)], HIGH_DATA) == 2000
    assert sb.ranges == [(1000, 4000), (6000, 7000)]


def test_update_ignores_blocks_below_the_ack_and_beyond_high_data():
    sb = Scoreboard(0)
    assert sb.update(3000, [(1000, 2000)], HIGH_DATA) == 0             # a D-SACK below SEG.ACK (RFC 2883)
    assert sb.update(3000, [(9000, 11_000)], HIGH_DATA) == 0           # never sent: not believed
    assert sb.update(3000, [(2000, 4000)], HIGH_DATA) == 1000          # straddles SEG.ACK: the part above
    assert sb.ranges == [(3000, 4000)] and sb.high_ack == 3000


def test_a_cumulative_ack_forgets_what_it_covers():
    sb = board((2000, 3000), (5000, 6000))
    sb.update(4000, [(5000, 6000)], HIGH_DATA)
    assert sb.ranges == [(5000, 6000)] and sb.sacked_bytes == 1000 and not sb.reneged


def test_scoreboard_across_the_sequence_number_wrap():
    base = MOD - 2500
    sb = Scoreboard(base)
    high = (base + HIGH_DATA) % MOD
    assert sb.update(base, [((base + 1000) % MOD, (base + 2000) % MOD), (500, 1500)], high) == 2000
    assert sb.ranges == [(MOD - 1500, MOD - 500), (500, 1500)]
    sb.update(0, [], high)
    assert sb.ranges == [(500, 1500)] and sb.high_ack == 0


# ---------------------------------------------------------------------------- IsLost


def test_islost_needs_dupthresh_sacked_ranges_above():
    assert DUP_THRESH == 3
    sb = board((1000, 2000), (3000, 4000))
    assert not sb.is_lost(0, MSS)                        # two ranges, 2000 bytes: not more than 2 SMSS
    sb.update(0, [(5000, 6000)], HIGH_DATA)
    assert sb.is_lost(0, MSS)                            # three discontiguous ranges above
    assert not sb.is_lost(2000, MSS)                     # two above it
    assert not sb.is_lost(4000, MSS) and not sb.is_lost(9000, MSS)


def test_islost_or_more_than_dupthresh_minus_one_segments_of_sacked_bytes():
    assert not board((1000, 3000)).is_lost(0, MSS)       # exactly 2 SMSS
    assert board((1000, 3001)).is_lost(0, MSS)           # more than (DupThresh - 1) * SMSS in one range
    assert not board((1000, 3001)).is_lost(0, 1460)      # the SMSS counts


# ---------------------------------------------------------------------------- SetPipe and NextSeg


def test_setpipe_counts_what_is_neither_sacked_nor_lost_and_the_retransmissions():
    sb = board((1000, 2000), (3000, 4000), (5000, 6000))
    # [0, 1000) lost; [2000, 3000) and [4000, 5000) not (fewer than three ranges above); [6000, 10000) in flight.
    assert sb.set_pipe(HIGH_DATA, MSS) == 10_000 - 3000 - 1000
    sb.retransmitted(0, 1000)
    assert sb.set_pipe(HIGH_DATA, MSS) == 10_000 - 3000
    assert Scoreboard(0).set_pipe(HIGH_DATA, MSS) == HIGH_DATA        # nothing SACKed: FlightSize


def test_nextseg_sends_lost_octets_once_and_never_sacked_ones():
    sb = board((1000, 2000), (3000, 4000), (5000, 6000))
    assert sb.next_seg(HIGH_DATA, MSS) == (0, 1000)
    sb.retransmitted(0, 1000)
    assert sb.next_seg(HIGH_DATA, MSS) is None           # [2000, 3000) is not lost yet
    sb.update(0, [(7000, 8000)], HIGH_DATA)              # a third range above it now
    assert sb.next_seg(HIGH_DATA, MSS) == (2000, 1000)
    sb.retransmitted(2000, 1000)
    assert sb.next_seg(HIGH_DATA, MSS) is None           # [4000, 5000) has two ranges above: not lost


def test_nextseg_cuts_a_hole_at_the_next_sacked_range():
    sb = board((1500, 2000), (3000, 4000), (5000, 6000), (7000, 8000))
    assert sb.next_seg(HIGH_DATA, 1460) == (0, 1460)
    sb.retransmitted(0, 1460)
    assert sb.next_seg(HIGH_DATA, 1460) == (1460, 40)    # up to the SACKed range, not into it
    assert sb.hole_at(0, HIGH_DATA, 1460) == (0, 1460)
    assert sb.hole_at(9500, HIGH_DATA, 1460) == (9500, 500)


# ---------------------------------------------------------------------------- timeouts and reneging


def test_after_a_timeout_every_unsacked_octet_is_lost_and_sacked_ones_stay():
    sb = board((1000, 2000), (3000, 4000))
    assert sb.next_seg(HIGH_DATA, MSS) is None           # nothing lost by the SACK rules
    sb.timed_out(HIGH_DATA)
    holes = []
    while (hole := sb.next_seg(HIGH_DATA, MSS)) is not None:
        holes.append(hole)
        sb.retransmitted(*hole)
    assert holes == [(0, 1000), (2000, 1000)] + [(s, 1000) for s in range(4000, 10_000, 1000)]
    assert sb.ranges == [(1000, 2000), (3000, 4000)]


def test_an_ack_that_stops_at_sacked_data_is_reneging_and_the_timeout_clears_the_scoreboard():
    """RFC 2018 section 8: the receiver may discard what it SACKed. The ACK that stops at SACKed data shows it
    (Linux's FLAG_SACK_RENEGING); the timeout then forgets every range, so all of it is sent again."""
    sb = board((1000, 2000), (3000, 4000))
    sb.update(1000, [], HIGH_DATA)
    assert sb.reneged
    sb.timed_out(HIGH_DATA)
    assert sb.ranges == [] and not sb.reneged
    assert sb.next_seg(HIGH_DATA, MSS) == (1000, 1000)


def test_reneging_is_forgotten_once_nothing_sacked_is_left():
    sb = board((1000, 2000))
    sb.update(1000, [], HIGH_DATA)
    assert sb.reneged
    sb.update(2500, [], HIGH_DATA)                       # the peer had it after all
    assert not sb.reneged and sb.ranges == []
