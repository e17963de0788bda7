"""Traffic patterns: who sends to whom, when, how much; seeded; located errors; runs that complete."""

from __future__ import annotations

import dataclasses
import json
import statistics
from collections import Counter

import pytest

from dataplane.diagnostics import DiagnosticError
from dataplane.net.generate import fat_tree
from dataplane.net.network import Network
from dataplane.net.patterns import PatternApp, PatternResult, derangement, expand, percentile, rng_for
from dataplane.net.results import result
from dataplane.net.topology import load_topology_text

from toplab import run_topology


def star(hosts: int = 6, traffic: str = "", bandwidth: str = "100Mbps", seed: int = 1, loss: float = 0) -> str:
    """`hosts` hosts on one switch, with a traffic section."""
    ports = ", ".join(f"p{i}: {{}}" for i in range(1, hosts + 1))
    lines = [f"name: star\nseed: {seed}\ndefaults:\n  link: {{bandwidth: {bandwidth}, latency: 100us, loss: {loss}}}",
             "nodes:", f"  s1: {{kind: switch, interfaces: {{{ports}}}}}"]
    lines += [f"  h{i}: {{kind: host, interfaces: {{eth0: {{ipv4: 10.0.0.{i}/24}}}}}}" for i in range(1, hosts + 1)]
    lines += ["links:"] + [f"  - [h{i}:eth0, s1:p{i}]" for i in range(1, hosts + 1)]
    return "\n".join(lines) + "\ntraffic:\n" + traffic


def pattern(item: str, hosts: int = 6, **kw):
    """The checked parameters of one pattern item, and its place in the traffic list."""
    topo = load_topology_text(star(hosts, f"  - {{pattern: {item}}}\n", **kw), "t.yaml")
    return topo.traffic[0].params, topo


def flows(item: str, hosts: int = 6, seed: int = 1, **kw):
    params, topo = pattern(item, hosts, **kw)
    return expand(params, rng_for(seed, ("traffic", 0)))


# ---------------------------------------------------------------------------- pairs


@pytest.mark.parametrize("seed", range(1, 21))
def test_a_permutation_sends_once_and_receives_once_from_every_host_never_to_itself(seed):
    fs = flows("{kind: permutation}", hosts=7, seed=seed)
    hosts = [f"h{i}" for i in range(1, 8)]
    assert sorted(f.src for f in fs) == hosts and sorted(f.dst for f in fs) == hosts
    assert all(f.src != f.dst for f in fs)
    assert {f.start_ns for f in fs} == {0} and {f.size for f in fs} == {100_000}


def test_permutations_differ_from_seed_to_seed():
    seen = {tuple(f.dst for f in flows("{kind: permutation}", hosts=6, seed=s)) for s in range(1, 30)}
    assert len(seen) > 20


def test_a_derangement_of_two_hosts_swaps_them():
    import random
    assert derangement(["a", "b"], random.Random(1)) == {"a": "b", "b": "a"}


def test_incast_is_n_senders_to_one_receiver():
    fs = flows("{kind: incast, to: h3, senders: 4}", hosts=8)
    assert len(fs) == 4 and {f.dst for f in fs} == {"h3"}
    assert len({f.src for f in fs}) == 4 and "h3" not in {f.src for f in fs}
    every = flows("{kind: incast}", hosts=5)
    assert sorted(f.src for f in every) == ["h2", "h3", "h4", "h5"] and {f.dst for f in every} == {"h1"}


def test_all_to_all_and_pingall_are_every_ordered_pair_once():
    n = 5
    for kind in ("all_to_all", "pingall"):
        pairs = [(f.src, f.dst) for f in flows(f"{{kind: {kind}}}", hosts=n)]
        assert len(pairs) == len(set(pairs)) == n * (n - 1) and all(a != b for a, b in pairs)


def test_random_pairs_never_pair_a_host_with_itself_and_count_flows():
    fs = flows("{kind: random_pairs, count: 500}", hosts=4)
    assert len(fs) == 500 and all(f.src != f.dst for f in fs)
    assert set(Counter(f.src for f in fs)) == {"h1", "h2", "h3", "h4"}


def test_hosts_by_glob_and_list_and_more_rounds_with_count():
    fs = flows("{kind: permutation, hosts: ['h[1-3]', h6], count: 8}", hosts=6)
    assert len(fs) == 8 and {f.src for f in fs} == {"h1", "h2", "h3", "h6"}
    first, second = fs[:4], fs[4:]
    assert sorted(f.dst for f in first) == ["h1", "h2", "h3", "h6"] and all(f.src != f.dst for f in fs)
    assert sorted(f.src for f in second) == ["h1", "h2", "h3", "h6"]


