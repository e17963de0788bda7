"""Where P4 values live at run time, and how generated code reads and writes them.

The generated pipeline keeps all per-packet state (headers, user metadata,
standard metadata) in one object ``p`` of a generated class whose attributes
are the *flattened* paths of the P4 structs: ``hdr.ipv4`` becomes the two
attributes ``h_ipv4_v`` (validity) and ``h_ipv4_b`` (all the header's fixed
fields packed into one integer, exactly as on the wire), ``meta.nhop`` becomes
``m_nhop``. Local variables of the P4 program become Python locals in the same
way. Because P4 is statically typed, every whole-struct operation (copy,
emit, comparison) expands at compile time into operations on these leaves.

A *place* is the compile-time description of such storage:

- :class:`Scalar` subclasses hold one number or bool (an attribute, a local,
  an attribute chosen at run time for a dynamic stack index, a field inside
  a header's packed bits, or a slice of another scalar);
- :class:`HeaderPlace`, :class:`StructPlace`, :class:`UnionPlace` and
  :class:`StackPlace` are aggregates of other places.

Each scalar renders Python source for reading (``read()``) and a Python
statement for writing (``write(value)``); values are already masked to the
scalar's width by the code that computes them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from ..frontend.types import (BitsType, BoolType, EnumType, ErrorType, StackType, StructLikeType, TupleType,
                              Type, VarbitType, strip_newtype)


# Attribute names of the state class are pasted into generated code as they are: they must be built
# from P4 identifiers (ASCII, checked by the lexer) and never from user strings such as @name bodies.
_ATTRIBUTE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")


class LayoutError(Exception):
    """A program construct that the code generator cannot lay out. `span`: where in the program, when the
    layout knows it better than the caller (a field of a declaration); else the caller's span is used."""

    def __init__(self, message: str, span=None):
        super().__init__(message)
        self.span = span


# The most places one PlaceBuilder lays out (every struct, header, stack and field of every value it holds,
# flattened). Structs that each hold two of the one before double at every level: 40 levels would be 2^40
# fields. p4c's samples need fewer than 2,000 for their whole packet state.
MAX_PLACES = 100_000


# ---------------------------------------------------------------------------- header layouts


@dataclass
class FieldLayout:
    name: str
    offset: int          # bit offset of the field's least significant bit within the packed fixed part
    width: int
    type: Type
    # A struct-typed field (P4_16 7.2.2) is stored flat inside the header's bits: its own fields, laid out
    # in order at offsets counted from the header's least significant bit as for any other field.
    members: dict[str, "FieldLayout"] | None = None
    # An array-typed field (bit<8>[4] a;): its elements, consecutive on the wire, element 0 first (so at the
    # highest offset), each `width // len(elements)` bits wide.
    elements: list["FieldLayout"] | None = None

    @property
    def mask(self) -> int:
        return (1 << self.width) - 1


@dataclass
class HeaderLayout:
    """The wire layout of a header type: fixed fields packed big-endian, then an optional varbit."""
    type: StructLikeType
    fields: dict[str, FieldLayout]
    fixed_width: int
    varbit: tuple[str, int] | None = None      # (field name, maximum width in bits)
    order: list[str] = field(default_factory=list)

    @property
    def fixed_bytes(self) -> int:
        return self.fixed_width // 8

    @property
    def name(self) -> str:
        return self.type.name


def scalar_width(t: Type) -> int:
    t = strip_newtype(t)
    if isinstance(t, BitsType):
        return t.width
    if isinstance(t, BoolType):
        return 1
    if isinstance(t, EnumType):
        return t.underlying.width if t.underlying is not None else 32
    if isinstance(t, ErrorType):
        return 32
    raise LayoutError(f"type {t} has no fixed width")


def fixed_width(t: Type) -> int:
    """The width of a scalar, or of a struct of scalars laid out flat (a struct-typed header field)."""
    st = strip_newtype(t)
    if isinstance(st, StructLikeType) and st.is_struct:
        return sum(fixed_width(ft) for ft in st.fields.values())
    if isinstance(st, StackType) and not st.is_header_stack:
        return fixed_width(st.element) * st.size
    return scalar_width(t)


