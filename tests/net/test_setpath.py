"""--set PATH=VALUE (dataplane/net/setpath.py): paths into the topology document, applied before it is checked."""

from __future__ import annotations

import pytest

from dataplane.cli import main
from dataplane.controlplane.positions import load_yaml
from dataplane.diagnostics import DiagnosticError, SourceFile
from dataplane.net.setpath import SetError, apply_settings, parse_setting
from dataplane.net.topology import load_topology

DOC = """\
name: t
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.1/24}}}
  r1:
    kind: router
    interfaces:
      eth1: {ipv4: 10.0.1.254/24}
      eth2: {ipv4: 10.0.2.254/24}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.2.2/24}}}
links:
  - [h1:eth0, r1:eth1]
  - {ends: [r1:eth2, h2:eth0], name: uplink, mtu: 1500}
traffic:
  - {ping: {from: h1, to: h2, count: 1}}
"""


def applied(*settings):
    doc, pos = load_yaml(SourceFile("t.yaml", DOC))
    return apply_settings(doc, pos, settings), pos


def test_a_top_level_setting_is_replaced():
    doc, _ = applied("seed=3", "name=other")
    assert (doc["seed"], doc["name"]) == (3, "other")


def test_a_missing_section_is_added():
    doc, _ = applied("defaults.link.loss=0.01")
    assert doc["defaults"] == {"link": {"loss": 0.01}}


def test_a_link_by_its_ends_its_name_or_its_index():
    doc, _ = applied("links.h1-r1.mtu=1280", "links.uplink.latency=5ms", "links.1.queue=7")
    assert doc["links"][0] == {"ends": ["h1:eth0", "r1:eth1"], "mtu": 1280}     # the short form written out
    assert doc["links"][1]["latency"] == "5ms" and doc["links"][1]["queue"] == 7


def test_values_are_yaml():
    doc, _ = applied("nodes.h1.interfaces.eth0.ipv4=10.0.1.5/24", "traffic.0.ping.count=2",
                     "traffic.0.ping.df=true", "links.uplink.ends=[r1:eth2, h2:eth0]", "description=")
    assert doc["nodes"]["h1"]["interfaces"]["eth0"]["ipv4"] == "10.0.1.5/24"
    assert doc["traffic"][0]["ping"] == {"from": "h1", "to": "h2", "count": 2, "df": True}
    assert doc["links"][1]["ends"] == ["r1:eth2", "h2:eth0"]
    assert doc["description"] is None


def test_the_loaded_topology_has_the_settings():
    topo = load_topology("line", settings=["seed=3", "defaults.link.loss=0.01", "links.r1-r2.mtu=1280"])
    assert topo.seed == 3
    assert {l.name: (l.mtu, l.loss) for l in topo.links}["r1-r2"] == (1280, 0.01)
    assert all(l.loss == 0.01 for l in topo.links)


def test_a_link_named_twice_takes_a_number_as_the_network_does():
    doc = {"links": [["a:e0", "b:e0"], ["a:e1", "b:e1"]]}
    apply_settings(doc, None, ["links.a-b.2.mtu=9000"])
    assert doc["links"][1] == {"ends": ["a:e1", "b:e1"], "mtu": 9000}


@pytest.mark.parametrize("setting, message", [
    ("links.r9-r1.mtu=1", "--set links.r9-r1.mtu=1: there is no link 'r9-r1' (there: h1-r1, uplink)"),
    ("links.7.mtu=1", "--set links.7.mtu=1: there is no link '7' (there: h1-r1, uplink)"),
    ("nodes.h9.kind=host", "--set nodes.h9.kind=host: nodes has no node 'h9' (there: h1, r1, h2)"),
    ("nodes.h1.interfaces.eth1.ipv4=1", "--set nodes.h1.interfaces.eth1.ipv4=1: nodes.h1.interfaces has no "
                                        "interface 'eth1' (there: eth0)"),
    ("seed.x=1", "--set seed.x=1: the topology has no section 'seed' (there: name, nodes, links, traffic)"),
    ("name.x=1", "--set name.x=1: 'name' is the text 't', with no settings inside"),
    ("traffic.3.at=1", "--set traffic.3.at=1: traffic has 1 items, numbered from 0; no item 3"),
    ("traffic.ping.at=1", "--set traffic.ping.at=1: traffic is a list; 'ping' is not an index (0 to 0)"),
])
def test_a_path_that_names_nothing_is_a_one_line_error_listing_what_is_there(setting, message):
    with pytest.raises(SetError) as exc:
        applied(setting)
    assert str(exc.value) == message


