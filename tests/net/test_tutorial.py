"""P4 tutorials topologies (dataplane/net/tutorial.py): an exercise directory runs as it is.

The fixture tutorial_fixture/basic/ is shaped like a tutorials exercise: the
program basic.p4 (a copy of our programs/basic_ipv4.p4, which uses the
tutorial's table and action names) in the exercise directory, and a pod
topology in pod-topo/: leaves s1 (h1, h2) and s2 (h3, h4), spines s3 and s4,
with one runtime JSON per switch naming "build/basic.json".

Error tests copy the fixture, change one thing in topology.json, and check
the message and the file:line:col it points at (found by searching the
changed text, so the expected position cannot drift from the file).
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from p4helpers import PROGRAMS
from dataplane.diagnostics import DiagnosticError
from dataplane.net.apps import Ping
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.net.tutorial import load_tutorial_topology

FIXTURE = Path(__file__).parent / "tutorial_fixture" / "basic"
TOPOLOGY = FIXTURE / "pod-topo" / "topology.json"
MS = 1_000_000


@pytest.fixture
def exercise(tmp_path) -> Path:
    """A copy of the fixture exercise that a test may change."""
    return Path(shutil.copytree(FIXTURE, tmp_path / "basic"))


def edit(exercise: Path, old: str, new: str, name: str = "pod-topo/topology.json") -> str:
    """Replace the first `old` in one of the exercise's files; returns the new text."""
    path = exercise / name
    text = path.read_text()
    assert old in text, f"{old!r} is not in {name}"
    text = text.replace(old, new, 1)
    path.write_text(text)
    return text


def where(text: str, needle: str, after: str = "") -> tuple[int, int]:
    """1-based (line, column) of the first `needle` in text (after the first `after`)."""
    start = text.index(after) + len(after) if after else 0
    before = text[: text.index(needle, start)]
    return before.count("\n") + 1, len(before) - (before.rfind("\n") + 1) + 1


def load_error(path: Path, **kwargs):
    with pytest.raises(DiagnosticError) as exc:
        load_tutorial_topology(str(path), **kwargs)
    [d] = exc.value.diagnostics
    return d, str(exc.value)


def assert_error_at(exercise: Path, text: str, needle: str, message: str, after: str = ""):
    """Loading fails with `message`, pointing at `needle` in `text` (topology.json after the edit), rendered
    with the source line and a caret under it; returns the diagnostic."""
    path = exercise / "pod-topo" / "topology.json"
    d, rendered = load_error(path)
    line, col = where(text, needle, after)
    assert message in d.message
    assert (d.span.path, d.span.line, d.span.col) == (str(path), line, col)
    first, source, caret = rendered.splitlines()[:3]
    assert first == f"{path}:{line}:{col}: error: {d.message}"
    assert source == "    " + text.splitlines()[line - 1]
    assert caret.index("^") == 4 + col - 1
    return d


# ---------------------------------------------------------------------------- loading


def test_the_fixture_program_is_our_basic_ipv4():
    # The fixture stands for an exercise's basic.p4; it must stay the program whose names the entries use.
    assert (FIXTURE / "basic.p4").read_text() == (PROGRAMS / "basic_ipv4.p4").read_text()


def test_hosts_switches_and_links_of_the_pod():
    topo = load_tutorial_topology(str(TOPOLOGY))
    assert topo.name == "basic/pod-topo/topology.json"
    assert [n for n, s in topo.nodes.items() if s.kind == "host"] == ["h1", "h2", "h3", "h4"]
    assert [n for n, s in topo.nodes.items() if s.kind == "p4"] == ["s1", "s2", "s3", "s4"]

    h1 = topo.nodes["h1"]
    assert list(h1.interfaces) == ["eth0"]
    assert str(h1.interfaces["eth0"].ipv4) == "10.0.1.1/24"
    assert h1.interfaces["eth0"].mac == 0x080000000101
    assert h1.gateway4 == 0x0A0001FE and h1.gateway6 is None
    assert h1.options["static_arp"] == {0x0A0001FE: 0x0800000001FE}

    s1 = topo.nodes["s1"]
    # The program comes from the runtime JSON's bmv2_json (build/basic.json -> basic.p4 of the exercise),
    # and the runtime JSON from a path relative to the exercise directory, the topology file's parent.
    assert s1.program == str(FIXTURE / "basic.p4")
    assert s1.entries == str(FIXTURE / "pod-topo" / "s1-runtime.json")
    assert [(name, i.port) for name, i in s1.interfaces.items()] == [("p1", 1), ("p2", 2), ("p3", 3), ("p4", 4)]
    assert list(topo.nodes["s3"].interfaces) == ["p1", "p2"]


