"""P4Runtime IDs as p4c assigns them (control-plane/p4RuntimeSymbolTable in p4lang/p4c).

An ID is 32 bits: the resource type's prefix (P4Ids.Prefix) in the top 8 bits and, in the low 24, the
Jenkins one-at-a-time hash of the object's fully qualified name. A user's @id keeps its value (the
prefix is added when its top byte is 0). IDs are assigned per resource type, names in sorted order,
after every @id is known; a hash that lands on an ID already taken moves to the next hash value (linear
probing on the hash, so the prefix never changes). Aliases are the shortest unique suffix of dotted
name components among all the names of the program.

Controllers that load a P4Info from p4c and one from dataplane see the same IDs for the same program.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from p4.config.v1 import p4info_pb2

Prefix = p4info_pb2.P4Ids

ACTION = Prefix.ACTION
TABLE = Prefix.TABLE
VALUE_SET = Prefix.VALUE_SET
CONTROLLER_HEADER = Prefix.CONTROLLER_HEADER
ACTION_PROFILE = Prefix.ACTION_PROFILE
COUNTER = Prefix.COUNTER
DIRECT_COUNTER = Prefix.DIRECT_COUNTER
METER = Prefix.METER
DIRECT_METER = Prefix.DIRECT_METER
REGISTER = Prefix.REGISTER
DIGEST = Prefix.DIGEST

_MASK32 = 0xFFFFFFFF


def jenkins_one_at_a_time(data: bytes) -> int:
    """Bob Jenkins' one-at-a-time hash of data, on 32-bit unsigned arithmetic."""
    h = 0
    for byte in data:
        h = (h + byte) & _MASK32
        h = (h + (h << 10)) & _MASK32
        h ^= h >> 6
    h = (h + (h << 3)) & _MASK32
    h ^= h >> 11
    h = (h + (h << 15)) & _MASK32
    return h


def hashed_id(prefix: int, name: str) -> int:
    """The ID a name gets when nothing collides with it."""
    return (prefix << 24) | (jenkins_one_at_a_time(name.encode()) & 0xFFFFFF)


class IdError(Exception):
    """A user's @id that P4Runtime cannot accept; `where` is the object it was written on."""

    def __init__(self, message: str, where=None):
        super().__init__(message)
        self.where = where


@dataclass
class _Symbol:
    explicit: int | None
    where: object = None


@dataclass
class SymbolTable:
    """The P4Runtime-visible names of a program by resource type, then their IDs and aliases.

    Add every symbol first (add); assign() then computes every ID at once, as the IDs of hashed names
    depend on all the others."""
    symbols: dict[int, dict[str, _Symbol]] = field(default_factory=dict)
    ids: dict[tuple[int, str], int] = field(default_factory=dict)
    _suffixes: "_SuffixSet" = None

    def __post_init__(self):
        self._suffixes = _SuffixSet()

    def add(self, prefix: int, name: str, explicit_id: int | None = None, where=None) -> None:
        """Add a name; the first addition of a name wins (the same action reached twice is one symbol)."""
        table = self.symbols.setdefault(prefix, {})
        if name in table:
            return
        table[name] = _Symbol(explicit_id, where)
        self._suffixes.add(name)

    def assign(self) -> None:
        taken: set[int] = set()
        for prefix in sorted(self.symbols):
            for name, sym in self.symbols[prefix].items():
                if sym.explicit is None:
                    continue
                full = _with_prefix(prefix, sym.explicit, sym.where)
                if full in taken:
                    raise IdError(f"@id {full} is given to more than one declaration", sym.where)
                taken.add(full)
                self.ids[(prefix, name)] = full
        for prefix in sorted(self.symbols):
            # Sorted by the bytes of the name, as p4c's std::map of names: probing makes IDs depend on order.
            for name in sorted((n for n, s in self.symbols[prefix].items() if s.explicit is None),
                               key=lambda n: n.encode()):
                self.ids[(prefix, name)] = _probe(prefix, jenkins_one_at_a_time(name.encode()), taken, name)

    def id(self, prefix: int, name: str) -> int:
        return self.ids[(prefix, name)]

    def alias(self, name: str) -> str:
        return self._suffixes.shortest_unique_suffix(name)


def _with_prefix(prefix: int, value: int, where) -> int:
    if not 0 <= value <= _MASK32:
        raise IdError("@id must be an unsigned 32-bit integer", where)
    top = value >> 24
    if top not in (0, prefix):
        raise IdError(f"@id {value:#x} has the wrong 8-bit prefix: objects of this kind take {prefix:#04x}", where)
    return value | (prefix << 24)


def _probe(prefix: int, start: int, taken: set[int], name: str) -> int:
    value = start
    while True:
        candidate = (prefix << 24) | (value & 0xFFFFFF)
        if candidate not in taken:
            taken.add(candidate)
            return candidate
        value = (value + 1) & _MASK32
        if value == start:    # pragma: no cover - 2**24 objects of one kind
            raise IdError(f"no P4Runtime ID is left for {name}")


class _SuffixSet:
    """Counts, for every suffix of dotted components, how many names end with it."""

    def __init__(self):
        self.names: set[str] = set()
        self.counts: dict[tuple[str, ...], int] = {}

    def add(self, name: str) -> None:
        if name in self.names:
            return
        self.names.add(name)
        parts = tuple(name.split("."))
        for i in range(len(parts) - 1, -1, -1):
            suffix = parts[i:]
            self.counts[suffix] = self.counts.get(suffix, 0) + 1

    def shortest_unique_suffix(self, name: str) -> str:
        parts = tuple(name.split("."))
        for i in range(len(parts) - 1, -1, -1):
            if self.counts.get(parts[i:], 0) < 2:
                return ".".join(parts[i:])
        return name
