"""The mri exercise (multi-hop route inspection): h1 sends send.py's packet, whose IPv4 option 31 carries an
empty MRI trace (count 0), to h2 once a second while iperf sends UDP at 1 Mbit/s from h11 to h22 through the
same 512 kbit/s link from s1 to s2. With the solution each switch pushes its id and its queue depth: h2 gets
count 2, switch ids 2 then 1, and a deep queue at s1 while iperf runs. The skeleton adds nothing (count 0)."""

from __future__ import annotations

from dataclasses import dataclass

from dataplane.protocols.checksums import internet_checksum
from dataplane.runtime.trace import DropReason
from exercises import (S, SEND_PY_DPORT, capture, exercise, iperf_udp, network, requires, send_every_second,
                       send_py_frame, skeleton_hint, skeleton_note)

pytestmark = requires("mri")

MRI_OPTION = 31
EMPTY_TRACE = bytes([MRI_OPTION, 4, 0, 0])      # send.py's IPOption_MRI(count=0, swtraces=[])
IPERF_START, IPERF_SECONDS = 5 * S, 15
PACKETS = 30


@dataclass
class Trace:
    option: int
    length: int
    count: int
    hops: list[tuple[int, int]]        # (swid, qdepth), the last switch first


def mri(r) -> Trace:
    options = r.layer("ipv4")["options"]
    count = int.from_bytes(options[2:4], "big")
    hops = [(int.from_bytes(options[4 + 8 * i:8 + 8 * i], "big"), int.from_bytes(options[8 + 8 * i:12 + 8 * i], "big"))
            for i in range(count)]
    return Trace(options[0] & 0x1F, options[1], count, hops)


def experiment(program=None, iperf: bool = True):
    net = network("mri", program=program)
    at_h2 = capture(net, "h2", SEND_PY_DPORT)
    send_every_second(net, "h1", send_py_frame(net, "h1", "10.0.2.2", b"P4 is cool", options=EMPTY_TRACE),
                      PACKETS)
    if iperf:
        iperf_udp(net, "h11", "10.0.2.22", IPERF_SECONDS, start_ns=IPERF_START)
    net.run(40 * S)
    return net, at_h2


def test_each_switch_adds_its_id_and_the_path_is_s1_then_s2():
    net, at_h2 = experiment(iperf=False)
    assert len(at_h2) == PACKETS
    for r in at_h2:
        t = mri(r)
        assert (t.option, t.count, [swid for swid, _ in t.hops], t.hops) == (MRI_OPTION, 2, [2, 1], [(2, 0), (1, 0)])
        ip = r.layer("ipv4")
        assert (ip["ihl"], t.length, ip["totalLen"]) == (5 + 1 + 2 * 2, 4 + 2 * 8, 24 + 16 + 8 + len(b"P4 is cool"))
        assert r.frame.endswith(b"P4 is cool")


def test_the_queue_at_the_bottleneck_is_deep_while_iperf_runs():
    net, at_h2 = experiment()
    depths = [(r.time_ns, dict(mri(r).hops)) for r in at_h2]
    assert all(d[2] == 0 for _, d in depths)                   # s2 forwards to h2 at 1 Gbit/s: no queue
    congested = [d[1] for t, d in depths if IPERF_START + S <= t <= IPERF_START + IPERF_SECONDS * S]
    assert congested and min(congested) >= 10
    quiet = [d[1] for t, d in depths if t < IPERF_START or t > IPERF_START + (IPERF_SECONDS + 2) * S]
    assert quiet and set(quiet) == {0}
    assert {(d.node, d.reason) for d in net.sim.ledger.drops} >= {("s1", DropReason.QUEUE_FULL)}


def test_the_checksum_covers_the_base_header_only_and_the_receiving_stack_drops_it():
    # The solution's update_checksum lists the IPv4 fields without the options, so the checksum is wrong
    # once the trace grows the header: as on BMv2, h2's stack drops the packets (receive.py sniffs them first).
    net, at_h2 = experiment(iperf=False)
    for r in at_h2:
        header = r.ipv4_header()
        assert internet_checksum(header[:20]) == 0 and internet_checksum(header) != 0
    assert [(d.node, d.reason) for d in net.sim.ledger.drops] == [("h2", DropReason.BAD_CHECKSUM)] * PACKETS


def test_without_program_the_run_names_the_skeleton():
    assert skeleton_hint("mri") == ["switches s1 s2 s3 run mri.p4", skeleton_note("mri.p4")]


def test_the_skeleton_adds_no_hop():
    _, at_h2 = experiment(program=exercise("mri") / "mri.p4", iperf=False)
    assert len(at_h2) == PACKETS
    assert {(mri(r).count, mri(r).length) for r in at_h2} == {(0, 4)}
