"""dataplane/sweep/bundle.py: the files a sweep's points need travel with them, and run the same elsewhere.

An experiment directory, written by `experiment`, as a user would lay it out:

    exp/topo/net.yaml          three hosts on a P4 switch, a ping and a traffic pattern
    exp/p4/fwd.p4              the switch's program (program: ../p4/fwd.p4), which includes
    exp/headers/basic.p4         ../headers/basic.p4 (a sibling directory) and
    exp/inc/consts.p4            consts.p4, found through the node's include directories [../inc, ../empty]
    exp/entries/s1.yaml        its table entries
    exp/cdf/sizes.txt          the pattern's flow sizes (size: {cdf: ../cdf/sizes.txt})

Tests collect its files, move the directory away, write the bundle elsewhere (a temporary directory of
their own stands for the worker's), and load, build and run the network there: the same results as
from the original place, and error messages that read with the client's paths.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import tempfile
from pathlib import Path

import pytest

from dataplane.diagnostics import DiagnosticError
from dataplane.net.network import Network
from dataplane.net.setpath import SetError
from dataplane.net.topology import load_topology, load_traffic
from dataplane.sweep import bundle
from dataplane.sweep.bundle import Files, collect, materialized

REPO = Path(__file__).resolve().parents[2]
FIXTURE = REPO / "tests" / "net" / "tutorial_fixture" / "basic"
PARSER_MARK = "// ---------------------------------------------------------------- Parser"

HOSTS = {1: "08:00:00:00:01:11", 2: "08:00:00:00:02:22", 3: "08:00:00:00:03:33"}


def experiment(root: Path, link: str = "{latency: 200us, bandwidth: 1Gbps}", program: str = "../p4/fwd.p4") -> Path:
    """The experiment directory of the module docstring, under root; returns the topology file."""
    basic = (REPO / "programs" / "basic_ipv4.p4").read_text()
    assert PARSER_MARK in basic, "programs/basic_ipv4.p4 changed: split it elsewhere"
    headers, rest = basic.split(PARSER_MARK, 1)
    write(root / "headers" / "basic.p4", headers)
    write(root / "p4" / "fwd.p4", '#include "../headers/basic.p4"\n#include "consts.p4"\n'
                                  '#ifdef BROKEN\n#include "nothere.p4"\n#endif\n' + PARSER_MARK + rest)
    write(root / "inc" / "consts.p4", "const bit<8> FROM_THE_INCLUDE_DIRECTORY = 1;\n")
    (root / "empty").mkdir()
    write(root / "entries" / "s1.yaml", "tables:\n  MyIngress.ipv4_lpm:\n" + "".join(
        f"    - {{match: {{hdr.ipv4.dstAddr: 10.0.{i}.{i}/32}}, action: ipv4_forward, "
        f"params: {{dstAddr: \"{mac}\", port: {i}}}}}\n" for i, mac in HOSTS.items()))
    write(root / "cdf" / "sizes.txt", "# flow sizes\n500 0\n1000 0.5\n3000 1\n")
    hosts = "".join(f"  h{i}:\n    kind: host\n    interfaces: {{eth0: {{mac: \"{mac}\", ipv4: 10.0.{i}.{i}/24}}}}\n"
                    f"    gateway: 10.0.{i}.10\n    arp: {{10.0.{i}.10: \"08:00:00:00:0{i}:00\"}}\n"
                    for i, mac in HOSTS.items())
    topology = root / "topo" / "net.yaml"
    write(topology, f"name: bundled\ndefaults:\n  link: {link}\nnodes:\n{hosts}"
                    f"  s1:\n    kind: p4\n    program: {program}\n    include: [../inc, ../empty]\n"
                    "    entries: ../entries/s1.yaml\n"
                    "    interfaces: {p1: {port: 1}, p2: {port: 2}, p3: {port: 3}}\n"
                    "links:\n" + "".join(f"  - [h{i}:eth0, s1:p{i}]\n" for i in HOSTS) +
                    "traffic:\n  - {at: 0s, ping: {from: h1, to: h2, count: 2}}\n"
                    "  - {at: 1s, pattern: {kind: permutation, flow: udp, size: {cdf: ../cdf/sizes.txt}}}\n")
    return topology


def write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)


def run(topology: str, settings=(), program=None, traffic=None) -> str:
    """What a point reports: its applications' and the network's summaries, or its error message."""
    try:
        topo = load_topology(topology, program=program, settings=list(settings))
        if traffic is not None:
            topo.traffic = load_traffic(traffic, topo)
        net = Network(topo)
        apps = net.schedule_traffic()
        net.run()
    except DiagnosticError as exc:
        return exc.render()
    except SetError as exc:
        return "error: " + str(exc)
    return "\n".join([topo.name, *topo.notes, *(app.render() for app in apps), net.summary().render()])


def run_bundled(files: Files, settings=()) -> str:
    """run() on the bundle written here, with the worker's paths turned back into the client's."""
    with materialized(files) as here:
        return here.client_paths(run(here.topology, settings, here.program, here.traffic))


@pytest.fixture(autouse=True)
def worker_tmp(tmp_path, monkeypatch) -> Path:
    """The 'worker's' temporary directory, and a process that has written no bundle yet; the tests run
    from a directory unrelated to their files (paths are shown absolute on both sides)."""
    tmp = tmp_path / "worker-tmp"
    tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(tmp))
    monkeypatch.setattr(bundle, "_written", {})
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    monkeypatch.chdir(cwd)
    return tmp


def moved(root: Path) -> None:
    """The client's files gone: the worker has only the bundle."""
    root.rename(root.with_name(root.name + "-moved"))