def test_links_with_latency_and_bandwidth():
    topo = load_tutorial_topology(str(TOPOLOGY))
    links = {l.name: l for l in topo.links}
    assert list(links) == ["h1-s1", "h2-s1", "h3-s2", "h4-s2", "s1-s3", "s1-s4", "s2-s3", "s2-s4"]
    assert (links["h1-s1"].a, links["h1-s1"].b) == (("h1", "eth0"), ("s1", "p1"))
    assert all(l.mtu == 1500 for l in topo.links)
    # ["s1-p3", "s3-p1", "0", 100], ["s1-p4", "s4-p1", "2ms", 50], ["s2-p3", "s3-p2", 0.5], ["s2-p4", "s4-p2"]
    # What a link leaves out gets the defaults of every topology: 0.1 ms and 1 Gbit/s.
    assert [(links[n].latency_ns, links[n].bandwidth_bps) for n in ("s1-s3", "s1-s4", "s2-s3", "s2-s4")] == \
        [(0, 100e6), (2 * MS, 50e6), (MS // 2, 1e9), (MS // 10, 1e9)]
    assert topo.graph.number_of_nodes() == 8 and topo.graph.number_of_edges() == 8
    assert topo.positions is not None


@pytest.mark.parametrize("latency, ns", [(3, 3 * MS), ('"3ms"', 3 * MS), ('"3 msec"', 3 * MS), ('"3"', 3000),
                                         ('"250us"', 250_000)])
def test_latency_as_run_exercise_and_tc_read_it(exercise, latency, ns):
    # run_exercise.py appends "ms" to a number but hands a string to tc unchanged, and tc reads a bare
    # number as microseconds.
    edit(exercise, '["s2-p4", "s4-p2"]', f'["s2-p4", "s4-p2", {latency}]')
    topo = load_tutorial_topology(str(exercise / "pod-topo" / "topology.json"))
    assert topo.links[-1].latency_ns == ns


def test_load_topology_dispatches_json_files():
    assert list(load_topology(str(TOPOLOGY)).nodes) == list(load_tutorial_topology(str(TOPOLOGY)).nodes)


def test_topology_json_in_the_exercise_directory_itself(exercise):
    # Like exercises/mri/topology.json: paths are then relative to the topology file's own directory.
    shutil.move(exercise / "pod-topo" / "topology.json", exercise / "topology.json")
    topo = load_tutorial_topology(str(exercise / "topology.json"))
    assert topo.nodes["s2"].entries == str(exercise / "pod-topo" / "s2-runtime.json")
    assert topo.nodes["s2"].program == str(exercise / "basic.p4")


# ---------------------------------------------------------------------------- running


def ping(net: Network, src: str, dst: str) -> str:
    app = Ping(net, src, dst, count=2)
    app.start(0)
    net.run()
    return app.render()


def test_ping_through_one_switch_and_through_three():
    net = Network(load_tutorial_topology(str(TOPOLOGY)))
    near = ping(net, "h1", "h2")            # h1 -> s1 -> h2: basic.p4 decrements the TTL once
    assert near.count("ttl=63") == 2 and "2 packets transmitted, 2 received, 0% packet loss" in near
    far = ping(net, "h1", "h3")             # h1 -> s1 -> s3 -> s2 -> h3
    assert far.count("ttl=61") == 2 and "2 received" in far


def test_link_latency_is_simulated():
    net = Network(load_tutorial_topology(str(TOPOLOGY)))
    # h2 -> h4 goes up to spine s4 over the 2 ms link s1-s4 and back: at least 4 ms round trip.
    out = ping(net, "h2", "h4")
    assert "2 received" in out
    rtt_min = float(out.split("rtt min/avg/max/mdev = ")[1].split("/")[0])
    assert 4.0 <= rtt_min < 5.0


def arp_requests(net: Network, host: str) -> list[str]:
    return [text for _, text in net.hosts[host].events if text.startswith("ARP who-has")]


def test_static_arp_entries_replace_arp_requests():
    net = Network(load_tutorial_topology(str(TOPOLOGY)))
    assert "2 received" in ping(net, "h1", "h2")
    assert arp_requests(net, "h1") == [] and arp_requests(net, "h2") == []


def test_without_the_static_entry_the_host_asks_and_gets_no_answer(exercise):
    # The control case: basic.p4 drops ARP, so a host without the static entry cannot reach its gateway.
    edit(exercise, ',\n                        "arp -i eth0 -s 10.0.1.254 08:00:00:00:01:fe"', "")
    net = Network(load_tutorial_topology(str(exercise / "pod-topo" / "topology.json")))
    assert "0 received" in ping(net, "h1", "h2")
    assert arp_requests(net, "h1")[0] == "ARP who-has 10.0.1.254"


# ---------------------------------------------------------------------------- host commands


def test_ip_route_forms(exercise):
    # 'ip route add default via' is the iproute2 form of the default route; a route to the host's own
    # subnet (as in the tutorials' multicast exercise) is accepted and changes nothing.
    edit(exercise, "route add default gw 10.0.2.254 dev eth0",
         'ip route add default via 10.0.2.253", "ip route add 10.0.2.0/24 dev eth0')
    topo = load_tutorial_topology(str(exercise / "pod-topo" / "topology.json"))
    assert topo.nodes["h2"].gateway4 == 0x0A0002FD


def test_a_host_without_commands_has_no_gateway(exercise):
    edit(exercise, '''"commands": ["route add default gw 10.0.4.254 dev eth0",
                        "arp -i eth0 -s 10.0.4.254 08:00:00:00:04:fe"]''', '"commands": []')
    h4 = load_tutorial_topology(str(exercise / "pod-topo" / "topology.json")).nodes["h4"]
    assert h4.gateway4 is None and h4.options["static_arp"] == {}


def test_unknown_command(exercise):
    text = edit(exercise, "arp -i eth0 -s 10.0.1.254", "arping -i eth0 -s 10.0.1.254")
    d = assert_error_at(exercise, text, '"arping', "unsupported host command 'arping -i eth0 -s 10.0.1.254")
    assert "route add default gw ADDRESS" in d.hint and "arp [-i eth0] -s ADDRESS MAC" in d.hint


def test_route_to_another_subnet(exercise):
    text = edit(exercise, "route add default gw 10.0.3.254 dev eth0", "ip route add 10.9.0.0/16 dev eth0")
    assert_error_at(exercise, text, "10.9.0.0/16", "a route to 10.9.0.0/16 is not supported")


def test_bad_mac_in_a_static_arp_entry_points_at_the_word(exercise):
    text = edit(exercise, "10.0.3.254 08:00:00:00:03:fe", "10.0.3.254 08:00:00:00:03:fg")
    assert_error_at(exercise, text, "08:00:00:00:03:fg", "'08:00:00:00:03:fg' is not a MAC address")


def test_gateway_off_the_host_subnet(exercise):
    text = edit(exercise, "route add default gw 10.0.1.254", "route add default gw 10.0.9.254")
    assert_error_at(exercise, text, "10.0.9.254", "gateway 10.0.9.254 is not on the subnet of host 'h1' "
                                                  "(10.0.1.0/24)")


def test_second_interface(exercise):
    text = edit(exercise, "10.0.2.254 dev eth0", "10.0.2.254 dev eth1")
    d = assert_error_at(exercise, text, "eth1", "host 'h2' has no interface 'eth1'")
    assert d.hint == "tutorial hosts have one interface, eth0"


# ---------------------------------------------------------------------------- values and keys


def test_bad_host_mac(exercise):
    text = edit(exercise, '"08:00:00:00:04:04"', '"08:00:00:00:04"')
    assert_error_at(exercise, text, '"08:00:00:00:04"', "mac: '08:00:00:00:04' is not a MAC address")


def test_bad_host_ip(exercise):
    text = edit(exercise, '"10.0.2.2/24"', '"10.0.2.300/24"')
    assert_error_at(exercise, text, '"10.0.2.300/24"', "ip: '10.0.2.300/24' is not an IPv4 address")


def test_unknown_host_key(exercise):
    text = edit(exercise, '"commands"', '"command"')
    d = assert_error_at(exercise, text, '"command"', "unknown key 'command' in host 'h1'")
    assert d.hint == "did you mean 'commands'?"


def test_unknown_switch_key(exercise):
    text = edit(exercise, '"s2": {"runtime_json"', '"s2": {"runtime-json"')
    d = assert_error_at(exercise, text, '"runtime-json"', "unknown key 'runtime-json' in switch 's2'")
    assert d.hint == "did you mean 'runtime_json'?"


def test_unknown_top_level_key(exercise):
    text = edit(exercise, '"links"', '"link"')
    assert_error_at(exercise, text, '"link"', "unknown key 'link' in the topology")


def test_cli_input_is_refused_with_the_reason(exercise):
    text = edit(exercise, '"s4": {', '"s4": {"cli_input": "s4-commands.txt", ')
    assert_error_at(exercise, text, '"cli_input"', "switch 's4': 'cli_input': simple_switch_CLI command files "
                                                   "are not supported")


def test_unknown_switch_in_a_link(exercise):
    text = edit(exercise, '["h3", "s2-p1"]', '["h3", "s5-p1"]')
    d = assert_error_at(exercise, text, '"s5-p1"', "no switch 's5'")
    assert d.hint == "the switches are s1, s2, s3, s4"


def test_a_port_on_two_links(exercise):
    text = edit(exercise, '["h2", "s1-p2"]', '["h2", "s1-p1"]')
    line, col = where(text, '"s1-p1"')
    assert_error_at(exercise, text, '"s1-p1"', f"port 1 of switch 's1' is already on the link at line {line}, "
                                               f"column {col}", after='["h2", ')


def test_bad_latency(exercise):
    text = edit(exercise, '["s2-p4", "s4-p2"]', '["s2-p4", "s4-p2", "5 parsecs"]')
    assert_error_at(exercise, text, '"5 parsecs"', "latency: '5 parsecs' is not a delay")


def test_missing_runtime_file(exercise):
    text = edit(exercise, '"pod-topo/s3-runtime.json"', '"pod-topo/s9-runtime.json"')
    d = assert_error_at(exercise, text, '"pod-topo/s9-runtime.json"',
                        "cannot find the runtime file 'pod-topo/s9-runtime.json'")
    assert str(exercise / "pod-topo") in d.hint and "Makefile" in d.hint


# ---------------------------------------------------------------------------- programs


def test_program_not_found_points_at_bmv2_json(exercise):
    (exercise / "basic.p4").unlink()
    d, rendered = load_error(exercise / "pod-topo" / "topology.json")
    runtime = (exercise / "pod-topo" / "s1-runtime.json").read_text()
    line, col = where(runtime, '"build/basic.json"')
    assert d.message == "cannot find the P4 source of 'build/basic.json'"
    assert rendered.startswith(f"{exercise / 'pod-topo' / 's1-runtime.json'}:{line}:{col}: error:")
    assert str(exercise / "solution" / "basic.p4") in d.hint and "--program" in d.hint


def test_a_switch_program_named_as_compiled_json_is_found_in_solution(exercise):
    # run_exercise.py's "program" is the compiled JSON (the firewall exercise: build/firewall.json).
    (exercise / "solution").mkdir()
    shutil.copy(exercise / "basic.p4", exercise / "solution" / "firewall.p4")
    edit(exercise, '"s1": {', '"s1": {"program": "build/firewall.json", ')
    topo = load_tutorial_topology(str(exercise / "pod-topo" / "topology.json"))
    assert topo.nodes["s1"].program == str(exercise / "solution" / "firewall.p4")
    assert topo.nodes["s2"].program == str(exercise / "basic.p4")


def test_a_switch_program_that_is_missing(exercise):
    text = edit(exercise, '"s1": {', '"s1": {"program": "build/firewall.json", ')
    d = assert_error_at(exercise, text, '"build/firewall.json"', "cannot find the P4 program 'build/firewall.json'")
    assert "--program" in d.hint


def test_a_switch_without_runtime_json_runs_the_exercise_program(exercise):
    # Like the p4runtime exercise ("s1": {}): the Makefile's program, the exercise's only .p4 file.
    edit(exercise, '{"runtime_json": "pod-topo/s1-runtime.json"}', "{}")
    s1 = load_tutorial_topology(str(exercise / "pod-topo" / "topology.json")).nodes["s1"]
    assert (s1.program, s1.entries) == (str(exercise / "basic.p4"), None)


def test_a_switch_with_no_way_to_find_its_program(exercise):
    shutil.copy(exercise / "basic.p4", exercise / "other.p4")
    text = edit(exercise, '{"runtime_json": "pod-topo/s1-runtime.json"}', "{}")
    d = assert_error_at(exercise, text, '"s1"', "switch 's1': cannot tell which P4 program it runs")
    assert "--program" in d.hint


def test_program_override(exercise):
    (exercise / "basic.p4").unlink()        # without the override this is an error (see above)
    override = str(PROGRAMS / "basic_ipv4.p4")
    topo = load_tutorial_topology(str(exercise / "pod-topo" / "topology.json"), program=override)
    assert {s.program for s in topo.nodes.values() if s.kind == "p4"} == {override}
    assert "2 received" in ping(Network(topo), "h1", "h4")


def test_program_override_by_the_name_of_a_shipped_program():
    topo = load_tutorial_topology(str(TOPOLOGY), program="basic_ipv4")
    assert topo.nodes["s4"].program.endswith("basic_ipv4.p4")


def test_program_override_that_does_not_exist():
    d, rendered = load_error(TOPOLOGY, program="no_such_program.p4")
    assert rendered.startswith("error: --program: cannot find the P4 program 'no_such_program.p4'")


def test_the_run_says_which_program_each_switch_runs(exercise, monkeypatch, capsys):
    from dataplane.cli import main
    monkeypatch.chdir(exercise)
    assert main(["ping", "pod-topo/topology.json", "h1", "h2", "-c", "1"]) == 0
    assert capsys.readouterr().out.splitlines()[0] == "switches s1 s2 s3 s4 run basic.p4"


def test_an_exercise_skeleton_is_named_with_its_solution(exercise, monkeypatch):
    # The tutorials keep the finished program in solution/: the exercise's own .p4 file is unfinished.
    (exercise / "solution").mkdir()
    shutil.copy(exercise / "basic.p4", exercise / "solution" / "basic.p4")
    monkeypatch.chdir(exercise)
    topo = load_tutorial_topology("pod-topo/topology.json")
    assert topo.notes == ["switches s1 s2 s3 s4 run basic.p4",
                          "note: basic.p4 is the exercise's skeleton, left for you to complete; to run the "
                          "finished program add --program solution/basic.p4"]
    topo = load_tutorial_topology("pod-topo/topology.json", program="solution/basic.p4")
    assert topo.notes == ["switches s1 s2 s3 s4 run solution/basic.p4 (chosen with --program)"]


def test_run_without_traffic_does_pingall_and_pingall_is_a_command(monkeypatch, capsys):
    from dataplane.cli import main
    assert main(["run", str(TOPOLOGY)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[1] == "basic/pod-topo/topology.json has no traffic section: running pingall"
    assert out[2:8] == ["*** Ping: testing ping reachability", "h1 -> h2 h3 h4", "h2 -> h1 h3 h4",
                        "h3 -> h1 h2 h4", "h4 -> h1 h2 h3", "*** Results: 0% dropped (12/12 received)"]
    assert main(["pingall", "line"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == "*** Results: 0% dropped (2/2 received)"


# ---------------------------------------------------------------------------- the tutorials themselves

def _tutorial_exercises():
    from tests.conformance.corpus import corpus_dir
    root = corpus_dir() / "tutorials" / "exercises"
    out = []
    for solution in sorted(root.glob("*/solution/*.p4")) if root.is_dir() else ():
        exercise = solution.parent.parent
        topologies = sorted(exercise.glob("topology.json")) + sorted(exercise.glob("*/topology.json"))
        out += [pytest.param(t, solution, id=f"{exercise.name}-{t.parent.name}") for t in topologies]
    return out or [pytest.param(None, None, marks=pytest.mark.skip(reason="the P4 tutorials are not here"))]


@pytest.mark.parametrize("topology,solution", _tutorial_exercises())
def test_every_tutorial_topology_loads_its_runtime_json_with_the_solution(topology, solution):
    """Each exercise's topology.json and sX-runtime.json files, in every shape the tutorials' p4runtime_lib
    writes them (e.g. basic_tunnel's exact keys as one-element lists), load as they are with the solution;
    flowcache's controller on the CPU port is refused with the reason."""
    if solution.stem == "flowcache":
        d, _ = load_error(topology, program=str(solution))
        assert "a controller on the CPU port is not supported yet (it needs P4Runtime" in d.message
        return
    net = Network(load_tutorial_topology(str(topology), program=str(solution)))
    assert net.hosts and net.devices


def test_when_switches_let_nothing_through_the_summary_says_why_it_may_be(exercise):
    # Without its entries, s1's ipv4_lpm misses and drops everything from h1 and h2 (they are on s1).
    for sw in ("s1", "s2"):
        edit(exercise, f'{{"runtime_json": "pod-topo/{sw}-runtime.json"}}', "{}")
    net = Network(load_tutorial_topology(str(exercise / "pod-topo" / "topology.json")))
    Ping(net, "h1", "h2", count=2).start()
    net.run()
    [note] = net.summary().notes
    assert note.startswith("no frame got through a P4 switch: their programs dropped all ")
    assert "table entries" in note and "`send:` traffic item" in note


def test_a_working_network_has_no_such_note():
    net = Network(load_tutorial_topology(str(TOPOLOGY)))
    Ping(net, "h1", "h3", count=1).start()
    net.run()
    assert net.summary().notes == []