def _field_layout(name: str, t: Type, offset: int) -> FieldLayout:
    """The layout of a field whose least significant bit is at `offset`; struct fields get member layouts."""
    width = fixed_width(t)
    st = strip_newtype(t)
    if isinstance(st, StackType):
        stride = fixed_width(st.element)
        elements = [_field_layout(f"{name}[{i}]", st.element, offset + (st.size - 1 - i) * stride)
                    for i in range(st.size)]
        return FieldLayout(name, offset, width, t, elements=elements)
    if not (isinstance(st, StructLikeType) and st.is_struct):
        return FieldLayout(name, offset, width, t)
    members: dict[str, FieldLayout] = {}
    end = offset + width
    for member, mt in st.fields.items():
        end -= fixed_width(mt)
        members[member] = _field_layout(member, mt, end)
    return FieldLayout(name, offset, width, t, members)


_LAYOUTS: dict[int, HeaderLayout] = {}


def header_layout(t: StructLikeType) -> HeaderLayout:
    cached = _LAYOUTS.get(id(t))
    if cached is not None and cached.type is t:
        return cached
    names = list(t.fields)
    varbit = None
    fixed: list[tuple[str, int, Type]] = []
    for i, name in enumerate(names):
        ft = strip_newtype(t.fields[name])
        if isinstance(ft, VarbitType):
            if i != len(names) - 1:
                fields = getattr(t.decl, "fields", None) or []
                span = next((f.span for f in fields if f.name == name), None)
                raise LayoutError(f"the varbit field '{name}' of header '{t.name}' must be its last field", span)
            varbit = (name, ft.max_width)
            continue
        fixed.append((name, fixed_width(t.fields[name]), t.fields[name]))
    total = sum(w for _, w, _ in fixed)
    fields: dict[str, FieldLayout] = {}
    offset = total
    for name, w, ft in fixed:
        offset -= w
        fields[name] = _field_layout(name, ft, offset)
    layout = HeaderLayout(t, fields, total, varbit, [n for n in names])
    _LAYOUTS[id(t)] = layout
    return layout


# ---------------------------------------------------------------------------- scalar places


class Place:
    type: Type


class Scalar(Place):
    type: Type

    def read(self) -> str:
        raise NotImplementedError

    def write(self, value: str) -> str:
        raise NotImplementedError


class SlotScalar(Scalar):
    """An attribute of an object (the packet state `p`)."""

    def __init__(self, obj: str, name: str, type_: Type):
        self.obj, self.name, self.type = obj, name, type_

    def read(self) -> str:
        return f"{self.obj}.{self.name}"

    def write(self, value: str) -> str:
        return f"{self.obj}.{self.name} = {value}"


class LocalScalar(Scalar):
    """A Python local variable."""

    def __init__(self, name: str, type_: Type):
        self.name, self.type = name, type_

    def read(self) -> str:
        return self.name

    def write(self, value: str) -> str:
        return f"{self.name} = {value}"


def state_local(slot: str) -> str:
    """The Python local that holds a slot of the packet state in the fused function (see StateLocalBuilder).

    Slot names start with h_, m_, s_ or _ and fresh locals end in _<digits>; a name ending in _p is
    neither, so it cannot meet a fresh local or a fixed name of the generated code."""
    return f"{slot}_p"


class DynSlotScalar(Scalar):
    """An attribute whose name is chosen at run time (a header stack indexed by a variable)."""

    def __init__(self, obj: str, names_var: str, index: str, type_: Type):
        self.obj, self.names_var, self.index, self.type = obj, names_var, index, type_

    def read(self) -> str:
        return f"getattr({self.obj}, {self.names_var}[{self.index}])"

    def write(self, value: str) -> str:
        return f"setattr({self.obj}, {self.names_var}[{self.index}], {value})"


class DynLocalScalar(Scalar):
    """One of several Python locals, chosen at run time (a local header stack indexed by a variable)."""

    def __init__(self, names: list[str], index: str, type_: Type):
        self.names, self.index, self.type = names, index, type_

    def read(self) -> str:
        return f"({', '.join(self.names)},)[{self.index}]"

    def write(self, value: str) -> str:
        # One statement: each local keeps its value but the chosen one (value is evaluated once).
        chosen = ", ".join(f"(({value}) if {self.index} == {k} else {n})" for k, n in enumerate(self.names))
        return f"{', '.join(self.names)} = {chosen}"


