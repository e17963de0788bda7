"""The basic exercise (IPv4 forwarding): with the solution, every host pings every other one (Mininet's
pingall) in both of its topologies, pod-topo and triangle-topo; the skeleton drops every packet, and the
run says which program ran and how to run the solution."""

from __future__ import annotations

import pytest

from exercises import exercise, network, pingall, requires

pytestmark = requires("basic")


@pytest.mark.parametrize("topology, hosts", [("pod-topo", 4), ("triangle-topo", 3)])
def test_with_the_solution_every_host_reaches_every_other(topology, hosts):
    net = network("basic", f"{topology}/topology.json")
    app = pingall(net)
    assert app.received == len(app.pairs) == hosts * (hosts - 1)
    assert app.render().splitlines()[-1] == f"*** Results: 0% dropped ({len(app.pairs)}/{len(app.pairs)} received)"
    assert not net.summary().problems


def test_the_route_goes_through_the_switches_the_runtime_json_names():
    # pod-topo: h1 and h2 hang off s1, h3 and h4 off s2; s1 reaches h3 through the spine s3 (its port 3).
    net = network("basic", "pod-topo/topology.json")
    app = pingall(net)
    assert app.received == 12
    assert net.devices["s3"].received > 0 and net.devices["s4"].received > 0


def test_the_skeleton_drops_everything_and_the_run_says_how_to_run_the_solution(monkeypatch, capsys):
    from dataplane.cli import main
    monkeypatch.chdir(exercise("basic"))
    assert main(["pingall", "pod-topo/topology.json"]) == 1
    out = capsys.readouterr().out.splitlines()
    assert out[:2] == ["switches s1 s2 s3 s4 run basic.p4",
                       "note: basic.p4 is the exercise's skeleton, left for you to complete; to run the finished "
                       "program add --program solution/basic.p4"]
    assert out[-5:] == ["h1 -> X X X", "h2 -> X X X", "h3 -> X X X", "h4 -> X X X",
                        "*** Results: 100% dropped (0/12 received)"]


def test_the_command_line_runs_the_solution(monkeypatch, capsys):
    from dataplane.cli import main
    monkeypatch.chdir(exercise("basic"))
    assert main(["pingall", "triangle-topo/topology.json", "--program", "solution/basic.p4"]) == 0
    assert capsys.readouterr().out.splitlines() == [
        "switches s1 s2 s3 run solution/basic.p4 (chosen with --program)",
        "*** Ping: testing ping reachability", "h1 -> h2 h3", "h2 -> h1 h3", "h3 -> h1 h2",
        "*** Results: 0% dropped (6/6 received)"]
