"""`dataplane p4info PROGRAM.p4 [-o FILE] [--format text|binary|json]`: the program's P4Info;
`dataplane serve PROGRAM.p4 [--grpc-port 9559]`: a P4Runtime server for one device running it."""

from __future__ import annotations

import sys

from ..diagnostics import error


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
    """Serve until interrupted. The program is compiled first, so its errors show before anyone connects;
    a controller still has to set the pipeline (SetForwardingPipelineConfig) before writing, as with BMv2."""
    import signal
    import threading

    from ..cli import _defines
    from .errors import P4RuntimeError
    from .server import P4RuntimeSwitch, build_cached, start_server
    if not 0 < args.grpc_port < 65536:
        raise error(f"--grpc-port {args.grpc_port} is not a TCP port number (1..65535)")
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
        raise error(exc.message) from None
    print(f"P4Runtime server for {args.program} listening on {address} (device ID {args.device_id}); "
          f"stop it with Ctrl-C", flush=True)
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        print("stopping the P4Runtime server", flush=True)
    finally:
        server.stop(1).wait(5)
    return 0


def _interrupt(signum, frame):
    raise KeyboardInterrupt
