"""The firewall exercise: s1 runs the stateful firewall (a Bloom filter of the TCP connections opened from
inside), s2, s3 and s4 the exercise's basic.p4. h1 and h2 (inside, on s1) open TCP connections to each other
and to h3 and h4 (outside, on s2); h3 and h4 open them to each other but not to h1 or h2, whose s1 drops
their SYNs. The skeleton lets everything through, as the README says of `iperf h3 h1`."""

from __future__ import annotations

import pytest

from dataplane.net.transfers import TcpTransfer
from dataplane.runtime.trace import DropReason
from exercises import S, exercise, network, requires, skeleton_hint, skeleton_note, solution

pytestmark = requires("firewall")

TOPOLOGY = "pod-topo/topology.json"
INSIDE, OUTSIDE = ("h1", "h2"), ("h3", "h4")
PAIRS = [(a, b) for a in INSIDE + OUTSIDE for b in INSIDE + OUTSIDE if a != b]


def connections(**how) -> tuple[dict[tuple[str, str], bool], object]:
    """Mininet's `iperf A B` for every pair in turn (a TCP transfer of 20 kB): which ones got through."""
    net = network("firewall", TOPOLOGY, **how)
    transfers = {(a, b): TcpTransfer(net, a, b, nbytes=20_000).start(i * 5 * S) for i, (a, b) in enumerate(PAIRS)}
    net.run(len(PAIRS) * 5 * S + 30 * S)
    return {pair: t.intact for pair, t in transfers.items()}, net


def expected(pair) -> bool:
    return not (pair[0] in OUTSIDE and pair[1] in INSIDE)


def test_the_switches_run_what_the_topology_names():
    net = network("firewall", TOPOLOGY, programs={"s1": solution("firewall")})
    assert {name: spec.program for name, spec in net.topo.nodes.items() if spec.kind == "p4"} == {
        "s1": str(solution("firewall")), **{s: str(exercise("firewall") / "basic.p4") for s in ("s2", "s3", "s4")}}


def test_inside_hosts_connect_anywhere_outside_hosts_only_to_each_other():
    got, net = connections(programs={"s1": solution("firewall")})
    assert got == {pair: expected(pair) for pair in PAIRS}
    # Each refused connection is its SYN and the SYN's retransmissions, dropped by s1's program.
    drops = {(d.node, d.reason) for d in net.sim.ledger.drops}
    assert drops == {("s1", DropReason.MARK_TO_DROP)}
    assert not net.summary().problems


def test_the_same_with_the_solution_on_every_switch():
    # `--program solution/firewall.p4` runs it on s2..s4 too: their runtime JSON leaves check_ports empty,
    # so they only forward.
    got, _ = connections(program=solution("firewall"))
    assert got == {pair: expected(pair) for pair in PAIRS}


def test_without_program_the_run_names_the_skeleton():
    # basic.p4 is finished (the basic exercise's solution): only s1's program is the exercise's to complete.
    assert skeleton_hint("firewall", TOPOLOGY) == ["switch s1 runs firewall.p4", skeleton_note("firewall.p4"),
                                                   "switches s2 s3 s4 run basic.p4"]


@pytest.mark.parametrize("pair", [("h3", "h1"), ("h4", "h2")])
def test_the_skeleton_lets_outside_hosts_in(pair):
    net = network("firewall", TOPOLOGY, programs={})
    transfer = TcpTransfer(net, *pair, nbytes=20_000).start(0)
    net.run(10 * S)
    assert transfer.intact
