"""Subcommands of the `dataplane` command line beyond `check`: stf, replay, bench."""

from __future__ import annotations

import os
import sys
import time

from .diagnostics import error


def register(sub) -> None:
    from .cli import _add_program_args

    p = sub.add_parser("stf", help="run a p4c-style STF packet test against a program")
    _add_program_args(p)
    p.add_argument("stf", help="the STF test file")
    p.add_argument("--trace", action="store_true", help="print the trace of every packet")
    p.set_defaults(func=cmd_stf)

    p = sub.add_parser("replay", help="run a program over pcap files, one output pcap per egress port")
    _add_program_args(p)
    group = p.add_mutually_exclusive_group()
    group.add_argument("--runtime", metavar="FILE.json", help="table entries in the P4 tutorials' runtime JSON")
    group.add_argument("--entries", metavar="FILE.yaml", help="table entries in dataplane's YAML form")
    p.add_argument("-i", dest="inputs", action="append", default=[], metavar="PORT=IN.pcap[@END]",
                   help="packets received on PORT (repeatable); pcap or pcapng; @END takes only the packets "
                        "that END (node:interface) sent, from a link capture holding both directions")
    p.add_argument("--out-dir", required=True, metavar="DIR", help="where to write port<N>.pcap")
    p.add_argument("--trace", action="store_true", help="print the trace of every packet")
    p.add_argument("--report", metavar="FILE.html", help="write a self-contained HTML report of the replay (the "
                                                        "first 3000 packets) to step through in a browser")
    p.add_argument("--engine", choices=["auto", "batch", "scalar"], default="auto",
                   help="batch: the whole capture at once in numpy columns (stateless programs only); scalar: "
                        "packet by packet; auto (default): batch when the program allows it")
    p.add_argument("--shards", type=int, metavar="N",
                   help="replay the capture in contiguous pieces on N Dask workers (an embedded cluster; with "
                        "--scheduler, that cluster's workers, 2N pieces in flight), joined into the same files; "
                        "programs with state carried from one packet to the next (register writes, meters, ...) "
                        "are refused")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help="with --shards: the Dask scheduler of a running cluster, e.g. tcp://10.0.0.5:8786")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("bench", help="measure packets per second of pipelines and simulated networks")
    p.add_argument("--packets", type=int, default=200_000, help="packets per benchmark (default 200000)")
    p.add_argument("--which", default="all", metavar="NAMES",
                   help="the benchmarks to run, separated by commas: lpm, acl, replay, batch, router, fat-tree, "
                        "routers-500, routers-1000, routers-2000, floods, tcp, tcp-transfer, sweep, shards, "
                        "or all (default)")
    p.set_defaults(func=cmd_bench)


def _print_warnings(program) -> None:
    for w in list(program.checked.warnings) + list(program.warnings):
        print(w.render(), file=sys.stderr)


def cmd_stf(args) -> int:
    from .build import build
    from .cli import _defines
    from .frontend.preprocess import read_source
    from .runtime.device import Device
    from .stf import run_stf
    program = build(args.program, args.include_dirs, _defines(args.defines))
    _print_warnings(program)
    source = read_source(args.stf, kind="STF files")
    device = Device(program, name=os.path.basename(args.program))
    result = run_stf(device, source, trace=args.trace, echo=print if args.trace else None)
    drops = len(result.drops)
    if result.passed:
        print(f"PASS {args.stf}: {result.packets_in} packet(s) in, {result.packets_out} out, {drops} dropped")
        return 0
    print(f"FAIL {args.stf}: {result.packets_in} packet(s) in, {result.packets_out} out, {drops} dropped")
    for m in result.messages:
        print(m)
    return 1


def cmd_replay(args) -> int:
    from .batch.replay import choose_engine, replay_batch
    from .build import build
    from .cli import _defines
    from .controlplane.loader import load_file
    from .pcap import PcapReader
    from .replay import (
        ReplayCounts,
        Source,
        merged_packets,
        parse_input,
        replay,
        summary,
    )
    from .runtime.device import Device
    from .shards import check_options
    check_options(args)
    program = build(args.program, args.include_dirs, _defines(args.defines))
    _print_warnings(program)
    if args.shards is not None:
        from .shards import check_shardable
        check_shardable(program)
    device = Device(program, name=os.path.basename(args.program))
    if args.runtime or args.entries:
        load_file(device, args.runtime or args.entries)
    if not args.inputs:
        raise error("give at least one input: -i PORT=in.pcap")
    inputs: list[tuple[int, str, str | None]] = []
    for spec in args.inputs:
        inputs.append(parse_input(spec))
    if args.report and args.engine == "batch":
        raise error("--report needs the scalar engine (the batch engine runs whole columns, not packets); "
                    "use --engine scalar or auto")
    batch = choose_engine(args.engine, device, args.trace or bool(args.report))
    recording = None
    if args.report:
        from .views.replay_data import ReplayRecording
        recording = ReplayRecording(device, args.program)
    sources: list[Source] = []
    engine = "batch engine: " if batch is not None else ""
    try:
        for port, path, end in inputs:      # every file header is checked before any packet is sent
            sources.append(Source(port, PcapReader(path), end))
        if args.shards is not None:
            from .shards import run_sharded
            run, workers = run_sharded(args, program, sources, batch is not None, _defines(args.defines))
            counts = run.counts
            engine = f"{'batch engine, ' if batch is not None else ''}{run.pieces} pieces on {workers} workers: "
        elif batch is not None:
            start = time.perf_counter()
            n, out, dropped = replay_batch(batch, inputs, merged_packets(sources), args.out_dir)
            counts = ReplayCounts(n, out, dropped, time.perf_counter() - start)
        else:
            counts = replay(device, sources, args.out_dir, trace=print if args.trace else None,
                            recording=recording)
    finally:
        for s in sources:
            s.reader.close()
    print(summary(counts, engine))
    if recording is not None:
        _write_replay_report(recording, args.report)
    if args.shards is not None:
        n_errors, first = run.internal_errors, run.first_internal_error
    else:
        n_errors = len(device.internal_errors)
        first = device.internal_errors[0][::2] if n_errors else None
    if n_errors:
        # The outputs are written and the packets counted as pipeline_error drops, but a bug is not a drop.
        port, detail = first
        print(f"dataplane: internal error: {n_errors} packets hit a bug in the pipeline (the first on port {port}: "
              f"{detail})", file=sys.stderr)
        print("this is a bug in dataplane; set DATAPLANE_DEBUG=1 for details", file=sys.stderr)
        return 2
    return 0


def _write_replay_report(recording, path: str) -> None:
    from .views.report import write_report
    try:
        size = write_report(path, recording.data(), recording.topology())
    except OSError as exc:
        raise error(f"cannot write the report: {exc.strerror}: {exc.filename}") from None
    kept = "" if not recording.packets - recording.keep > 0 else f", the first {recording.keep} packets"
    print(f"report: {path} ({size / 1e6:.1f} MB, {len(recording.events)} events{kept})")


def cmd_bench(args) -> int:
    from .bench import BENCHMARKS, run_benchmarks
    unknown = [n for n in args.which.split(",") if n not in BENCHMARKS + ("all",)]
    if unknown:
        raise error(f"no benchmark named '{unknown[0]}' (choose from {', '.join(BENCHMARKS)}, or all)")
    for line in run_benchmarks(args.packets, args.which):
        print(line)
    return 0
