"""Sweep files: hostile ones give located errors with the caret (pinned), good ones expand in grid order."""

from __future__ import annotations

import pytest

from dataplane.diagnostics import DiagnosticError
from dataplane.sweep.spec import MAX_POINTS, load_sweep, value_text

HUGE_GRID = "".join(f"  {name}: [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]\n" for name in "seed a b c d e f g h".split())

HOSTILE = {
    "unknown key": ("topology: line\ngrid: {seed: [1]}\nmetric: [delivered]\n", """\
s.yaml:3:1: error: unknown key 'metric' in a sweep file
    metric: [delivered]
    ^~~~~~
hint: did you mean 'metrics'?"""),
    "both topology and generate": ("topology: line\ngenerate: {kind: routers}\ngrid: {seed: [1]}\n", """\
s.yaml:2:1: error: a sweep names its topology (topology: NAME or PATH) or generates one (generate: {kind: routers, n: 50}): exactly one of the two
    generate: {kind: routers}
    ^~~~~~~~"""),
    "no topology at all": ("grid: {seed: [1]}\n", """\
s.yaml:1:1: error: a sweep names its topology (topology: NAME or PATH) or generates one (generate: {kind: routers, n: 50}): exactly one of the two
    grid: {seed: [1]}
    ^~~~~~~~~~~~~~~~~"""),
    "no grid": ("topology: line\n", """\
s.yaml:1:1: error: a sweep needs a grid: the settings to vary, each with a list of values
    topology: line
    ^~~~~~~~~~~~~~"""),
    "empty grid": ("topology: line\ngrid: {}\n", """\
s.yaml:2:7: error: the grid is empty: give at least one setting with its values, e.g. {seed: [1, 2, 3]}
    grid: {}
          ^~"""),
    "grid of the wrong type": ("topology: line\ngrid: [seed]\n", """\
s.yaml:2:7: error: grid must be a mapping
    grid: [seed]
          ^~~~~~"""),
    "empty value list": ("topology: line\ngrid:\n  seed: []\n", """\
s.yaml:3:9: error: 'seed' has no values: give at least one
      seed: []
            ^~"""),
    "a value instead of a list": ("topology: line\ngrid:\n  seed: 3\n", """\
s.yaml:3:9: error: the values of 'seed' must be a list, e.g. [3]
      seed: 3
            ^"""),
    "unknown metric": ("topology: line\ngrid: {seed: [1]}\nmetrics: [delivered, tcp.thruput]\n", """\
s.yaml:3:22: error: unknown metric 'tcp.thruput'
    metrics: [delivered, tcp.thruput]
                         ^~~~~~~~~~~
hint: did you mean 'tcp.throughput'?"""),
    "metric of the wrong type": ("topology: line\ngrid: {seed: [1]}\nmetrics: [1]\n", """\
s.yaml:3:11: error: a metric must be a string
    metrics: [1]
              ^"""),
    "metric named twice": ("topology: line\ngrid: {seed: [1]}\nmetrics: [delivered, delivered]\n", """\
s.yaml:3:22: error: metric 'delivered' is named twice
    metrics: [delivered, delivered]
                         ^~~~~~~~~"""),
    "topology of the wrong type": ("topology: [line]\ngrid: {seed: [1]}\n", """\
s.yaml:1:11: error: topology must be a string
    topology: [line]
              ^~~~~~"""),
    "unknown link": ("topology: line\ngrid:\n  links.r9-r8.mtu: [1280]\n", """\
s.yaml:3:3: error: grid path 'links.r9-r8.mtu': there is no link 'r9-r8' (there: h1-r1, r1-r2, r2-r3, r3-h2)
      links.r9-r8.mtu: [1280]
      ^~~~~~~~~~~~~~~"""),
    "unknown node": ("topology: line\ngrid:\n  nodes.h9.kind: [host]\n", """\
s.yaml:3:3: error: grid path 'nodes.h9.kind': nodes has no node 'h9' (there: h1, r1, r2, r3, h2)
      nodes.h9.kind: [host]
      ^~~~~~~~~~~~~"""),
    "unknown section": ("topology: line\ngrid:\n  sead.x: [1]\n", """\
s.yaml:3:3: error: grid path 'sead.x': the topology has no section 'sead' (there: name, description, defaults, nodes, links, traffic)
      sead.x: [1]
      ^~~~~~"""),
    "a grid of 10^9 points": ("topology: line\ngrid:\n" + HUGE_GRID, """\
s.yaml:2:1: error: the grid has 1,000,000,000 points, more than the limit of 100,000; split it into several sweeps
    grid:
    ^~~~"""),
    "bad until": ("topology: line\ngrid: {seed: [1]}\nuntil: soon\n", """\
s.yaml:3:8: error: until: 'soon' is not a duration such as 1ms, 250us or 2s
    until: soon
           ^~~~"""),
    "unknown generator": ("generate: {kind: ring}\ngrid: {seed: [1]}\n", """\
s.yaml:1:18: error: generate: the kind is routers or fat-tree, not 'ring'
    generate: {kind: ring}
                     ^~~~"""),
    "unknown generator argument": ("generate: {kind: routers, size: 5}\ngrid: {seed: [1]}\n", """\
s.yaml:1:27: error: unknown key 'size' in generate (routers)
    generate: {kind: routers, size: 5}
                              ^~~~
hint: allowed keys: family, hosts, kind, n, seed, traffic"""),
    "generator argument of the wrong type": ("generate: {kind: routers, n: ten}\ngrid: {seed: [1]}\n", """\
s.yaml:1:30: error: generate: n must be an integer
    generate: {kind: routers, n: ten}
                                 ^~~"""),
    "unknown generator argument in the grid": ("generate: {kind: routers}\ngrid:\n  generate.sede: [1]\n", """\
s.yaml:3:3: error: generate (routers) has no argument 'sede'
      generate.sede: [1]
      ^~~~~~~~~~~~~
hint: did you mean 'generate.seed'?"""),
    "generator value of the wrong type": ("generate: {kind: routers}\ngrid:\n  generate.n: [10, 1.5]\n", """\
s.yaml:3:20: error: generate.n must be an integer
      generate.n: [10, 1.5]
                       ^~~"""),
    "generator argument for a file": ("topology: line\ngrid:\n  generate.n: [10]\n", """\
s.yaml:3:3: error: 'generate.n' sets an argument of a generated topology; this sweep names its topology (use generate: instead of topology:)
      generate.n: [10]
      ^~~~~~~~~~"""),
    "impossible generator": ("generate: {kind: routers, n: 2}\ngrid: {seed: [1]}\n", """\
s.yaml:1:11: error: generate: at least 3 routers
    generate: {kind: routers, n: 2}
              ^~~~~~~~~~~~~~~~~~~~~"""),
    "not a mapping": ("- topology\n", """\
s.yaml:1:1: error: a sweep file must be a mapping
    - topology
    ^~~~~~~~~~"""),
}