# ---------------------------------------------------------------------------- what travels


def test_the_topology_its_program_includes_entries_and_cdf_travel(tmp_path):
    topology = experiment(tmp_path / "exp")
    files = collect(str(topology), [["seed=1"], ["seed=2"]])
    assert files.root == str(tmp_path / "exp")
    assert [name for name, _ in files.entries] == ["cdf/sizes.txt", "entries/s1.yaml", "headers/basic.p4",
                                                  "inc/consts.p4", "p4/fwd.p4", "topo/net.yaml"]
    assert dict(files.entries)["p4/fwd.p4"] == (tmp_path / "exp" / "p4" / "fwd.p4").read_text()
    assert files.directories == ("empty", "inc")        # include directories exist even with nothing used
    assert files.topology == "topo/net.yaml"
    # Nothing of the installed package: core.p4 and v1model.p4 are found by workers in their own.
    assert not any(name.endswith(("core.p4", "v1model.p4")) for name, _ in files.entries)


def test_a_moved_experiment_runs_from_the_bundle_as_it_did_in_place(tmp_path):
    topology = experiment(tmp_path / "exp")
    points = [[], ["seed=7", "defaults.link.loss=0.2"]]
    expected = [run(str(topology), p) for p in points]
    assert "2 packets transmitted, 2 received" in expected[0] and "flows" in expected[0]
    files = collect(str(topology), points)
    moved(tmp_path / "exp")
    assert run(str(topology)).startswith("error: no topology")
    assert [run_bundled(files, p) for p in points] == expected


def test_a_broken_points_error_reads_with_the_clients_paths(tmp_path):
    topology = experiment(tmp_path / "exp")
    exp = tmp_path / "exp"
    points = [["nodes.s1.program=../p4/missing.p4"],       # a missing program
              ["nodes.s1.defines.BROKEN=1"],               # a missing #include, located in fwd.p4
              ["links.h9-s1.mtu=1280"],                    # no such link
              ["defaults.link.mtu=99999"]]                 # out of range, located at the --set text
    expected = [run(str(topology), p) for p in points]
    assert expected[0].startswith("--set:1:") and "cannot find program '../p4/missing.p4'" in expected[0]
    assert expected[1].startswith(f"{exp / 'p4' / 'fwd.p4'}:4:1: error: cannot find include file 'nothere.p4'")
    assert f"{exp / 'inc'}, {exp / 'empty'}" in expected[1]          # the search path, in the hint
    assert "there is no link 'h9-s1'" in expected[2] and "MTU 99999 is out of range" in expected[3]
    files = collect(str(topology), points)
    moved(exp)
    assert [run_bundled(files, p) for p in points] == expected