class FieldScalar(Scalar):
    """A fixed-width field inside a header's packed bits.

    Reads shift and mask; writes are ignored while the header is invalid
    (as BMv2 does)."""

    def __init__(self, header: "HeaderPlace", fl: FieldLayout):
        self.header, self.fl, self.type = header, fl, fl.type

    def read(self) -> str:
        b = self.header.bits.read()
        fl = self.fl
        if isinstance(strip_newtype(fl.type), BoolType):
            return f"((({b}) >> {fl.offset}) & 1 == 1)" if fl.offset else f"(({b}) & 1 == 1)"
        if fl.offset == 0:
            return f"(({b}) & {hex(fl.mask)})"
        if fl.offset + fl.width == self.header.layout.fixed_width:
            return f"(({b}) >> {fl.offset})"
        return f"((({b}) >> {fl.offset}) & {hex(fl.mask)})"

    def write(self, value: str) -> str:
        b = self.header.bits
        fl = self.fl
        if isinstance(strip_newtype(fl.type), BoolType):
            value = f"(1 if {value} else 0)"
        clear = ((1 << self.header.layout.fixed_width) - 1) ^ (fl.mask << fl.offset)
        shifted = f"(({value}) << {fl.offset})" if fl.offset else f"({value})"
        return f"if {self.header.valid.read()}: {b.write(f'({b.read()} & {hex(clear)}) | {shifted}')}"


class DynFieldScalar(FieldScalar):
    """A field inside a header's packed bits at an offset computed at run time (an element of an array field
    indexed by a variable): `offset` is a Python expression, always within the header's bits."""

    def __init__(self, header: "HeaderPlace", fl: FieldLayout, offset: str):
        super().__init__(header, fl)
        self.offset = offset

    def read(self) -> str:
        b = self.header.bits.read()
        if isinstance(strip_newtype(self.fl.type), BoolType):
            return f"((({b}) >> ({self.offset})) & 1 == 1)"
        return f"((({b}) >> ({self.offset})) & {hex(self.fl.mask)})"

    def write(self, value: str) -> str:
        b = self.header.bits
        if isinstance(strip_newtype(self.fl.type), BoolType):
            value = f"(1 if {value} else 0)"
        full = hex((1 << self.header.layout.fixed_width) - 1)
        clear = f"({full} ^ ({hex(self.fl.mask)} << ({self.offset})))"
        return f"if {self.header.valid.read()}: {b.write(f'({b.read()} & {clear}) | (({value}) << ({self.offset}))')}"


class VarbitScalar(Scalar):
    """The varbit field of a header: its value, with the current length kept beside it."""

    def __init__(self, header: "HeaderPlace", type_: Type):
        self.header, self.type = header, type_

    def read(self) -> str:
        return self.header.vb.read()

    def write(self, value: str) -> str:
        return f"if {self.header.valid.read()}: {self.header.vb.write(value)}"


class SliceScalar(Scalar):
    """bits [hi:lo] of another scalar. `clip`: values written may be wider than the slice (e[L+:W] where
    L+W passes the width of e, whose bits past the width are dropped)."""

    def __init__(self, base: Scalar, hi: int, lo: int, type_: Type, clip: bool = False):
        self.base, self.hi, self.lo, self.type, self.clip = base, hi, lo, type_, clip

    def read(self) -> str:
        m = (1 << (self.hi - self.lo + 1)) - 1
        return f"((({self.base.read()}) >> {self.lo}) & {hex(m)})" if self.lo else f"(({self.base.read()}) & {hex(m)})"

    def write(self, value: str) -> str:
        m = ((1 << (self.hi - self.lo + 1)) - 1) << self.lo
        if self.clip:
            value = f"({value}) & {hex((1 << (self.hi - self.lo + 1)) - 1)}"
        shifted = f"(({value}) << {self.lo})" if self.lo else f"({value})"
        return self.base.write(f"({self.base.read()} & ~{hex(m)}) | {shifted}")


