"""The protocol header library, read from inet.p4 by our own front end.

inet.p4 is the one place where header layouts and protocol numbers are
written down. P4 programs include it; Python code (host stacks, the router
agents, the dissector) gets the same layouts from here:

    lib = inet()
    lib.header("ipv4_t")            # a HeaderCodec
    lib.const("IP_PROTO_UDP")       # 17
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from ..compiler.layout import HeaderLayout, header_layout
from ..diagnostics import SourceFile
from ..frontend import ast as A


class HeaderCodec:
    """Pack and unpack one header type: fixed fields, then an optional varbit part (bytes)."""

    def __init__(self, layout: HeaderLayout):
        self.layout = layout
        self.name = layout.name
        self.size = layout.fixed_bytes
        self.fields = [(n, layout.fields[n].offset, layout.fields[n].width) for n in layout.order
                       if n in layout.fields]
        self.varbit = layout.varbit[0] if layout.varbit else None

    def pack(self, **values) -> bytes:
        bits = 0
        for name, offset, width in self.fields:
            v = int(values.pop(name, 0))
            if v < 0 or v >> width:
                raise ValueError(f"{self.name}.{name} = {v} does not fit in {width} bits")
            bits |= v << offset
        tail = b""
        if self.varbit is not None:
            tail = bytes(values.pop(self.varbit, b""))
        if values:
            raise TypeError(f"{self.name} has no field {next(iter(values))!r}")
        return bits.to_bytes(self.size, "big") + tail

    def unpack(self, data: bytes, offset: int = 0) -> dict:
        """The fixed fields at data[offset:]; raises ValueError if data is too short."""
        end = offset + self.size
        if end > len(data):
            raise ValueError(f"{self.name} needs {self.size} bytes, only {len(data) - offset} left")
        bits = int.from_bytes(data[offset:end], "big")
        return {name: (bits >> off) & ((1 << width) - 1) for name, off, width in self.fields}


@dataclass
class Library:
    headers: dict[str, HeaderCodec]
    consts: dict[str, int]

    def header(self, name: str) -> HeaderCodec:
        return self.headers[name]

    def const(self, name: str) -> int:
        return self.consts[name]


_INET_SOURCE = '#include <core.p4>\n#include <inet.p4>\n'


@functools.lru_cache(maxsize=None)
def inet() -> Library:
    from ..frontend.program import check_source
    checked = check_source(SourceFile("<inet.p4>", _INET_SOURCE), library=True)
    headers = {}
    consts = {}
    for d in checked.ast.declarations:
        if isinstance(d, A.HeaderDeclaration) and d.span.path.endswith("inet.p4"):
            headers[d.name] = HeaderCodec(header_layout(d.resolved))
        elif isinstance(d, A.ConstantDeclaration) and d.span.path.endswith("inet.p4"):
            consts[d.name] = d.symbol.value
    return Library(headers, consts)