def test_paths_given_relative_to_the_working_directory_are_shown_as_given(tmp_path, monkeypatch):
    experiment(tmp_path / "exp", link="{mtu: 99999}")      # an error located in the topology file itself
    monkeypatch.chdir(tmp_path)
    point = ["seed=2"]
    expected = run("exp/topo/net.yaml", point)
    assert expected.startswith("exp/topo/net.yaml:")
    files = collect("exp/topo/net.yaml", [point])
    moved(tmp_path / "exp")
    assert run_bundled(files, point) == expected


def test_an_include_directory_that_is_the_root_itself(tmp_path):
    topology = experiment(tmp_path / "exp")
    point = ["nodes.s1.include=[.., ../inc]"]
    files = collect(str(topology), [point])
    assert files.root == str(tmp_path / "exp") and files.directories == (".", "inc")
    expected = run(str(topology), point)
    moved(tmp_path / "exp")
    assert run_bundled(files, point) == expected


def test_a_topology_that_is_not_there_and_settings_that_cannot_be_read_fail_alike(tmp_path):
    files = collect(str(tmp_path / "nowhere.yaml"), [[], ["=1"]])
    assert (files.entries, files.topology) == ((), str(tmp_path / "nowhere.yaml"))
    assert run_bundled(files) == run(str(tmp_path / "nowhere.yaml")) != ""
    topology = experiment(tmp_path / "exp")
    files = collect(str(topology), [["=1"], ["links.nowhere.mtu=1"]])
    assert run_bundled(files, ["=1"]) == run(str(topology), ["=1"])
    assert run_bundled(files, ["links.nowhere.mtu=1"]) == run(str(topology), ["links.nowhere.mtu=1"])


def test_points_naming_different_programs_take_each(tmp_path):
    topology = experiment(tmp_path / "exp")
    shutil.copy(tmp_path / "exp" / "p4" / "fwd.p4", tmp_path / "exp" / "p4" / "fwd2.p4")
    files = collect(str(topology), [["seed=1"], ["seed=2", "nodes.s1.program=../p4/fwd2.p4"]])
    assert {"p4/fwd.p4", "p4/fwd2.p4"} <= {name for name, _ in files.entries}


def test_a_file_read_only_when_another_setting_mends_the_topology_still_travels(tmp_path):
    # The file's link MTU is out of range: without the point's (numeric) mtu setting the loader stops before
    # it reads the pattern's CDF file; the point itself runs, and needs it.
    topology = experiment(tmp_path / "exp", link="{latency: 200us, mtu: 99999}")
    point = ["defaults.link.mtu=1500"]
    files = collect(str(topology), [point])
    assert "cdf/sizes.txt" in dict(files.entries)
    expected = run(str(topology), point)
    moved(tmp_path / "exp")
    assert run_bundled(files, point) == expected


def test_points_differing_in_numbers_load_the_topology_once(tmp_path, monkeypatch):
    topology = experiment(tmp_path / "exp")
    loads = []
    real = bundle._Reads.load

    def counted(self, *args):
        loads.append(args[-1])
        return real(self, *args)
    monkeypatch.setattr(bundle._Reads, "load", counted)
    points = [[f"seed={seed}", f"defaults.link.loss={loss}", f"links.h1-s1.latency={ms}ms"]
              for seed in range(10) for loss in (0, 0.01) for ms in (1, 2)]
    files = collect(str(topology), points)
    assert loads == [[]]
    assert files == collect(str(topology), [["seed=99"]])
    # Settings that may name files are loaded with: one load each.
    loads.clear()
    collect(str(topology), [["nodes.s1.program=../p4/fwd.p4", "seed=1"], ["nodes.s1.program=../p4/fwd.p4", "seed=2"],
                            ["nodes.s1.defines.X=1"], ["nodes.s1.defines.X=2"]])
    assert loads == [["nodes.s1.program=../p4/fwd.p4"], ["nodes.s1.defines.X=1"], ["nodes.s1.defines.X=2"]]


