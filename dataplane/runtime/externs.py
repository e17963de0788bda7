"""Stateful v1model externs: registers, counters and meters, one object per instance per device."""

from __future__ import annotations

import math
from dataclasses import dataclass

from .errors import ControlPlaneError

GREEN, YELLOW, RED = 0, 1, 2
COLOR_NAMES = {GREEN: "GREEN", YELLOW: "YELLOW", RED: "RED"}


class ExternError(ControlPlaneError):
    """A control-plane operation on an extern that cannot be done (message for the user)."""


# Registers, counters and meters allocate all their cells when a device is made, as BMv2 does, so their
# sizes, which a program states, are bounded: at most this many cells each, and together at most
# MAX_EXTERN_BYTES by the costs below (a list slot is 8 bytes; a counter has two lists; a meter cell is an
# object). The compiler reports a program that asks for more, at the declaration.
MAX_EXTERN_CELLS = {"register": 1 << 24, "counter": 1 << 24, "meter": 1 << 20}
BYTES_PER_CELL = {"register": 8, "counter": 16, "meter": 112}
MAX_EXTERN_BYTES = 512 << 20


class Register:
    kind = "register"

    def __init__(self, name: str, size: int, width: int):
        if not 0 <= size <= MAX_EXTERN_CELLS["register"]:
            # The compiler refuses such programs; this keeps a device made some other way from taking
            # gigabytes.
            raise ExternError(f"register '{name}' cannot have {size} cells (at most "
                              f"{MAX_EXTERN_CELLS['register']})")
        self.name, self.size, self.width = name, size, width
        self.cells = [0] * size
        self.out_of_bounds = 0      # accesses with an index >= size (they read 0 and write nothing)

    def read(self, index: int) -> int:
        if index < self.size:
            return self.cells[index]
        self.out_of_bounds += 1
        return 0

    def write(self, index: int, value: int) -> None:
        if index < self.size:
            self.cells[index] = value & ((1 << self.width) - 1)
        else:
            self.out_of_bounds += 1

    def reset(self) -> None:
        # In place: generated pipelines hold a reference to this list.
        self.cells[:] = [0] * self.size

    def check_index(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise ExternError(f"index {index} is out of range for register '{self.name}' (size {self.size})")


class Counter:
    kind = "counter"

    def __init__(self, name: str, size: int, counter_type: str):
        self.name, self.size, self.type = name, size, counter_type
        self.packets = [0] * size
        self.bytes = [0] * size

    def count(self, index: int, nbytes: int) -> None:
        if index < self.size:
            self.packets[index] += 1
            self.bytes[index] += nbytes

    def read(self, index: int) -> tuple[int, int]:
        self.check_index(index)
        return self.packets[index], self.bytes[index]

    def write(self, index: int, packets: int, nbytes: int) -> None:
        self.check_index(index)
        self.packets[index], self.bytes[index] = packets, nbytes

    def reset(self) -> None:
        self.packets = [0] * self.size
        self.bytes = [0] * self.size

    def check_index(self, index: int) -> None:
        if not 0 <= index < self.size:
            raise ExternError(f"index {index} is out of range for counter '{self.name}' (size {self.size})")


class MeterCell:
    """A two-rate three-colour marker (RFC 2698, colour-blind mode).

    Rates are in units (packets or bytes) per microsecond and bursts in units,
    as BMv2's meter_set_rates takes them. An unconfigured meter marks every
    packet GREEN."""

    __slots__ = ("cir", "cbs", "pir", "pbs", "tc", "tp", "last", "configured")

    def __init__(self) -> None:
        self.configured = False
        self.cir = self.cbs = self.pir = self.pbs = 0.0
        self.tc = self.tp = 0.0
        self.last = None

    def set_rates(self, cir: float, cbs: int, pir: float, pbs: int) -> None:
        for what, v in (("committed rate", cir), ("committed burst", cbs), ("peak rate", pir),
                        ("peak burst", pbs)):
            # NaN compares false with everything, so it would slip past the order check below.
            if not isinstance(v, (int, float)) or isinstance(v, bool) or not 0 <= v < math.inf:
                raise ExternError(f"the {what} ({v}) must be a finite number, 0 or more")
        if pir < cir:
            raise ExternError(f"the peak rate ({pir}) must not be below the committed rate ({cir})")
        self.cir, self.cbs, self.pir, self.pbs = float(cir), float(cbs), float(pir), float(pbs)
        self.tc, self.tp = self.cbs, self.pbs
        self.last = None
        self.configured = True

    def execute(self, size: int, now_us: float) -> int:
        if not self.configured:
            return GREEN
        if self.last is not None and now_us > self.last:
            dt = now_us - self.last
            self.tp = min(self.pbs, self.tp + self.pir * dt)
            self.tc = min(self.cbs, self.tc + self.cir * dt)
        self.last = now_us if self.last is None else max(self.last, now_us)
        if self.tp < size:
            return RED
        if self.tc < size:
            self.tp -= size
            return YELLOW
        self.tp -= size
        self.tc -= size
        return GREEN


class Meter:
    kind = "meter"

    def __init__(self, name: str, size: int, meter_type: str):
        self.name, self.size, self.type = name, size, meter_type
        self.cells = [MeterCell() for _ in range(size)]

    def execute(self, index: int, nbytes: int, now_us: float) -> int:
        if index >= self.size:
            return GREEN
        return self.cells[index].execute(nbytes if self.type == "bytes" else 1, now_us)

    def set_rates(self, index: int | None, cir, cbs, pir, pbs) -> None:
        cells = self.cells if index is None else [self.cell(index)]
        for c in cells:
            c.set_rates(cir, cbs, pir, pbs)

    def cell(self, index: int) -> MeterCell:
        if not 0 <= index < self.size:
            raise ExternError(f"index {index} is out of range for meter '{self.name}' (size {self.size})")
        return self.cells[index]

    def reset(self) -> None:
        self.cells = [MeterCell() for _ in range(self.size)]


@dataclass
class DirectCounter:
    """A direct counter: its cells are the counters of the entries of `table`."""
    name: str
    table: str
    type: str
    kind: str = "direct_counter"


@dataclass
class DirectMeter:
    """A direct meter: one MeterCell per entry of `table` (entry.meter)."""
    name: str
    table: str
    type: str
    kind: str = "direct_meter"

    def execute(self, cell: MeterCell | None, nbytes: int, now_us: float) -> int:
        if cell is None:
            return GREEN
        return cell.execute(nbytes if self.type == "bytes" else 1, now_us)


class ValueSet:
    """A parser value set: the control plane adds (value, mask) members."""
    kind = "value_set"

    def __init__(self, name: str, size: int, width: int):
        self.name, self.size, self.width = name, size, width
        self.members: list[tuple[int, int]] = []

    def add(self, value: int, mask: int | None = None) -> None:
        if len(self.members) >= self.size:
            raise ExternError(f"value set '{self.name}' is full ({self.size} members)")
        m = (1 << self.width) - 1 if mask is None else mask
        self.members.append((value & m, m))

    def matches(self, key: int) -> bool:
        for v, m in self.members:
            if key & m == v:
                return True
        return False

    def reset(self) -> None:
        self.members = []