class DynSliceScalar(Scalar):
    """`e[L+:W]` with L a run-time value (a Python local holding it): W bits from bit L of a scalar of
    `base_width` bits; bits past the width read as 0 and are not written (P4_16 8.6)."""

    def __init__(self, base: Scalar, lo: str, width: int, base_width: int, type_: Type):
        self.base, self.lo, self.width, self.base_width, self.type = base, lo, width, base_width, type_

    def read(self) -> str:
        return f"((({self.base.read()}) >> {self.lo}) & {hex((1 << self.width) - 1)})"

    def write(self, value: str) -> str:
        m = hex((1 << self.width) - 1)
        full = hex((1 << self.base_width) - 1)
        return self.base.write(f"(({self.base.read()} & ~({m} << {self.lo})) | ((({value}) & {m}) << {self.lo}))"
                               f" & {full}")


# ---------------------------------------------------------------------------- aggregate places


class HeaderPlace(Place):
    display = "header"

    def __init__(self, type_: StructLikeType, valid: Scalar, bits: Scalar, vb: Scalar | None = None,
                 vl: Scalar | None = None):
        self.type = type_
        self.layout = header_layout(type_)
        self.valid, self.bits, self.vb, self.vl = valid, bits, vb, vl

    def field(self, name: str) -> Scalar:
        if self.layout.varbit is not None and name == self.layout.varbit[0]:
            return VarbitScalar(self, self.type.fields[name])
        return self._field_place(self.layout.fields[name])

    def _field_place(self, fl: FieldLayout) -> Place:
        if fl.elements is not None:
            return FieldArrayPlace(strip_newtype(fl.type), [self._field_place(el) for el in fl.elements])
        if fl.members is None:
            return FieldScalar(self, fl)
        return StructPlace(strip_newtype(fl.type), {n: self._field_place(m) for n, m in fl.members.items()})

    def scalars(self) -> list[Scalar]:
        out = [self.valid, self.bits]
        if self.vb is not None:
            out += [self.vb, self.vl]
        return out


class StructPlace(Place):
    def __init__(self, type_: StructLikeType, fields: dict[str, Place]):
        self.type, self.fields = type_, fields


class UnionPlace(Place):
    def __init__(self, type_: StructLikeType, members: dict[str, HeaderPlace]):
        self.type, self.members = type_, members


class StackPlace(Place):
    """A header stack (with its nextIndex in `next`) or another array (`next` None)."""

    def __init__(self, type_: StackType, elems: list[Place], next_: Scalar | None, dyn: dict[str, str] | None):
        self.type, self.elems, self.next, self.dyn = type_, elems, next_, dyn

    @property
    def size(self) -> int:
        return self.type.size


class FieldArrayPlace(StackPlace):
    """An array field of a header (bit<8>[4] a;): its elements are fields in the header's packed bits."""

    def __init__(self, type_: StackType, elems: list[Place]):
        super().__init__(type_, elems, None, None)

    @property
    def stride(self) -> int:
        return fixed_width(self.type.element)


def shifted_field_place(place: Place, delta: str) -> Place:
    """The place `delta` bits (a Python expression) below `place` in the same header: an element of an array
    field at a run-time index, from element 0."""
    if isinstance(place, DynFieldScalar):
        return DynFieldScalar(place.header, place.fl, f"{place.offset} - {delta}")
    if isinstance(place, FieldScalar):
        return DynFieldScalar(place.header, place.fl, f"{place.fl.offset} - {delta}")
    if isinstance(place, FieldArrayPlace):
        return FieldArrayPlace(place.type, [shifted_field_place(el, delta) for el in place.elems])
    if isinstance(place, StructPlace):
        return StructPlace(place.type, {n: shifted_field_place(f, delta) for n, f in place.fields.items()})
    raise TypeError(place)


def leaves(place: Place) -> list[Scalar]:
    """Every scalar of a place, in a fixed order (used to copy aggregates)."""
    if isinstance(place, Scalar):
        return [place]
    if isinstance(place, HeaderPlace):
        return place.scalars()
    if isinstance(place, StructPlace):
        return [s for f in place.fields.values() for s in leaves(f)]
    if isinstance(place, UnionPlace):
        return [s for m in place.members.values() for s in leaves(m)]
    if isinstance(place, StackPlace):
        return [s for e in place.elems for s in leaves(e)] + ([place.next] if place.next is not None else [])
    raise TypeError(place)


def default_value(t: Type) -> str:
    t = strip_newtype(t)
    if isinstance(t, BoolType):
        return "False"
    return "0"


# ---------------------------------------------------------------------------- building places