@pytest.mark.parametrize("text,changes", [
    ("seed=3", False), ("defaults.link.loss=0.01", False), ("links.r1-r2.latency=5ms", False),
    ("links.h1-s1.2=5ms", False), ("nodes.h1.interfaces.eth0.port=3", False), ("traffic.0={}", False),
    ("nodes.s1.program=x.p4", True), ("nodes.s1.program=7", True), ("nodes.s1.defines.N=1", True),
    ("nodes.s1.entries=e.yaml", True), ("switches.s1.runtime_json=r.json", True),
    ("traffic.0.pattern.size.cdf=s.txt", True), ("traffic.0={pattern: {size: {cdf: s.txt}}}", True),
    ("nodes.h1.interfaces.eth0.ipv4=10.0.0.1/24", True), ("nodes.s1={kind: p4}", True), ("=1", True)])
def test_settings_that_may_change_what_a_point_reads(text, changes):
    assert bundle._may_change_reads(text) is changes


def test_two_hundred_points_collect_quickly(tmp_path, capsys):
    """Not a timing assertion: the figure is printed for the record (pytest -s)."""
    import time
    topology = experiment(tmp_path / "exp")
    points = [[f"seed={seed}", f"defaults.link.loss={loss}", f"nodes.s1.defines.V={v}"]
              for seed in range(20) for loss in (0, 0.01, 0.02, 0.05, 0.1) for v in (1, 2)]
    assert len(points) == 200
    start = time.process_time()
    files = collect(str(topology), points)
    with capsys.disabled():
        print(f"\ncollect: 200 points, {len(files.entries)} files: {time.process_time() - start:.3f} s CPU")


# ---------------------------------------------------------------------------- shipped things


def test_shipped_topologies_by_name_make_an_empty_bundle():
    files = collect("line", [[f"seed={s}"] for s in range(3)] + [["nodes.r1.program=ipv6_router"]])
    assert (files.entries, files.directories, files.topology) == ((), (), "line")
    with materialized(files) as here:
        assert (here.topology, here.directory) == ("line", None)
        assert here.client_paths("line.yaml:3:1") == "line.yaml:3:1"


def test_a_shipped_topology_given_by_its_path_travels_by_name():
    from dataplane.locate import find_topology
    files = collect(find_topology("ring"), [[]])
    assert (files.entries, files.topology) == ((), "ring")


def test_a_setting_naming_a_users_program_on_a_shipped_topology_takes_it(tmp_path):
    experiment(tmp_path / "exp")
    program = tmp_path / "exp" / "p4" / "fwd.p4"
    files = collect("basic-v1model", [[f"nodes.s1.program={program}", "nodes.s1.include=[]"]])
    assert files.topology == "basic-v1model"
    assert [name for name, _ in files.entries] == ["headers/basic.p4", "p4/fwd.p4"]


def test_worker_installation_paths_read_as_the_clients(tmp_path):
    here = os.path.dirname(os.path.abspath(bundle.__file__)).rsplit(os.sep, 1)[0]
    files = Files(root=os.sep, entries=(), topology="line", digest="0" * 64, package="/home/u/venv/dataplane")
    with materialized(files) as there:
        text = f"{here}/topologies/line.yaml:3:1: error: x; {here}x/y"
        assert there.client_paths(text) == f"/home/u/venv/dataplane/topologies/line.yaml:3:1: error: x; {here}x/y"


# ---------------------------------------------------------------------------- the digest


def test_the_digest_follows_contents_not_numbers(tmp_path):
    topology = experiment(tmp_path / "exp")
    first = collect(str(topology), [["seed=1"], ["seed=2"]])
    assert collect(str(topology), [["seed=3", "defaults.link.loss=0.5"]]).digest == first.digest
    (tmp_path / "exp" / "cdf" / "sizes.txt").write_text("# flow sizes\n500 0\n1000 0.5\n4000 1\n")
    changed = collect(str(topology), [["seed=1"]])
    assert changed.digest != first.digest
    assert [n for n, _ in changed.entries] == [n for n, _ in first.entries]


def test_files_pickle_and_compare_equal():
    import pickle
    files = collect("line", [[]])
    assert pickle.loads(pickle.dumps(files)) == files


# ---------------------------------------------------------------------------- absolute paths


def test_an_absolute_program_path_is_found_on_a_shared_file_system_and_reported_otherwise(tmp_path):
    exp = tmp_path / "exp"
    topology = experiment(exp, program=str(exp / "p4" / "fwd.p4"))
    files = collect(str(topology), [[]])
    assert "p4/fwd.p4" in dict(files.entries)
    expected = run(str(topology))
    assert "2 packets transmitted, 2 received" in expected
    assert run_bundled(files) == expected                # the worker shares the client's files
    moved(exp)
    bundle._written.clear()
    message = run_bundled(files)
    assert message.startswith(f"{topology}:") and f"cannot find program '{exp / 'p4' / 'fwd.p4'}'" in message


