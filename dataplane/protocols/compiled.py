"""Pack and unpack functions generated once per header layout, for the host stacks' hot paths.

A header's fixed fields are cut into slots that each end on a byte boundary:
a field of 8, 16, 32 or 64 bits is a slot of its own, and narrow fields
are grouped with their neighbours until the group ends on one (ipv4_t's
version and ihl make one byte). A slot of 8, 16, 32 or 64 bits is one
`struct` code (B, H, I, Q); any other width (a 48-bit MAC address, a
128-bit IPv6 address) is a byte string made with `int.to_bytes`. The
generated code then packs a header with one `struct.pack` call and unpacks
it with one `struct.unpack_from`, instead of walking the fields one by one
over a number as wide as the header.

The functions give exactly what the generic walk gives (library.HeaderCodec
keeps it as `pack_generic` / `unpack_generic`; tests compare them on random
values): a value that does not fit, or is not an integer, takes the
generic path, which converts it with int() or raises its ValueError.

The generated source contains no text from the P4 file but field names,
which the P4 grammar has made identifiers, and numbers.
"""

from __future__ import annotations

import struct
from typing import Callable

_CODES = {8: "B", 16: "H", 32: "I", 64: "Q"}


class Slot:
    """Consecutive fields that together end on a byte boundary: [(name, shift in the slot, width)]."""

    def __init__(self, fields: list[tuple[str, int, int]], width: int):
        self.fields = fields
        self.width = width

    @property
    def code(self) -> str:
        return _CODES.get(self.width) or f"{self.width // 8}s"

    @property
    def is_bytes(self) -> bool:
        return self.width not in _CODES


def slots_of(fields: list[tuple[str, int, int]]) -> list[Slot] | None:
    """The slots of fields given as (name, bit offset from the end of the header, width), first field first;
    None when the fields do not follow each other without gaps (then nothing is compiled)."""
    out: list[Slot] = []
    group: list[tuple[str, int, int]] = []
    expected = sum(w for _, _, w in fields)
    bits = 0
    for name, offset, width in fields:
        expected -= width
        if offset != expected or width <= 0:
            return None
        group.append((name, offset, width))
        bits += width
        if bits % 8 == 0:
            low = offset
            out.append(Slot([(n, o - low, w) for n, o, w in group], bits))
            group, bits = [], 0
    if group:
        return None
    return out


def _var(name: str) -> str:
    """The Python variable that holds field `name` in generated code (names from P4 are identifiers; the
    prefix keeps them apart from Python's keywords and from the generated code's own names)."""
    if not name.isidentifier():
        raise ValueError(f"field name {name!r} is not an identifier")
    return "f_" + name


def compile_header(title: str, fields: list[tuple[str, int, int]], size: int,
                   generic_pack: Callable[..., bytes]) -> dict | None:
    """{'pack_fields', 'unpack_fields', 'unpack_dict'} for one header, or None if its layout has gaps.

    pack_fields(*values) takes the fixed fields in order and returns the bytes; a value that is not a
    non-negative int that fits goes to generic_pack(**values) (converted with int() or refused there).
    unpack_fields(data, offset=0) gives the values as a tuple in field order, unpack_dict as a dict."""
    slots = slots_of(fields)
    if slots is None:
        return None
    names = [n for n, _, _ in fields]
    params = ", ".join(_var(n) for n in names)
    fmt = "!" + "".join(s.code for s in slots)
    lines = [f"def pack_fields({params}):", "    try:"]
    # The fields that struct cannot check (those sharing a slot, and those made into bytes) must fit their
    # width: v >> width is 0 for those that do, and not 0 for a negative v too. Fields of one width are
    # checked together (the OR of values that fit fits).
    by_width: dict[int, list[str]] = {}
    for slot in slots:
        if len(slot.fields) > 1 or slot.is_bytes:
            for n, _, w in slot.fields:
                by_width.setdefault(w, []).append(_var(n))
    narrow = [f"({' | '.join(names)}) >> {w}" if len(names) > 1 else f"{names[0]} >> {w}"
              for w, names in by_width.items()]
    if narrow:
        lines += [f"        if {' | '.join(f'({c})' for c in narrow)}:", "            raise OverflowError"]
    parts = []
    for s in slots:
        expr = " | ".join(f"({_var(n)} << {shift})" if shift else _var(n) for n, shift, _ in s.fields)
        parts.append(f"({expr}).to_bytes({s.width // 8}, 'big')" if s.is_bytes else expr)
    lines += [f"        return _pack({', '.join(parts)})",
              "    except (OverflowError, TypeError, _struct_error):",
              f"        return _generic({', '.join(f'{n}={_var(n)}' for n in names)})", ""]
    slot_vars = [f"s{i}" for i in range(len(slots))]
    values = []
    for var, s in zip(slot_vars, slots):
        for n, shift, w in s.fields:
            v = var
            if shift:
                v = f"({v} >> {shift})"
            if shift + w < s.width:
                v = f"({v} & {(1 << w) - 1:#x})"
            values.append(v)
    unpacked = "".join(f"{v}, " for v in slot_vars)
    for name, body in (("unpack_fields", f"({''.join(f'{v}, ' for v in values)})"),
                       ("unpack_dict", "{" + ", ".join(f"{n!r}: {v}" for n, v in zip(names, values)) + "}")):
        lines += [f"def {name}(data, offset=0):",
                  f"    if offset + {size} > len(data):",
                  f"        raise ValueError(f'{{_title}} needs {size} bytes, only {{len(data) - offset}} left')"]
        if slots:
            lines.append(f"    {unpacked}= _unpack_from(data, offset)")
        bytes_slots = [(v, s) for v, s in zip(slot_vars, slots) if s.is_bytes]
        for v, _s in bytes_slots:
            lines.append(f"    {v} = _from_bytes({v}, 'big')")
        lines += [f"    return {body}", ""]
    code = "\n".join(lines)
    s = struct.Struct(fmt)
    env = {"_pack": s.pack, "_unpack_from": s.unpack_from, "_struct_error": struct.error,
           "_generic": generic_pack, "_from_bytes": int.from_bytes, "_title": title}
    exec(compile(code, "<header codec>", "exec"), env)
    # A plain header has one field a slot and no byte-string slot: its struct packs the field values as they
    # are (for values already known to fit, as when a header is packed again with its checksum).
    plain = all(len(slot.fields) == 1 and not slot.is_bytes for slot in slots)
    return {"pack_fields": env["pack_fields"], "unpack_fields": env["unpack_fields"],
            "unpack_dict": env["unpack_dict"], "source": code, "struct": s, "plain": plain}
