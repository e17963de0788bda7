"""`dataplane p4info PROGRAM.p4 [-o FILE] [--format text|binary|json]`: the program's P4Info."""

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