@pytest.mark.parametrize("text", ["noequals", "=3", "a..b=1"])
def test_a_setting_needs_a_path_and_a_value(text):
    with pytest.raises(SetError):
        parse_setting(text)


def test_a_bad_value_gets_the_loaders_error_located_in_the_set_text():
    with pytest.raises(DiagnosticError) as exc:
        load_topology("line", settings=["links.r1-r2.mtu=99999"])
    assert exc.value.render() == ("--set:1:17: error: MTU 99999 is out of range\n"
                                  "    links.r1-r2.mtu=99999\n"
                                  "                    ^~~~~")


def test_an_unknown_key_is_the_loaders_error_with_its_suggestion():
    with pytest.raises(DiagnosticError) as exc:
        load_topology("line", settings=["defaults.link.mtuu=1"])
    text = exc.value.render()
    assert text.startswith("--set:1:1: error: unknown key 'mtuu' in link defaults\n")
    assert text.endswith("hint: did you mean 'mtu'?")


def test_bad_yaml_in_a_value_is_located_in_the_set_text():
    with pytest.raises(DiagnosticError) as exc:
        parse_setting("seed=[1")
    assert str(exc.value.diagnostics[0].span.path) == "--set"


def test_errors_elsewhere_in_the_file_still_point_at_the_file(tmp_path):
    f = tmp_path / "t.yaml"
    f.write_text(DOC.replace("count: 1", "count: 0"))
    with pytest.raises(DiagnosticError) as exc:
        load_topology(str(f), settings=["seed=2"])
    assert exc.value.render().startswith(f"{f}:14:38: error: 'count' must be between 1 and 1000000")


def test_the_commands_take_set(capsys):
    rc = main(["ping", "line", "h1", "h2", "-c", "1", "--no-progress", "--set", "links.r2-r3.mtu=1500",
               "-s", "1400", "--df"])
    out, err = capsys.readouterr()
    assert rc == 0 and "1 received" in out and err == ""


def test_a_bad_set_on_the_command_line_is_one_line(capsys):
    rc = main(["traceroute", "line", "h1", "h2", "--no-progress", "--set", "links.nope.mtu=1"])
    out, err = capsys.readouterr()
    assert rc == 1
    assert err == ("error: --set links.nope.mtu=1: there is no link 'nope' (there: h1-r1, r1-r2, r2-r3, "
                   "r3-h2)\n")


def test_the_shell_takes_set(capsys):
    # With the 1280-byte link made 1500, a 1400-byte ping with DF goes through.
    rc = main(["cli", "line", "--no-progress", "--set", "links.r2-r3.mtu=1500", "-c", "h1 ping -c 1 -s 1400 -M do h2"])
    out, _ = capsys.readouterr()
    assert rc == 0 and "1 received, 0% packet loss" in out


def test_a_tutorial_topology_json_takes_set_with_its_link_names():
    from tests.conformance.corpus import corpus_dir
    basic = corpus_dir() / "tutorials" / "exercises" / "basic"
    if not (basic / "pod-topo" / "topology.json").is_file():
        pytest.skip("the P4 tutorials are not here")
    topology, program = str(basic / "pod-topo" / "topology.json"), str(basic / "solution" / "basic.p4")
    topo = load_topology(topology, program=program, settings=["links.h1-s1.2=5ms"])
    assert {l.name: l.latency_ns for l in topo.links}["h1-s1"] == 5_000_000
    with pytest.raises(SetError) as exc:
        load_topology(topology, program=program, settings=["links.h1-s9.2=5ms"])
    assert str(exc.value).startswith("--set links.h1-s9.2=5ms: there is no link 'h1-s9' (there: h1-s1, h2-s1, ")


def test_the_index_after_the_last_item_appends():
    doc = {"links": [["h1", "s1-p1"]], "x": {"l": [1]}}
    apply_settings(doc, None, ["links.h1-s1.2=5ms", "x.l.1=2"])
    assert doc == {"links": [["h1", "s1-p1", "5ms"]], "x": {"l": [1, 2]}}
    with pytest.raises(SetError):
        apply_settings(doc, None, ["x.l.5=2"])