def point_on_worker(files: Files, settings: list[str], tmp: str) -> str:
    """A Dask task: one point run on a worker from the bundle (written under `tmp`, which the test removes)."""
    tempfile.tempdir = tmp
    return run_bundled(files, settings)


def test_the_embedded_cluster_runs_a_point_from_its_bundle(tmp_path, worker_tmp):
    pytest.importorskip("distributed")
    import cloudpickle
    from dataplane.cluster import open_client
    exp = tmp_path / "exp"
    topology = experiment(exp, program=str(exp / "p4" / "fwd.p4"))
    expected = run(str(topology), ["seed=3"])
    files = collect(str(topology), [["seed=3"]])
    cloudpickle.register_pickle_by_value(__import__(__name__))
    try:
        with open_client(workers=1) as client:
            got = client.submit(point_on_worker, files, ["seed=3"], str(worker_tmp), pure=False).result(timeout=120)
    finally:
        cloudpickle.unregister_pickle_by_value(__import__(__name__))
    assert got == expected
    assert bundle.PREFIX + files.digest in os.listdir(worker_tmp)      # (beside Dask's scratch space)


# ---------------------------------------------------------------------------- writing on the worker


def test_a_bundle_is_written_once_per_process_and_reused(tmp_path, worker_tmp):
    topology = experiment(tmp_path / "exp")
    files = collect(str(topology), [[]])
    with materialized(files) as first:
        pass
    assert first.directory == str(worker_tmp / (bundle.PREFIX + files.digest))
    (Path(first.topology).parent / "marker").write_text("")
    with materialized(files) as second:
        assert second.directory == first.directory and (Path(second.topology).parent / "marker").exists()
    assert os.listdir(worker_tmp) == [bundle.PREFIX + files.digest]
    assert (os.stat(first.directory).st_mode & 0o777) == 0o700


def test_another_processes_bundle_of_the_same_digest_is_used(tmp_path, worker_tmp):
    topology = experiment(tmp_path / "exp")
    files = collect(str(topology), [[]])
    final = worker_tmp / (bundle.PREFIX + files.digest)
    os.rename(bundle._write(files), final)                  # written by another process of this machine
    with materialized(files) as here:
        assert here.directory == str(final)
    assert os.listdir(worker_tmp) == [final.name]


def test_losing_the_race_to_rename_uses_the_winners_bundle(tmp_path, worker_tmp, monkeypatch):
    topology = experiment(tmp_path / "exp")
    files = collect(str(topology), [[]])
    final = worker_tmp / (bundle.PREFIX + files.digest)
    real_write = bundle._write

    def write_while_another_wins(f):
        ours = real_write(f)
        os.rename(real_write(f), final)          # the other process renames first
        return ours
    monkeypatch.setattr(bundle, "_write", write_while_another_wins)
    with materialized(files) as here:
        assert here.directory == str(final)
    assert os.listdir(worker_tmp) == [final.name]            # ours was removed


def test_a_directory_of_that_name_with_other_contents_is_not_used(tmp_path, worker_tmp):
    topology = experiment(tmp_path / "exp")
    files = collect(str(topology), [[]])
    final = worker_tmp / (bundle.PREFIX + files.digest)
    (final / "x").mkdir(parents=True)
    final.chmod(0o700)
    with materialized(files) as here:
        assert here.directory != str(final) and Path(here.topology).read_text() == topology.read_text()
    expected = run(str(topology))
    moved(tmp_path / "exp")
    assert run_bundled(files) == expected


def materialize_in_child(files: Files, tmp: str, barrier, results) -> None:
    tempfile.tempdir = tmp
    barrier.wait(timeout=60)
    with materialized(files) as here:
        text = Path(here.topology).read_text()
        results.put((here.directory, text))