class PlaceBuilder:
    """Creates places for a type, backed either by attributes of an object or by fresh locals.

    Attributes created are recorded in ``slots`` (name -> default value) so
    that the state class can be generated; the tuples of attribute names used
    for dynamic stack indexing are recorded in ``constants``."""

    def __init__(self, obj: str | None, fresh=None):
        self.obj = obj                     # None: use locals named by `fresh`
        self.fresh = fresh
        self.slots: dict[str, str] = {}
        self.constants: dict[str, tuple] = {}
        self.places = 0       # built so far (see MAX_PLACES)

    def _scalar(self, name: str, t: Type) -> Scalar:
        if self.obj is None:
            local = self.fresh(name)
            return LocalScalar(local, t)
        if not _ATTRIBUTE.match(name):
            raise AssertionError(f"internal error: {name!r} is not a safe attribute name")
        if name in self.slots:
            raise LayoutError(f"two state fields flatten to the same name '{name}'")
        self.slots[name] = default_value(t)
        return SlotScalar(self.obj, name, t)

    def build(self, t: Type, name: str, display: str | None = None) -> Place:
        """A place for type t; `name` prefixes attribute/local names, `display` is the P4 path (for traces)."""
        display = display or name
        self.places += 1
        if self.places > MAX_PLACES:
            root = re.split(r"[.\[]", display)[0]
            raise LayoutError(f"'{root}' is too large to lay out: with what is laid out before it, more than "
                              f"{MAX_PLACES} structs, headers and fields once flattened")
        st = strip_newtype(t)
        if isinstance(st, StructLikeType):
            if st.kind == "header":
                layout = header_layout(st)
                valid = self._scalar(f"{name}_v", BoolType())
                bits = self._scalar(f"{name}_b", BitsType(max(layout.fixed_width, 1)))
                vb = vl = None
                if layout.varbit is not None:
                    vb = self._scalar(f"{name}_vb", BitsType(layout.varbit[1]))
                    vl = self._scalar(f"{name}_vl", BitsType(32))
                h = HeaderPlace(st, valid, bits, vb, vl)
                h.display = display
                return h
            if st.kind == "header_union":
                return UnionPlace(st, {m: self.build(mt, f"{name}_{m}", f"{display}.{m}")
                                       for m, mt in st.fields.items()})
            return StructPlace(st, {f: self.build(ft, f"{name}_{f}", f"{display}.{f}") for f, ft in st.fields.items()})
        if isinstance(st, TupleType):
            # A tuple is laid out like a struct whose fields are named 0, 1, ...
            return StructPlace(st, {str(i): self.build(et, f"{name}_{i}", f"{display}[{i}]")
                                    for i, et in enumerate(st.elements)})
        if isinstance(st, StackType):
            elems = [self.build(st.element, f"{name}_{i}", f"{display}[{i}]") for i in range(st.size)]
            nxt = self._scalar(f"{name}_n", BitsType(32)) if st.is_header_stack else None
            dyn = None
            if self.obj is not None:
                dyn = {}
                for i, e in enumerate(elems):
                    for leaf_i, leaf in enumerate(leaves(e)):
                        key = f"N_{name}_{leaf_i}"
                        dyn.setdefault(key, [None] * st.size)[i] = leaf.name
                for key in dyn:
                    self.constants[key] = tuple(dyn[key])
                dyn = {k: k for k in dyn}
            return StackPlace(st, elems, nxt, dyn)
        return self._scalar(name, t)


class StateLocalBuilder(PlaceBuilder):
    """Lays out the packet state as PlaceBuilder("p") does (the same slots), but each slot is a Python local
    (state_local(slot)): the fused function keeps the state in locals, which Python reads and writes
    several times faster than attributes, and builds a State object only when the packet leaves it."""

    def __init__(self):
        super().__init__(None)
        self.widths: dict[str, int] = {}      # local -> width, of every scalar laid out

    def _scalar(self, name: str, t: Type) -> Scalar:
        if not _ATTRIBUTE.match(name):
            raise AssertionError(f"internal error: {name!r} is not a safe attribute name")
        self.slots[name] = default_value(t)
        local = state_local(name)
        st = strip_newtype(t)
        if isinstance(st, BitsType):
            self.widths[local] = st.width
        return LocalScalar(local, t)
