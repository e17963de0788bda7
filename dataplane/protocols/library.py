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
from .compiled import compile_header


class HeaderCodec:
    """Pack and unpack one header type: fixed fields, then an optional varbit part (bytes).

    pack(**values) and unpack(data, offset) are the general forms; pack_fields(*values) (every fixed field,
    in order, as ints) and unpack_fields(data, offset) (a tuple in that order) are the fast ones that host
    stacks use per packet. All are generated once from the layout (compiled.py) and give the same bytes
    and values as pack_generic and unpack_generic, which walk the fields."""

    def __init__(self, layout: HeaderLayout):
        self.layout = layout
        self.name = layout.name
        self.size = layout.fixed_bytes
        self.fields = [(n, layout.fields[n].offset, layout.fields[n].width) for n in layout.order
                       if n in layout.fields]
        self.field_names = tuple(n for n, _, _ in self.fields)
        self.varbit = layout.varbit[0] if layout.varbit else None
        self.compiled = compile_header(self.name, self.fields, self.size, self.pack_generic)
        if self.compiled is not None:
            self.pack_fields = self.compiled["pack_fields"]
            self.unpack_fields = self.compiled["unpack_fields"]
            self.unpack = self.compiled["unpack_dict"]
            if self.varbit is None:
                self.pack = self._pack_compiled

    def _pack_compiled(self, **values) -> bytes:
        args = [values.pop(name) if name in values else 0 for name in self.field_names]
        if values:
            return self.pack_generic(**dict(zip(self.field_names, args)), **values)
        return self.pack_fields(*args)

    def pack(self, **values) -> bytes:
        return self.pack_generic(**values)

    def pack_generic(self, **values) -> bytes:
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

    def pack_fields(self, *values) -> bytes:
        return self.pack_generic(**dict(zip(self.field_names, values)))

    def unpack(self, data: bytes, offset: int = 0) -> dict:
        """The fixed fields at data[offset:]; raises ValueError if data is too short."""
        return self.unpack_generic(data, offset)

    def unpack_fields(self, data: bytes, offset: int = 0) -> tuple:
        return tuple(self.unpack_generic(data, offset).values())

    def unpack_generic(self, data: bytes, offset: int = 0) -> dict:
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
