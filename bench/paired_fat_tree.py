"""The fat-tree benchmark of two checkouts of dataplane, in processes that alternate, and their ratio.

On a shared machine the speed drifts by up to 2x from minute to minute, so two figures taken minutes apart
say little; runs that alternate (A B, B A, A B, ...) see the same minutes, and the ratio of their medians is
the figure to quote (issue 10: "compare ratios in one run"). Each run is one process that imports dataplane
from the checkout it is given, builds the shipped k=4 fat-tree with UDP flows as `dataplane bench --which
fat-tree` does, and prints the packet-hops of `net.run()` per CPU second. Only APIs that old checkouts have
too are used (Network, load_topology, find_topology, UdpFlow).

    python bench/paired_fat_tree.py OLD_CHECKOUT NEW_CHECKOUT [--pairs 8] [--datagrams 50000]

A checkout of an older commit: `git worktree add --detach /tmp/old <commit>`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys

# One run, in a child process whose dataplane comes from PYTHONPATH.
_RUN = """
import random, sys, time
from dataplane.locate import find_topology
from dataplane.net.apps import UdpFlow
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
datagrams, per_flow = int(sys.argv[1]), 100
net = Network(load_topology(find_topology("fat-tree")))
hosts = sorted(net.hosts)
pods = {h: h.split("_")[0] for h in hosts}
rng = random.Random(9)
for i in range(max(1, datagrams // per_flow)):
    src = hosts[i % len(hosts)]
    dst = rng.choice([h for h in hosts if pods[h] != pods[src]])
    UdpFlow(net, src, dst, port=6000 + i, count=per_flow, size=200, interval_ns=1_000_000).start(i * 3_000)
cpu = time.process_time()
net.run()
cpu = time.process_time() - cpu
print(sum(d.received for d in net.devices.values()) / cpu)
"""


def run_once(checkout: str, datagrams: int) -> float:
    """Packet-hops per CPU second of one fat-tree run with dataplane imported from `checkout`."""
    env = {**os.environ, "PYTHONPATH": os.path.abspath(checkout)}
    done = subprocess.run([sys.executable, "-c", _RUN, str(datagrams)], env=env, capture_output=True, text=True,
                          cwd=os.path.abspath(checkout))
    if done.returncode != 0:
        raise SystemExit(f"the run with {checkout} failed:\n{done.stderr}")
    return float(done.stdout.split()[-1])


def paired(old: str, new: str, pairs: int, datagrams: int) -> dict[str, list[float]]:
    """`pairs` runs of each checkout, alternating, the one that goes first swapped every pair."""
    results: dict[str, list[float]] = {old: [], new: []}
    for i in range(pairs):
        for checkout in (old, new) if i % 2 == 0 else (new, old):
            results[checkout].append(run_once(checkout, datagrams))
    return results


def report(old: str, new: str, results: dict[str, list[float]]) -> str:
    lines = []
    for name, runs in ((old, results[old]), (new, results[new])):
        lines.append(f"{name}: median {statistics.median(runs):,.0f} packet-hops per CPU second "
                     f"(runs {min(runs):,.0f} to {max(runs):,.0f})")
    ratio = statistics.median(results[new]) / statistics.median(results[old])
    best = max(results[new]) / max(results[old])
    lines.append(f"new / old: {ratio:.2f}x (medians), {best:.2f}x (best runs), {len(results[new])} pairs")
    # Each pair's two runs shared their minutes: the spread of these says how far one pair can be trusted.
    each = [n / o for o, n in zip(results[old], results[new])]
    lines.append(f"pair by pair: {', '.join(f'{r:.2f}x' for r in each)} (lowest {min(each):.2f}x)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("old", help="the checkout to compare with (a directory holding dataplane/)")
    parser.add_argument("new", help="the checkout measured")
    parser.add_argument("--pairs", type=int, default=8)
    parser.add_argument("--datagrams", type=int, default=50_000)
    args = parser.parse_args(argv)
    for checkout in (args.old, args.new):
        if not os.path.isdir(os.path.join(checkout, "dataplane")):
            parser.error(f"{checkout} is not a checkout of dataplane (it has no dataplane/ directory)")
    print(report(args.old, args.new, paired(args.old, args.new, args.pairs, args.datagrams)))


if __name__ == "__main__":
    main()
