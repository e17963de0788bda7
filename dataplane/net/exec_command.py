"""`dataplane exec TOPO HOST -- COMMAND...`: run a real program as if on a simulated host.

The program's scapy sees the host's interfaces and sends and receives through them (scapy_bridge.py
says how, and how simulated time and real time meet). Background programs run at the same time:

    dataplane exec TOPO --bg 'h2:python3 receive.py' h1 -- python3 send.py 10.0.2.2 "P4 is cool"
"""

from __future__ import annotations

import argparse
import contextlib
import shlex
import signal
import sys

from ..diagnostics import error


def register(sub) -> None:
    from .commands import topology_args
    p = sub.add_parser(
        "exec", help="run programs (the P4 tutorials' send.py, receive.py, calc.py) as if on simulated hosts",
        description="Run COMMAND as if on simulated host HOST: scapy in it sees the host's interfaces, "
                    "addresses and routes, and its frames go through the simulated network. The exit "
                    "status is COMMAND's; the run summary goes to standard error.")
    topology_args(p)
    p.add_argument("--bg", action="append", default=[], metavar="HOST:COMMAND",
                   help="also run COMMAND on HOST, started first and stopped (SIGTERM) once the foreground "
                        "command has exited and the network is quiet; its output is printed with HOST: "
                        "in front (repeatable)")
    p.add_argument("--timeout", type=float, default=60.0, metavar="SECONDS",
                   help="stop everything after this many real seconds (default 60; exit status 124)")
    p.add_argument("--settle", default="1s", metavar="TIME",
                   help="after each frame a program sends, simulate what is due within TIME (default 1s)")
    p.add_argument("host", help="the host the command runs on")
    p.add_argument("command", nargs=argparse.REMAINDER, help="the command and its arguments (after --)")
    p.set_defaults(func=cmd_exec)


def parse_background(text: str):
    """--bg HOST:COMMAND as a Program."""
    from .scapy_bridge import Program
    host, sep, command = text.partition(":")
    try:
        argv = shlex.split(command)
    except ValueError as exc:
        raise error(f"--bg '{text}': {exc}") from None
    if not sep or not host.strip() or not argv:
        raise error(f"--bg '{text}': write HOST:COMMAND, e.g. --bg 'h2:python3 receive.py'")
    return Program(host.strip(), argv, background=True)


def cmd_exec(args) -> int:
    from .commands import network
    from .scapy_bridge import ExecError, Program, run_programs
    from .topology import parse_time
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        raise error(f"no command to run on {args.host}: write it after --, e.g. "
                    f"dataplane exec TOPO {args.host} -- python3 send.py 10.0.2.2 hello")
    if args.timeout <= 0:
        raise error("--timeout must be a positive number of seconds")
    try:
        settle_ns = parse_time(args.settle)
    except ValueError as exc:
        raise error(f"--settle: {exc}") from None
    background = [parse_background(text) for text in args.bg]
    # Standard output belongs to the programs; what dataplane has to say goes to standard error.
    with contextlib.redirect_stdout(sys.stderr):
        net, tracer = network(args)
    foreground = Program(args.host, command)
    try:
        result = run_programs(net, foreground, background, timeout_s=args.timeout, settle_ns=settle_ns)
    except ExecError as exc:
        raise error(str(exc)) from None
    finally:
        net.close()
    report = sys.stderr
    if tracer is not None:
        print(tracer.render(), file=report)
    for program in result.programs:
        print(f"*** {program.label}: {_fate(program)}", file=report)
    if result.note:
        print(f"*** {result.note}", file=report)
    print(f"*** {_frames(result.frames_from_programs)} from the programs, {_frames(result.frames_to_programs)} "
          f"to them; simulated time passed: {_duration(result.simulated_ns)}", file=report)
    print(net.summary().render(), file=report)
    if args.pcap:
        files = sum(1 for link in net.links.values() if link.pcap_path is not None)
        print(f"pcap: {files} files in {args.pcap}", file=report)
    return result.status


def _fate(program) -> str:
    if program.proc is None:
        return "not started"
    if program.stopped:
        return program.stopped
    if program.status < 0:
        return f"killed by {signal.Signals(-program.status).name}"
    return f"exit status {program.status}"


def _frames(n: int) -> str:
    return f"{n} frame{'' if n == 1 else 's'}"


def _duration(ns: int) -> str:
    if ns == 0:
        return "0 s"
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.3f} s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.3f} ms"
    return f"{ns / 1e3:.3f} us"
