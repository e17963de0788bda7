"""`dataplane p4info PROGRAM.p4 [-o FILE] [--format text|binary|json]`: the program's P4Info;
`dataplane serve PROGRAM.p4 [--grpc-port 9559] [-i PORT=FILE.pcap ...] [--out-dir DIR] [--wait SECONDS]`:
a P4Runtime server for one device running it, its ports optionally fed from captures (as BMv2's --use-files)."""

from __future__ import annotations

import sys
import threading

from ..diagnostics import DiagnosticError, error


def register(sub) -> None:
    from ..cli import _add_program_args
    from .p4info import FORMATS

    p = sub.add_parser("p4info", help="write the P4Runtime P4Info of a program (as p4c's --p4runtime-files does)")
    _add_program_args(p)
    p.add_argument("-o", "--output", metavar="FILE",
                   help="where to write it (default: standard output); a name ending in .bin or .pb selects "
                        "binary, .json JSON, anything else text")
    p.add_argument("--format", choices=FORMATS, help="text protobuf (default), binary protobuf or JSON")
    p.set_defaults(func=cmd_p4info)

    p = sub.add_parser("serve", help="run one device behind a P4Runtime server (as simple_switch_grpc does)")
    _add_program_args(p)
    p.add_argument("--grpc-port", type=int, default=9559, metavar="PORT",
                   help="the TCP port to listen on (default: 9559, as simple_switch_grpc)")
    p.add_argument("--grpc-host", default="127.0.0.1", metavar="ADDRESS",
                   help="the address to listen on (default: 127.0.0.1; 0.0.0.0 for every interface)")
    p.add_argument("--device-id", type=int, default=0, metavar="N", help="the P4Runtime device ID (default: 0)")
    p.add_argument("--cpu-port", type=int, default=510, metavar="PORT",
                   help="the port that carries packets to and from the controller (default: 510)")
    p.add_argument("-i", "--input", dest="inputs", action="append", default=[], metavar="PORT=FILE.pcap",
                   help="packets that enter PORT, from a pcap or pcapng capture (repeatable); they are replayed "
                        "once, when the primary controller disconnects after setting the pipeline, or --wait "
                        "seconds after the start; the device's output on port N goes to DIR/portN.pcap")
    p.add_argument("--out-dir", default=".", metavar="DIR",
                   help="where the output captures go (default: the current directory)")
    p.add_argument("--wait", type=float, metavar="SECONDS",
                   help="replay the inputs this many seconds after the server starts (as simple_switch "
                        "--use-files), instead of when the controller disconnects")
    p.set_defaults(func=cmd_serve)


def cmd_p4info(args) -> int:
    from ..build import build
    from ..cli import _defines
    from .p4info import build_p4info, format_for_path, p4info_bytes
    program = build(args.program, args.include_dirs, _defines(args.defines))
    for w in list(program.checked.warnings) + list(program.warnings):
        print(w.render(), file=sys.stderr)
    fmt = args.format or (format_for_path(args.output) if args.output else "text")
    data = p4info_bytes(build_p4info(program), fmt)
    if not args.output or args.output == "-":
        if fmt == "binary" and sys.stdout.isatty():
            raise error("binary P4Info is not written to a terminal: give -o FILE")
        out = getattr(sys.stdout, "buffer", None)
        if out is None:
            sys.stdout.write(data.decode("utf-8", "replace"))
        else:
            sys.stdout.flush()
            out.write(data)
            out.flush()
        return 0
    try:
        with open(args.output, "wb") as f:
            f.write(data)
    except OSError as exc:
        raise error(f"cannot write the P4Info: {exc.strerror}: {args.output}") from None
    return 0


def cmd_serve(args) -> int:
    """Serve until interrupted. The program is compiled and the captures opened first, so their errors show
    before anyone connects; a controller still has to set the pipeline (SetForwardingPipelineConfig) before
    writing, as with BMv2."""
    import signal

    from ..cli import _defines
    from .errors import P4RuntimeError
    from .server import P4RuntimeSwitch, build_cached, start_server
    if not 0 < args.grpc_port < 65536:
        raise error(f"--grpc-port {args.grpc_port} is not a TCP port number (1..65535)")
    if args.wait is not None and not 0 <= args.wait < 1e6:
        raise error(f"--wait {args.wait:g} is not a number of seconds (0 or more)")
    sources = _open_captures(args.inputs)
    defines = _defines(args.defines)
    program = build_cached(args.program, args.include_dirs, defines)
    for w in list(program.checked.warnings) + list(program.warnings):
        print(w.render(), file=sys.stderr)
    switch = P4RuntimeSwitch("device", args.device_id, args.program, args.include_dirs, defines,
                             cpu_port=args.cpu_port)
    address = f"{args.grpc_host}:{args.grpc_port}"
    try:
        server = start_server(switch, address)
    except P4RuntimeError as exc:
        _close(sources)
        raise error(exc.message) from None
    print(f"P4Runtime server for {args.program} listening on {address} (device ID {args.device_id}); "
          f"stop it with Ctrl-C", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        if sources:
            _replay_when_ready(switch, sources, args.out_dir, args.wait)
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping the P4Runtime server", flush=True)
    finally:
        _close(sources)
        server.stop(1).wait(5)
    return 0


def _open_captures(specs: list[str]) -> list:
    """The -i captures, every one checked before the server starts. Only files: a live interface would need
    raw sockets (and privileges), which this server does not open."""
    import os

    from ..pcap import PcapReader
    from ..replay import Source, parse_input
    inputs = [parse_input(spec) for spec in specs]
    sources: list = []
    try:
        for port, path, end in inputs:
            if not os.path.isfile(path):
                raise error(f"-i {port}={path}: no such capture file; dataplane serve feeds ports from pcap or "
                            f"pcapng files only (live interfaces would need raw sockets, which it does not open)")
            sources.append(Source(port, PcapReader(path), end))
    except BaseException:
        _close(sources)
        raise
    return sources


def _close(sources: list) -> None:
    for s in sources:
        s.reader.close()


def _replay_when_ready(switch, sources: list, out_dir: str, wait: float | None) -> None:
    """Replay the captures once: when the primary controller closes its stream after setting a pipeline, or
    `wait` seconds after the start. Under the switch's lock, so no Write changes the tables meanwhile."""
    from ..replay import replay, summary
    ready = threading.Event()
    if wait is None:
        switch.on_primary_closed = ready.set
        ready.wait()
    else:
        ready.wait(wait)
    with switch.lock:
        if switch.device is None:
            print(f"no pipeline was set within {wait:g} seconds: the captures are not replayed "
                  f"(the server goes on)", file=sys.stderr, flush=True)
            return
        try:
            counts = replay(switch.device, sources, out_dir)
        except DiagnosticError as exc:
            # A capture broken past its header: said as `dataplane replay` says it; the server goes on.
            print(exc.render(), file=sys.stderr, flush=True)
            return
    print(summary(counts), flush=True)


def _interrupt(signum, frame):
    raise KeyboardInterrupt
