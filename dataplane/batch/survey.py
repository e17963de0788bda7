"""Which programs the batch engine runs, and what keeps the others out, counted by reason.

    python -m dataplane.batch.survey [PROGRAM.p4 | DIRECTORY ...]

Each program is built and asked what `replay --engine auto` asks (why_not_batch); the reasons are
counted with the names of the program's own objects left out ("the register 'r'" counts as "the
register"), most frequent first. A program that does not compile, or takes too long, is counted as
such. Programs are built in child processes (one at a time, each under a time limit), so one that
hangs or exhausts memory cannot stop the survey.
"""

from __future__ import annotations

import argparse
import multiprocessing
import re
import signal
import sys
from collections import Counter
from pathlib import Path

TIME_LIMIT = 60
# Reasons that come from state carried from one packet to the next (or packets made or sent again):
# the batch engine leaves these out by design, not for want of a construct.
STATEFUL = ("register", "counter", "meter", "clone", "recirculate", "resubmit", "digest", "random", "truncate",
            "action profile", "action selector", "direct counter", "direct_counter", "direct_meter")


def reason_of(path: str) -> tuple[str, str]:
    """(kind, text): kind is 'batch', 'scalar' (with the reason), 'no-compile' or 'error'."""
    from ..build import build
    from ..diagnostics import DiagnosticError
    from .engine import why_not_batch
    signal.alarm(TIME_LIMIT)
    try:
        program = build(path)
        why = why_not_batch(program)
    except DiagnosticError as exc:
        return "no-compile", str(exc).splitlines()[0] if str(exc) else "diagnostic"
    except Exception as exc:              # a crash is counted, not hidden: its type is the reason
        return "error", type(exc).__name__
    finally:
        signal.alarm(0)
    if why is None:
        return "batch", ""
    return "scalar", why.what


def general(what: str) -> str:
    """A reason without the program's own names and numbers, so that like reasons count together."""
    what = re.sub(r"'[^']*'", "", what)
    what = re.sub(r"\([^()]*\)", "", what)
    what = re.sub(r"\b\d+\b", "N", what)
    what = re.sub(r"\w+\[N\] in the headers struct", "header stacks in the headers struct", what)
    what = re.sub(r"values of type \S+", "values of another type (a header, struct or tuple as a value)", what)
    return re.sub(r"\s+", " ", what).strip()


def programs_in(paths: list[str]) -> list[Path]:
    found = []
    for p in map(Path, paths):
        if p.is_dir():
            found.extend(q for q in sorted(p.glob("*.p4")) + sorted(p.glob("*/*.p4"))
                         if "include" not in q.parts and b"v1model.p4" in q.read_bytes())
        else:
            found.append(p)
    return found


def survey(paths: list[Path]) -> dict[Path, tuple[str, str]]:
    ctx = multiprocessing.get_context("fork")
    out = {}
    with ctx.Pool(1, maxtasksperchild=20) as pool:
        for path, result in zip(paths, pool.imap(reason_of, [str(p) for p in paths])):
            out[path] = result
    return out


def render(results: dict[Path, tuple[str, str]]) -> list[str]:
    kinds = Counter(kind for kind, _ in results.values())
    reasons = Counter(general(text) for kind, text in results.values() if kind == "scalar")
    stateless = Counter(general(text) for kind, text in results.values()
                        if kind == "scalar" and not any(w in text for w in STATEFUL))
    lines = [f"{len(results)} programs: {kinds['batch']} run by the batch engine, {kinds['scalar']} by the "
             f"scalar engine only, {kinds['no-compile']} do not compile, {kinds['error']} failed"]
    lines.append("reasons (all programs the batch engine does not run):")
    lines += [f"  {n:4d}  {r}" for r, n in reasons.most_common()]
    lines.append("of which not about state carried between packets:")
    lines += [f"  {n:4d}  {r}" for r, n in stateless.most_common()]
    lines.append("run by the batch engine: " + ", ".join(sorted(p.name for p, (k, _) in results.items()
                                                                 if k == "batch")))
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dataplane.batch.survey", description=__doc__.split("\n")[0])
    parser.add_argument("paths", nargs="+", help="P4 programs, or folders of them (v1model programs only)")
    parser.add_argument("--each", action="store_true", help="also list every program with its reason")
    args = parser.parse_args(argv)
    results = survey(programs_in(args.paths))
    print("\n".join(render(results)))
    if args.each:
        for path, (kind, text) in results.items():
            print(f"{path}: {kind}{': ' + text if text else ''}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