def _load(tmp_path, monkeypatch, text: str, name: str = "s.yaml"):
    monkeypatch.chdir(tmp_path)
    (tmp_path / name).write_text(text)
    return load_sweep(name)


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_sweep_files(tmp_path, monkeypatch, case):
    text, expected = HOSTILE[case]
    with pytest.raises(DiagnosticError) as info:
        _load(tmp_path, monkeypatch, text)
    assert info.value.render() == expected


def test_a_topology_that_does_not_exist(tmp_path, monkeypatch):
    with pytest.raises(DiagnosticError) as info:
        _load(tmp_path, monkeypatch, "topology: nowhere\ngrid: {seed: [1]}\n")
    first, line, caret = info.value.render().splitlines()[:3]
    assert first.startswith("s.yaml:1:11: error: no topology 'nowhere': not a file beside the sweep file, "
                            "nor one we ship (")
    assert caret == "              ^~~~~~~"


def test_the_limit_refuses_a_grid_before_looking_at_its_paths(tmp_path, monkeypatch):
    # The paths a..h name nothing: the count is what is reported, first and cheaply.
    with pytest.raises(DiagnosticError, match="1,000,000,000 points"):
        _load(tmp_path, monkeypatch, "topology: line\ngrid:\n" + HUGE_GRID)
    assert MAX_POINTS == 100_000


def test_points_are_the_product_in_grid_order_first_key_outermost(tmp_path, monkeypatch):
    sweep = _load(tmp_path, monkeypatch, "topology: line\ngrid:\n  seed: [1, 2]\n  defaults.link.loss: [0, 0.5, 1]\n"
                                         "  links.r2-r3.mtu: [1280]\n")
    assert sweep.size == 6
    assert [p.path for p in sweep.parameters] == ["seed", "defaults.link.loss", "links.r2-r3.mtu"]
    points = [tuple(p.texts[i] for p, i in zip(sweep.parameters, point)) for point in sweep.points()]
    assert points == [("1", "0", "1280"), ("1", "0.5", "1280"), ("1", "1", "1280"),
                      ("2", "0", "1280"), ("2", "0.5", "1280"), ("2", "1", "1280")]
    assert sweep.parameters[1].locations == ("s.yaml:4:24", "s.yaml:4:27", "s.yaml:4:32")


def test_a_topology_path_is_relative_to_the_sweep_file(tmp_path, monkeypatch):
    from dataplane.locate import find_topology
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "mine.yaml").write_text(open(find_topology("line")).read())
    sweep = _load(tmp_path, monkeypatch, "topology: mine.yaml\ngrid: {seed: [1]}\n", "sub/s.yaml")
    assert sweep.topology == str(tmp_path / "sub" / "mine.yaml")


def test_defaults_metrics_and_until(tmp_path, monkeypatch):
    sweep = _load(tmp_path, monkeypatch, "topology: line\ngrid: {seed: [1]}\nuntil: 2s\n")
    assert sweep.metrics == ("time_s", "events", "frames", "link_drops", "forwarded", "delivered", "consumed",
                             "dropped")
    assert sweep.until_ns == 2_000_000_000


def test_generated_topology_paths_are_checked_against_the_generated_document(tmp_path, monkeypatch):
    sweep = _load(tmp_path, monkeypatch, "generate: {kind: routers, hosts: 2}\ngrid:\n  generate.n: [5, 8]\n"
                                         "  nodes.h1.interfaces.eth0.ipv4: [10.0.1.5/24]\n")
    assert sweep.generate == {"kind": "routers", "hosts": 2}
    with pytest.raises(DiagnosticError, match="nodes has no node 'h3'"):
        _load(tmp_path, monkeypatch, "generate: {kind: routers, hosts: 2}\ngrid:\n  nodes.h3.kind: [host]\n")


@pytest.mark.parametrize("value, text", [(0.01, "0.01"), (1500, "1500"), (True, "true"), (None, ""),
                                         ("10.0.1.5/24", "10.0.1.5/24"), ("yes", "'yes'"), ([1, 2], "[1, 2]"),
                                         (1e-05, "1.0e-05")])
def test_values_become_set_texts_that_read_back_the_same(value, text):
    import yaml
    assert value_text(value) == text
    assert yaml.safe_load(text) == value