def test_processes_materializing_one_digest_at_once_share_one_complete_copy(tmp_path, worker_tmp):
    topology = experiment(tmp_path / "exp")
    files = collect(str(topology), [[]])
    context = multiprocessing.get_context("spawn")     # a fresh process: no state of this one
    n = 4
    barrier, results = context.Barrier(n), context.Queue()
    children = [context.Process(target=materialize_in_child, args=(files, str(worker_tmp), barrier, results)) for _ in range(n)]
    for child in children:
        child.start()
    got = [results.get(timeout=60) for _ in children]
    for child in children:
        child.join(timeout=30)
        assert child.exitcode == 0
    final = str(worker_tmp / (bundle.PREFIX + files.digest))
    assert got == [(final, topology.read_text())] * n
    assert os.listdir(worker_tmp) == [os.path.basename(final)]


# ---------------------------------------------------------------------------- P4 tutorials topologies


def test_a_tutorial_topology_json_travels_with_its_runtime_json_and_program(tmp_path):
    exercise = Path(shutil.copytree(FIXTURE, tmp_path / "basic"))
    topology = exercise / "pod-topo" / "topology.json"
    write(exercise / "traffic.yaml", "- {ping: {from: h1, to: h4, count: 2}}\n"
                                     "- {at: 1s, pattern: {kind: incast, to: h2, flow: udp, size: {cdf: sizes.txt}}}\n")
    write(exercise / "sizes.txt", "800 0\n1200 1\n")
    traffic = str(exercise / "traffic.yaml")
    points = [[], ["links.h1-s1.2=5ms"], ["switches.s2.runtime_json=pod-topo/nothere.json"]]
    files = collect(str(topology), points, traffic=traffic)
    assert [name for name, _ in files.entries] == ["basic.p4", "pod-topo/s1-runtime.json", "pod-topo/s2-runtime.json",
                                                  "pod-topo/s3-runtime.json", "pod-topo/s4-runtime.json",
                                                  "pod-topo/topology.json", "sizes.txt", "traffic.yaml"]
    expected = [run(str(topology), p, traffic=traffic) for p in points]
    assert expected[0].startswith("basic/pod-topo/topology.json\nswitches s1 s2 s3 s4 run ")
    assert "2 packets transmitted, 2 received" in expected[0]
    assert "cannot find the runtime file 'pod-topo/nothere.json'" in expected[2]
    moved(exercise)
    assert [run_bundled(files, p) for p in points] == expected


def test_the_tutorials_basic_exercise_travels_with_its_solution(tmp_path):
    from tests.conformance.corpus import corpus_dir
    source = corpus_dir() / "tutorials" / "exercises" / "basic"
    if not (source / "pod-topo" / "topology.json").is_file():
        pytest.skip("the P4 tutorials are not here")
    exercise = Path(shutil.copytree(source, tmp_path / "basic"))
    topology, solution = exercise / "pod-topo" / "topology.json", exercise / "solution" / "basic.p4"
    skeleton = run(str(topology))          # without --program: the skeleton, and a note that a solution exists
    assert "is the exercise's skeleton" in skeleton
    files = collect(str(topology), [[]], program=str(solution))
    names = {name for name, _ in files.entries}
    assert {"solution/basic.p4", "basic.p4", "pod-topo/topology.json", "pod-topo/s1-runtime.json"} <= names
    assert files.program == "solution/basic.p4"
    alone = collect(str(topology), [[]])
    expected = run(str(topology), program=str(solution))
    moved(exercise)
    assert run_bundled(files) == expected
    assert run_bundled(alone) == skeleton


def test_shipped_files_stay_behind_but_their_texts_are_in_the_digest():
    """A shipped topology travels by name (workers have it), but the points' keys must change when a shipped
    program changes (a development checkout), so the digest covers the texts of the shipped files read."""
    from dataplane.locate import shipped_program
    files = collect("line", [[]])
    assert files.entries == () and files.topology == "line"
    path = shipped_program("ipv4_router")
    seen = {os.path.abspath(path): Path(path).read_text()}
    one = bundle._bundle(seen, set(), "line", None, None)
    seen[os.path.abspath(path)] += "\n// edited\n"
    two = bundle._bundle(seen, set(), "line", None, None)
    assert one.entries == two.entries == () and one.shipped != two.shipped and one.digest != two.digest
    assert collect("line", [["seed=1"], ["seed=2"]]).digest == files.digest
