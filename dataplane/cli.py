"""The `dataplane` command line.

Every subcommand turns user errors (DiagnosticError) into compiler-style
messages on stderr and exit status 1. An unexpected internal exception is
reported as an internal error with exit status 2; set DATAPLANE_DEBUG=1 to
see its traceback.
"""

from __future__ import annotations

import argparse
import os
import sys
import traceback

from .diagnostics import DiagnosticError
from .termsafe import EscapingWriter


def _add_program_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("program", help="the P4 program (.p4)")
    p.add_argument("-I", dest="include_dirs", action="append", default=[], metavar="DIR",
                   help="add DIR to the include search path")
    p.add_argument("-D", dest="defines", action="append", default=[], metavar="NAME[=VALUE]",
                   help="define a preprocessor macro")


def _defines(items: list[str]) -> dict[str, str]:
    out = {}
    for item in items:
        name, _, value = item.partition("=")
        out[name] = value if value else "1"
    return out


def cmd_check(args) -> int:
    from .frontend.program import load_program, summary
    prog = load_program(args.program, args.include_dirs, _defines(args.defines))
    for w in prog.warnings:
        print(w.render(), file=sys.stderr)
    if not args.quiet:
        print(summary(prog))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dataplane",
        description="A P4_16 programmable data-plane emulator.")
    parser.add_argument("--version", action="version", version=f"dataplane {_version()}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("check", help="parse and check a P4 program; print a summary")
    _add_program_args(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing on success")
    p.set_defaults(func=cmd_check)

    _register_more(sub)
    return parser


def _register_more(sub) -> None:
    """Subcommands defined in other modules register themselves here."""
    import importlib
    for module in ("dataplane.commands", "dataplane.net.commands", "dataplane.net.shell",
                   "dataplane.net.exec_command", "dataplane.plot", "dataplane.p4runtime.commands",
                   "dataplane.sweep.commands"):
        try:
            mod = importlib.import_module(module)
        except ModuleNotFoundError as exc:
            if exc.name != module:
                raise
            continue
        mod.register(sub)


def _version() -> str:
    from . import __version__
    return __version__


def main(argv: list[str] | None = None) -> int:
    # Names in user files reach the terminal in messages, summaries and traces;
    # escape control characters at the stream so no print site can forget.
    saved = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = EscapingWriter(sys.stdout), EscapingWriter(sys.stderr)
    try:
        return _run(argv)
    finally:
        sys.stdout, sys.stderr = saved


def _run(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args) or 0
    except DiagnosticError as exc:
        print(exc.render(), file=sys.stderr)
        n = sum(1 for d in exc.diagnostics if d.severity == "error")
        if n > 1:
            print(f"{n} errors", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # an internal error: never show a traceback unless asked
        if os.environ.get("DATAPLANE_DEBUG"):
            traceback.print_exc()
        print(f"dataplane: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("this is a bug in dataplane; set DATAPLANE_DEBUG=1 for details", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
