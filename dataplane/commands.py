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
    p.add_argument("--engine", choices=["auto", "batch", "scalar"], default="auto",
                   help="batch: the whole capture at once in numpy columns (stateless programs only); scalar: "
                        "packet by packet; auto (default): batch when the program allows it")
    p.set_defaults(func=cmd_replay)

    p = sub.add_parser("bench", help="measure packets per second of pipelines and simulated networks")
    p.add_argument("--packets", type=int, default=200_000, help="packets per benchmark (default 200000)")
    p.add_argument("--which", choices=["lpm", "acl", "batch", "fat-tree", "routers-500", "floods", "tcp", "all"], default="all")
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
    import heapq
    import re

    from .batch.replay import choose_engine, replay_batch
    from .build import build
    from .cli import _defines
    from .controlplane.loader import load_file
    from .inputs import whole_file
    from .pcap import PcapReader, PcapWriter
    from .runtime.device import Device
    program = build(args.program, args.include_dirs, _defines(args.defines))
    _print_warnings(program)
    device = Device(program, name=os.path.basename(args.program))
    if args.runtime or args.entries:
        load_file(device, args.runtime or args.entries)
    if not args.inputs:
        raise error("give at least one input: -i PORT=in.pcap")
    inputs: list[tuple[int, str, str | None]] = []
    for spec in args.inputs:
        port_s, sep, path = spec.partition("=")
        port_s = port_s.strip()
        # ASCII digits only: str.isdigit() and int() also take other scripts' digits, such as '１'.
        if not sep or not re.fullmatch(r"[0-9]+", port_s):
            raise error(f"'{spec}': inputs are written PORT=FILE.pcap, e.g. -i 1=h1.pcap")
        if len(port_s) > 3 or int(port_s) >= 511:      # the length first: int() refuses thousands of digits
            shown = port_s if len(port_s) <= 12 else port_s[:12] + "..."
            raise error(f"'{shown}={path}': port {shown} is out of range (0..510)")
        # FILE@END: of a pcapng capture of a link (two ends), only the packets END sent, the ones that
        # would enter a device on the other end; a file whose whole name holds an @ is taken as it is.
        end = None
        if "@" in path and not os.path.exists(path):
            path, _, end = path.rpartition("@")
        inputs.append((int(port_s), path, end))
    batch = choose_engine(args.engine, device, args.trace)
    readers: list[PcapReader] = []
    writers: dict[int, PcapWriter] = {}
    try:
        for port, path, _end in inputs:      # every file header is checked before any packet is sent
            readers.append(PcapReader(path))

        def stamped(port: int, reader: PcapReader, end: str | None):
            first = None
            for rec in reader:
                if end is not None:
                    if rec.interface != end:
                        continue
                elif rec.interface is not None:
                    # Both directions of a link in one file: replaying them all would feed a device
                    # its own output. Say which end's packets enter the port.
                    first = rec.interface if first is None else first
                    if rec.interface != first:
                        raise error(f"it holds the packets of more than one interface ({first}, "
                                    f"{rec.interface}); choose the end whose packets enter port {port}: "
                                    f"-i {port}={reader.path}@{first}", whole_file(reader.path))
                yield rec.time_ns, port, rec.data

        # Records are read as they are replayed, never all at once: the inputs are merged by time (equal
        # times keep the order of the -i arguments); within a file they are replayed in file order.
        packets = heapq.merge(*(stamped(port, r, end) for (port, _, end), r in zip(inputs, readers)),
                              key=lambda x: x[0])
        os.makedirs(args.out_dir, exist_ok=True)
        out_counts: dict[int, int] = {}
        drop_counts: dict[str, int] = {}
        count = 0
        now_ns = 0
        start = time.perf_counter()
        process = device.process
        if batch is not None:
            count, out_counts, drop_counts = replay_batch(batch, inputs, packets, args.out_dir)
            packets = ()
        for t_ns, port, data in packets:
            count += 1
            now_ns = max(now_ns, t_ns)     # a record stamped before one already replayed cannot go back in time
            if args.trace:
                r = process(port, data, now_us=now_ns / 1000.0, trace=True)
                print(r.trace.render())
                outputs, drops = r.outputs, r.drops
            else:
                device.now_us = now_ns / 1000.0
                outputs, drops = device.process_raw(port, data)
            for out_port, pkt in outputs:
                w = writers.get(out_port)
                if w is None:
                    w = writers[out_port] = PcapWriter(os.path.join(args.out_dir, f"port{out_port}.pcap"))
                w.write(pkt, now_ns)
                out_counts[out_port] = out_counts.get(out_port, 0) + 1
            for reason, _detail in drops:
                key = reason.name.lower()
                drop_counts[key] = drop_counts.get(key, 0) + 1
        elapsed = time.perf_counter() - start
    finally:
        for w in writers.values():
            w.close()
        for r in readers:
            r.close()
    outs = ", ".join(f"port {p}: {n}" for p, n in sorted(out_counts.items())) or "none"
    drops = ", ".join(f"{k} {n}" for k, n in sorted(drop_counts.items())) or "none"
    rate = count / elapsed if elapsed > 0 else 0.0
    engine = "batch engine: " if batch is not None else ""
    print(f"replay: {count} packets in; out {outs}; dropped {sum(drop_counts.values())} ({drops}); "
          f"{engine}{rate:,.0f} packets/s")
    return 0


def cmd_bench(args) -> int:
    from .bench import run_benchmarks
    for line in run_benchmarks(args.packets, args.which):
        print(line)
    return 0