# ---------------------------------------------------------------------------- sizes and arrivals


def test_sizes_follow_the_distribution():
    fs = flows("{kind: random_pairs, count: 5000, size: {exponential: {mean: 20KB}}}")
    assert statistics.fmean(f.size for f in fs) == pytest.approx(20_000, rel=0.05)


def test_poisson_arrivals_offer_the_stated_load():
    # load 0.5 of 100 Mbit/s with 100 kB flows: lambda = 0.5 x 1e8 / (8 x 1e5) = 62.5 flows/s per sender.
    fs = flows("{kind: permutation, arrivals: {poisson: {load: 0.5}}, duration: 100s, size: {fixed: 100KB}}",
               hosts=4)
    assert len(fs) == pytest.approx(4 * 62.5 * 100, rel=0.03)
    assert all(0 <= f.start_ns < 100 * 10 ** 9 for f in fs)
    assert [f.start_ns for f in fs] == sorted(f.start_ns for f in fs)
    # Exponential gaps per sender: mean 1/lambda and a standard deviation as large as the mean.
    starts = [f.start_ns / 1e9 for f in fs if f.src == "h1"]
    gaps = [b - a for a, b in zip(starts, starts[1:])]
    assert statistics.fmean(gaps) == pytest.approx(1 / 62.5, rel=0.05)
    assert statistics.pstdev(gaps) == pytest.approx(1 / 62.5, rel=0.08)
    # A permutation keeps each sender's partner for the whole run.
    assert len({(f.src, f.dst) for f in fs}) == 4
    offered = sum(f.size * 8 for f in fs) / 100 / 4
    assert offered == pytest.approx(0.5 * 100e6, rel=0.03)


def test_the_load_uses_the_mean_of_the_size_distribution():
    fs = flows("{kind: random_pairs, arrivals: {poisson: {load: 0.2}}, duration: 50s, "
               "size: {uniform: [10KB, 90KB]}}", hosts=3, bandwidth="10Mbps")
    # lambda = 0.2 x 1e7 / (8 x 50e3) = 5 flows/s per sender, 3 senders, 50 s.
    assert len(fs) == pytest.approx(5 * 3 * 50, rel=0.08)


def test_poisson_at_a_rate_and_periodic_arrivals():
    fs = flows("{kind: incast, senders: 2, arrivals: {poisson: {rate: 200/s}}, duration: 20s}", hosts=3)
    assert len(fs) == pytest.approx(2 * 200 * 20, rel=0.05)
    periodic = flows("{kind: incast, senders: 2, arrivals: {rate: 10/s}, duration: 1s}", hosts=3)
    assert [f.start_ns for f in periodic] == [t * 100_000_000 for t in range(10) for _ in (0, 1)]
    counted = flows("{kind: incast, arrivals: {rate: 5/ms}, count: 7}", hosts=3)
    assert len(counted) == 7 and counted[-1].start_ns == 600_000


def test_percentiles_are_nearest_rank():
    assert percentile([1, 2, 3, 4], 50) == 2 and percentile(list(range(1, 101)), 99) == 99
    assert percentile([5], 99) == 5 and percentile([], 50) is None


# ---------------------------------------------------------------------------- determinism


ITEM = "{kind: random_pairs, count: 20, size: {pareto: {mean: 50KB, shape: 1.2}}, arrivals: {poisson: {load: 0.3}}}"


def test_the_same_topology_and_seed_give_the_same_flows_and_another_seed_others():
    a, b = flows(ITEM), flows(ITEM)
    assert a == b
    assert flows(ITEM, seed=2) != a


def test_the_flows_do_not_depend_on_what_else_runs():
    """Lossy links (the simulator's own random numbers) and later items leave a pattern's flows alone."""
    plain = load_topology_text(star(4, f"  - {{pattern: {ITEM}}}\n"), "t.yaml")
    busy = load_topology_text(star(4, f"  - {{pattern: {ITEM}}}\n  - {{pattern: {ITEM}}}\n", loss=0.01), "t.yaml")
    p1 = PatternApp(Network(plain), plain.traffic[0].params, plain.traffic[0].path)
    p2 = PatternApp(Network(busy), busy.traffic[0].params, busy.traffic[0].path)
    assert p1.plans == p2.plans
    second = PatternApp(Network(busy), busy.traffic[1].params, busy.traffic[1].path)
    assert second.plans != p1.plans                 # two items of one file are two draws


