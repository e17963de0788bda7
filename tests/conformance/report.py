"""Every corpus program that does not pass, with its outcome and reason, one per line.

    python -m tests.conformance.report [stf|samples|compile|errors ...] [-k SUBSTRING]

A working tool for whoever fixes conformance causes: the tests say whether a figure dropped, this
says which programs fail and why, grouped by reason so the largest cause shows first.
"""

from __future__ import annotations

import argparse
import collections
import re

from . import corpus

_GROUPS = {
    "stf": (lambda: {n: (lambda p=p, s=s: corpus.run_stf_test(p, s)) for n, (p, s) in corpus.stf_tests().items()},
            corpus.PASSED, corpus.STF_TIMEOUT),
    "samples": (lambda: {n: (lambda p=p: corpus.run_check(p)) for n, p in corpus.sample_programs().items()},
                corpus.ACCEPTED, corpus.CHECK_TIMEOUT),
    "compile": (lambda: {n: (lambda p=p: corpus.run_compile(p)) for n, p in corpus.sample_programs().items()},
                corpus.ACCEPTED, corpus.CHECK_TIMEOUT),
    "errors": (lambda: {n: (lambda p=p: corpus.run_check(p)) for n, p in corpus.error_programs().items()},
               corpus.REJECTED, corpus.CHECK_TIMEOUT),
}


def _reason(detail: str) -> str:
    """A detail without its file and line and quoted names, to group programs failing the same way."""
    detail = re.sub(r"^[\w.+-]+:\d+: ", "", detail)
    return re.sub(r"'[^']*'", "'…'", detail)[:90]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("groups", nargs="*", metavar="GROUP", help=f"any of {', '.join(_GROUPS)} (default: all)")
    parser.add_argument("-k", default="", help="only programs whose name contains this")
    args = parser.parse_args()
    unknown = [g for g in args.groups if g not in _GROUPS]
    if unknown:
        parser.error(f"unknown group {unknown[0]!r}; choose from {', '.join(_GROUPS)}")
    for group in args.groups or list(_GROUPS):
        make, good, timeout = _GROUPS[group]
        jobs = {n: j for n, j in make().items() if args.k in n}
        outcomes = corpus.run_boxed(jobs, timeout)
        bad = [o for o in outcomes.values() if o.status != good]
        print(f"== {group}: {len(outcomes) - len(bad)} of {len(outcomes)} {good}")
        by_reason = collections.defaultdict(list)
        for o in bad:
            by_reason[(o.status, _reason(o.detail))].append(o)
        for (status, _), items in sorted(by_reason.items(), key=lambda kv: -len(kv[1])):
            for o in items:
                print(f"  {status:9} {o.name}: {o.detail}")


if __name__ == "__main__":
    main()