def test_the_topology_seed_seeds_the_pattern():
    one = load_topology_text(star(4, f"  - {{pattern: {ITEM}}}\n", seed=1), "t.yaml")
    two = load_topology_text(star(4, f"  - {{pattern: {ITEM}}}\n", seed=2), "t.yaml")
    assert PatternApp(Network(one), one.traffic[0].params, one.traffic[0].path).plans != \
        PatternApp(Network(two), two.traffic[0].params, two.traffic[0].path).plans


# ---------------------------------------------------------------------------- errors


def fails(item: str, message: str, col: int, above: int = 0, hosts: int = 4, **kw) -> None:
    """Loading the item fails with `message` at column `col` of its last line (or `above` lines above it)."""
    text = star(hosts, "  - pattern:\n" + item, **kw)
    with pytest.raises(DiagnosticError) as exc:
        load_topology_text(text, "t.yaml")
    first = exc.value.render().splitlines()[0]
    line = text.count("\n") - above
    assert message in first and first.startswith(f"t.yaml:{line}:{col}:"), exc.value.render()


@pytest.mark.parametrize("item, message, col", [
    ("      kind: shuffle\n", "'kind' is one of permutation", 13),
    ("      hosts: x\n", "a pattern needs a 'kind'", 7),
    ("      kind: permutation\n      hosts: 'z*'\n", "no host matches 'z*'", 14),
    ("      kind: permutation\n      flow: sctp\n", "'flow' is one of tcp, udp", 13),
    ("      kind: permutation\n      size: {fixed: lots}\n", "'lots' is not a size", 21),
    ("      kind: permutation\n      size: {normal: 5}\n", "a size is one of fixed", 14),
    ("      kind: permutation\n      size: {uniform: [1MB, 1KB]}\n", "the high end is below the low end", 29),
    ("      kind: permutation\n      size: {pareto: {mean: 1KB, shape: 1}}\n", "must be above 1", 41),
    ("      kind: permutation\n      size: {cdf: nowhere.txt}\n", "cannot find the CDF file 'nowhere.txt'", 19),
    ("      kind: permutation\n      arrivals: soon\n", "arrivals are at_once", 17),
    ("      kind: permutation\n      arrivals: {poisson: {load: 0}}\n", "the load is a share", 34),
    ("      kind: permutation\n      arrivals: {rate: 10/fortnight}\n", "not a rate such as 100/s", 24),
    ("      kind: permutation\n      duration: 1000s\n      arrivals: {poisson: {load: 50}}\n",
     "would start about", 17),
    ("      kind: permutation\n      cc: vegas\n", "'cc' is one of", 11),
    ("      kind: permutation\n      to: h1\n", "'to' is a setting of incast", 7),
    ("      kind: incast\n      to: h9\n", "'h9' is not a host", 11),
    ("      kind: incast\n      senders: 9\n", "'senders' must be between 1 and 3", 16),
    ("      kind: permutation\n      hosts: [h1]\n", "needs at least two hosts", 14),
    ("      kind: pingall\n      size: {fixed: 1KB}\n", "'size' is not a setting of pingall", 7),
    ("      kind: permutation\n      duration: 5s\n", "'duration' is for poisson and rate arrivals", 7),
    ("      kind: permutation\n      colour: red\n", "unknown key 'colour' in pattern", 7)])
def test_bad_pattern_items_are_located(item, message, col):
    fails(item, message, col)


def test_a_load_needs_a_link_with_a_bandwidth():
    fails("      kind: permutation\n      arrivals: {poisson: {load: 0.5}}\n", "host 'h1' has a link without one",
          34, bandwidth="unlimited")


def test_a_bad_cdf_file_is_located_in_that_file(tmp_path):
    (tmp_path / "sizes.txt").write_text("100 0\n200 0.5\n150 1\n")
    (tmp_path / "t.yaml").write_text(star(4, "  - {pattern: {kind: permutation, size: {cdf: sizes.txt}}}\n"))
    from dataplane.net.topology import load_topology
    with pytest.raises(DiagnosticError) as exc:
        load_topology(str(tmp_path / "t.yaml"))
    first = exc.value.render().splitlines()[0]
    assert first.startswith(f"{tmp_path / 'sizes.txt'}:3:") and "must not decrease" in first


def test_a_cdf_file_next_to_the_topology_is_used(tmp_path):
    (tmp_path / "sizes.txt").write_text("# two sizes\n1000 0.5\n1000 0.5\n3000 1\n")
    (tmp_path / "t.yaml").write_text(star(4, "  - {pattern: {kind: random_pairs, count: 400, size: {cdf: sizes.txt}}}\n"))
    from dataplane.net.topology import load_topology
    topo = load_topology(str(tmp_path / "t.yaml"))
    sizes = [f.size for f in expand(topo.traffic[0].params, rng_for(1, ()))]
    assert min(sizes) >= 1000 and max(sizes) <= 3000 and statistics.median(sizes) == pytest.approx(1000, abs=60)


# ---------------------------------------------------------------------------- runs


def test_a_star_runs_tcp_udp_and_pings_and_reports_a_table():
    topo = load_topology_text(star(4, "  - {pattern: {kind: permutation, size: {fixed: 20KB}, cc: reno}}\n"
                                      "  - {at: 1s, pattern: {kind: incast, flow: udp, size: {fixed: 5000}}}\n"
                                      "  - {at: 2s, pattern: {kind: pingall, hosts: 'h[12]'}}\n"), "t.yaml")
    run = run_topology(topo, capture=False)
    tcp, udp, ping = run.apps
    assert all(f.cc == "reno" and f.intact for f in tcp.flows)
    for app, n in ((tcp, 4), (udp, 3), (ping, 2)):
        r = result(app)
        assert isinstance(r, PatternResult) and r.completed == len(r.flows) == n and r.finished
        assert all(f.fct_s > 0 and f.finish_s == pytest.approx(f.start_s + f.fct_s) for f in r.flows)
        json.dumps(dataclasses.asdict(r))
    r = result(udp)
    assert r.flows[0].start_s == 1.0 and all(f.goodput_bps > 0 for f in r.flows)
    assert [d.received for d in r.details] == [4, 4, 4]      # 5000 bytes in datagrams of 1472
    text = tcp.render().splitlines()
    assert text[0] == "permutation pattern: 4 tcp flows over 4 hosts"
    assert text[1].split() == ["flow", "bytes", "start", "(s)", "finish", "(s)", "fct", "(ms)", "goodput"]
    assert len(text) == 2 + 4 + 1 and text[-1].startswith("4 of 4 tcp flows completed; fct median ")
    assert ping.render().splitlines()[-1].startswith("2 of 2 pings completed; rtt median")


def test_a_k4_fat_tree_runs_a_permutation_of_tcp_flows_to_completion():
    text = fat_tree(4, "{kind: permutation, size: {fixed: 30KB}}")
    run = run_topology(load_topology_text(text, "fat-tree.yaml"), capture=False)
    (app,) = run.apps
    r = result(app)
    assert len(r.flows) == 16 and r.completed == 16
    assert sorted(f.src for f in r.flows) == sorted(f.dst for f in r.flows)
    assert r.fct_median_s <= r.fct_p99_s
    assert not run.summary.problems


def test_run_prints_the_item_and_its_table(capsys, tmp_path):
    from dataplane.cli import main
    (tmp_path / "t.yaml").write_text(star(3, "  - {pattern: {kind: all_to_all, flow: udp, size: {fixed: 3000}}}\n"))
    assert main(["run", str(tmp_path / "t.yaml"), "--no-progress"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "### traffic 1: at 0 s: pattern all_to_all of udp flows over 3 hosts, sizes fixed 3000 bytes, " \
                     "all at once"
    assert out[1] == "all_to_all pattern: 6 udp flows over 3 hosts"
    assert [line.split()[:4] for line in out[3:9]] == [
        [a, "->", b, "3000"] for a in ("h1", "h2", "h3") for b in ("h1", "h2", "h3") if a != b]
    assert out[9].startswith("6 of 6 udp flows completed; fct median ")


def test_a_traffic_file_may_hold_a_pattern_and_its_cdf_file_is_next_to_it(tmp_path):
    from dataplane.net.topology import load_traffic
    topo = load_topology_text(star(4), "t.yaml")
    (tmp_path / "sizes.txt").write_text("500 0\n1500 1\n")
    (tmp_path / "traffic.yaml").write_text("- pattern: {kind: incast, to: h2, size: {cdf: sizes.txt}}\n")
    (item,) = load_traffic(str(tmp_path / "traffic.yaml"), topo)
    sizes = [f.size for f in expand(item.params, rng_for(1, item.path))]
    assert len(sizes) == 3 and all(500 <= s <= 1500 for s in sizes)
