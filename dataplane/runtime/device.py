"""A device: one instance of a compiled program with its own tables, externs and configuration.

The device is also the control-plane API of that instance (the same calls a
P4Runtime or BMv2 CLI client would make): table entries, default actions,
registers, counters, meters, multicast groups, clone sessions and digests.
Names of tables, actions and externs may be given in full
(``MyIngress.ipv4_lpm``) or by a unique suffix (``ipv4_lpm``).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Callable

from ..arch.v1model import (V1SwitchRunner, check_clone_session, check_mcast_group, check_port, check_rid,
                            outputs_and_drops)
from .errors import ControlPlaneError
from .externs import Counter, DirectCounter, DirectMeter, ExternError, Meter, MeterCell, Register, ValueSet
from .profiles import ActionProfile, IndirectTable
from .tables import MatchValue, Table, TableError
from .trace import Trace


@dataclass
class Digest:
    receiver: int
    type_name: str
    fields: dict
    time_us: float


@dataclass
class ProcessResult:
    outputs: list = field(default_factory=list)       # [(port, bytes)]
    drops: list = field(default_factory=list)         # [(DropReason, detail)]
    trace: Trace | None = None


def _as_hop_result(process_raw):
    """A function like the generated fast() (it gives a hop result) that runs `process_raw`, a function
    with process_raw's contract: (outputs, drops)."""
    def hop(port: int, data: bytes):
        return None, process_raw(port, data)
    return hop


class Device:
    def __init__(self, program, name: str = "device", seed: int = 1, log: Callable[[str], None] | None = None):
        self.program = program
        self.name = name
        self.now_us = 0.0
        self.rng = random.Random(seed)
        self.layouts = program.layouts
        self.error_names = program.error_names
        self.tables: dict[str, Table] = {}
        self.profiles: dict[str, ActionProfile] = {}
        self.externs: dict[str, object] = {}
        self.mcast_groups: dict[int, list[tuple[int, int]]] = {}
        self.clone_sessions: dict[int, tuple[int | None, int | None]] = {}
        self.digests: list[Digest] = []
        self.digest_callbacks: list[Callable[[Digest], None]] = []
        self.log_lines: list[str] = []
        self._log_sink = log
        self.queue_depths: dict[int, int] = {}
        # What standard_metadata's queueing fields report (see queueing()): None for a device on its own,
        # which has no queues; a network sets the model of its ports' transmit queues.
        self.egress_queues = None
        self.internal_errors: list[tuple[int, bytes, str]] = []
        self._build_externs()
        self._build_tables()
        self._fast = None
        self._traced = None
        self._trace: Trace | None = None
        self.runner = V1SwitchRunner(self)
        # process_raw is the instance's attribute from the start, not a method of the class that an attribute
        # hides once guarded: CPython 3.11 never specializes the load of an instance attribute that shadows a
        # class attribute, and P4Device.frame_arrives loads it for every frame.
        self.process_raw = self._process_raw_first

    # ------------------------------------------------------------------ construction

    def _build_externs(self) -> None:
        for info in self.program.externs:
            p = info.params
            if info.kind == "register":
                obj = Register(info.name, p["size"], p["width"])
            elif info.kind == "counter":
                obj = Counter(info.name, p["size"], p["type"])
            elif info.kind == "meter":
                obj = Meter(info.name, p["size"], p["type"])
            elif info.kind == "direct_counter":
                obj = DirectCounter(info.name, "", p["type"])
            elif info.kind == "direct_meter":
                obj = DirectMeter(info.name, "", p["type"])
            elif info.kind == "value_set":
                obj = ValueSet(info.name, p["size"], p["width"])
            else:
                obj = None
            self.externs[info.name] = obj

    def _build_tables(self) -> None:
        for p in getattr(self.program, "profiles", ()):
            self.profiles[p.name] = ActionProfile(p.name, p.size, p.algorithm, p.max_group_size)
        for info in self.program.tables:
            args = (info.name, [k.__class__(k.name, k.match_kind, k.width) for k in info.keys], info.actions,
                    info.size, info.default, info.default_is_const, info.direct_counter, info.direct_meter)
            profile = getattr(info, "profile", None)
            t = IndirectTable(*args, profile=self.profiles[profile]) if profile else Table(*args)
            t.largest_priority_wins = getattr(info, "largest_priority_wins", True)
            if info.direct_meter is not None:
                t.meter_factory = MeterCell
                dm = self.externs.get(info.direct_meter)
                if dm is not None:
                    dm.table = info.name
            if info.direct_counter is not None:
                dc = self.externs.get(info.direct_counter)
                if dc is not None:
                    dc.table = info.name
            for match, action, args, priority in info.entries:
                t.add(match, action, args, priority, is_const=info.entries_are_const)
            self.tables[info.name] = t

    # ------------------------------------------------------------------ processing

    def stages(self, traced: bool) -> dict:
        if traced:
            if self._traced is None:
                self._traced = self.program.make_traced(self, self._emit_trace)
                self._traced["names"] = self._stage_names()
            return self._traced
        if self._fast is None:
            self._fast = self.program.make_fast(self)
            self._fast["names"] = self._stage_names()
        return self._fast

    def _stage_names(self) -> dict:
        arch = self.program.checked.architecture
        names = [b.name for b in arch.blocks.values()]
        return dict(zip(("parse", "verify", "ingress", "egress", "compute", "deparse"), names))

    def _emit_trace(self, event) -> None:
        if self._trace is not None:
            self._trace(event)

    def process(self, port: int, data: bytes, now_us: float | None = None, trace: bool = False) -> ProcessResult:
        """Run one packet through the pipeline; returns what leaves, what was dropped, and the trace."""
        if now_us is not None:
            self.now_us = now_us
        if trace:
            self._trace = Trace()
            try:
                outputs, drops = self.runner.process(port, data, self._trace)
            except Exception as exc:       # a bug in dataplane must not stop a simulation
                outputs, drops = [], self.internal_error(exc, port, data)
            finally:
                tr, self._trace = self._trace, None
            return ProcessResult(outputs, drops, tr)
        try:
            outputs, drops = self.runner.process_fast(port, data)
        except Exception as exc:
            outputs, drops = [], self.internal_error(exc, port, data)
        return ProcessResult(list(outputs), list(drops))

    def internal_error(self, exc: Exception, port: int, data: bytes) -> list:
        """Account for a packet that hit a bug: a drop with a reason, remembered in internal_errors."""
        from .trace import DropReason
        detail = f"{type(exc).__name__}: {exc}"
        self.internal_errors.append((port, data, detail))
        return [(DropReason.PIPELINE_ERROR, detail)]

    def _process_raw_first(self, port: int, data: bytes):
        """What process_raw is until its first call: process() without tracing or a result object, (outputs,
        drops), for hot loops. The first call puts a thin wrapper of the generated fast function in its place."""
        return self._guard()(port, data)

    def _guard(self):
        """Make process_raw the generated fast function in a guard that accounts for its exceptions and gives
        its hop result as (outputs, drops)."""
        fast = self.stages(False)["fast"]

        def raw(port: int, data: bytes):
            try:
                return outputs_and_drops(fast(port, data))
            except Exception as exc:
                return [], self.internal_error(exc, port, data)

        raw.unguarded = fast
        self.process_raw = raw
        return raw

    def unguarded(self):
        """What process_raw runs, without its guard, as a function that gives a hop result (arch/v1model.py
        outputs_and_drops): the generated fast function, or, when something else was put in process_raw's
        place, that in a wrapper. For a caller on a hot path that catches the exceptions itself and accounts
        for them with internal_error, as the guard does (a call less per packet)."""
        # Not guarded yet: process_raw is still this device's first one. (Not read from self.__dict__: reading an
        # instance's __dict__ gives it a dict of its own in CPython 3.11, after which no load or store of its
        # attributes is specialized, the pipeline's and frame_arrives' of every packet among them.)
        raw = self.process_raw
        if getattr(raw, "__func__", None) is Device._process_raw_first and raw.__self__ is self:
            raw = self._guard()
        fast = getattr(raw, "unguarded", None)
        return fast if fast is not None else _as_hop_result(raw)

    def queue_depth(self, port: int) -> int:
        return self.queue_depths.get(port, 0)

    def queueing(self, p, port: int) -> None:
        """Set the queueing fields of standard_metadata for a packet that joins the egress queue of `port`.

        As BMv2's simple_switch gives them: enq_timestamp when it joins the queue and deq_timedelta, the time
        it waits there, in microseconds; enq_qdepth the packets queued ahead of it and deq_qdepth those queued
        behind it when it leaves. Only programs that read these fields pay for this call. A device on its own
        has no queue: the packet waits for nothing, and the depths are `queue_depths` (0 unless set)."""
        queues = self.egress_queues
        if queues is None:
            depth = self.queue_depth(port)
            enq_us, enq_depth, wait_us, deq_depth = int(self.now_us), depth, 0, depth
        else:
            enq_us, enq_depth, wait_us, deq_depth = queues.queue_state(port)
        p.s_enq_timestamp = enq_us & 0xFFFFFFFF
        p.s_enq_qdepth = enq_depth & 0x7FFFF
        p.s_deq_timedelta = wait_us & 0xFFFFFFFF
        p.s_deq_qdepth = deq_depth & 0x7FFFF

    def digest(self, receiver: int, type_name: str, names: tuple, values: tuple) -> None:
        d = Digest(receiver, type_name, dict(zip(names, values)), self.now_us)
        self.digests.append(d)
        for cb in self.digest_callbacks:
            cb(d)

    def log(self, message: str) -> None:
        self.log_lines.append(message)
        if self._log_sink is not None:
            self._log_sink(message)

    # ------------------------------------------------------------------ name lookup

    def _find(self, kind: str, registry: dict, name: str):
        if name in registry:
            return registry[name]
        matches = [k for k in registry if k.endswith("." + name) or k.split(".")[-1] == name]
        if len(matches) == 1:
            return registry[matches[0]]
        if len(matches) > 1:
            raise ControlPlaneError(f"{kind} name '{name}' is ambiguous: {', '.join(sorted(matches))}")
        known = ", ".join(sorted(registry)) or "none"
        raise ControlPlaneError(f"no {kind} named '{name}' (the {kind}s are: {known})")

    def table(self, name: str) -> Table:
        return self._find("table", self.tables, name)

    def profile(self, name: str) -> ActionProfile:
        """An action profile or selector, by name; or, as BMv2's table_indirect_* commands allow, the
        profile of the indirect table of that name."""
        try:
            return self._find("action profile", self.profiles, name)
        except ControlPlaneError:
            try:
                table = self.table(name)
            except ControlPlaneError:
                table = None
            if isinstance(table, IndirectTable):
                return table.profile
            raise

    def indirect_table(self, name: str) -> IndirectTable:
        t = self.table(name)
        if not isinstance(t, IndirectTable):
            raise ControlPlaneError(f"table '{t.name}' is not indirect: it has no action profile or selector; "
                                    f"add entries with actions instead")
        return t

    def extern(self, name: str, kind: str | None = None):
        registry = {k: v for k, v in self.externs.items() if kind is None or getattr(v, "kind", None) == kind}
        return self._find(kind or "extern", registry, name)

    # ------------------------------------------------------------------ tables

    def table_add(self, table: str, match: list[MatchValue], action: str, args=(), priority: int | None = None) -> int:
        try:
            return self.table(table).add(match, action, args, priority)
        except TableError as exc:
            raise ControlPlaneError(str(exc)) from None

    def table_delete(self, table: str, handle: int) -> None:
        try:
            self.table(table).delete(handle)
        except TableError as exc:
            raise ControlPlaneError(str(exc)) from None

    def table_modify(self, table: str, handle: int, action: str, args=()) -> None:
        try:
            self.table(table).modify(handle, action, args)
        except TableError as exc:
            raise ControlPlaneError(str(exc)) from None

    def table_set_default(self, table: str, action: str, args=()) -> None:
        try:
            self.table(table).set_default(action, args)
        except TableError as exc:
            raise ControlPlaneError(str(exc)) from None

    # ------------------------------------------------------------------ action profiles and selectors

    def member_create(self, profile: str, action: str, args=(), handle: int | None = None) -> int:
        """Create a member of an action profile (BMv2's act_prof_create_member); returns its handle."""
        return _table_op(lambda: self.profile(profile).create_member(action, args, handle))

    def member_modify(self, profile: str, handle: int, action: str, args=()) -> None:
        _table_op(lambda: self.profile(profile).modify_member(handle, action, args))

    def member_delete(self, profile: str, handle: int) -> None:
        _table_op(lambda: self.profile(profile).delete_member(handle))

    def group_create(self, profile: str, handle: int | None = None) -> int:
        """Create an empty group of an action selector (BMv2's act_prof_create_group); returns its handle."""
        return _table_op(lambda: self.profile(profile).create_group(handle))

    def group_delete(self, profile: str, handle: int) -> None:
        _table_op(lambda: self.profile(profile).delete_group(handle))

    def group_add_member(self, profile: str, group: int, member: int) -> None:
        _table_op(lambda: self.profile(profile).add_member_to_group(member, group))

    def group_remove_member(self, profile: str, group: int, member: int) -> None:
        _table_op(lambda: self.profile(profile).remove_member_from_group(member, group))

    def table_add_member(self, table: str, match: list[MatchValue], member: int,
                         priority: int | None = None) -> int:
        """An entry of an indirect table that runs a member (BMv2's table_indirect_add)."""
        return _table_op(lambda: self.indirect_table(table).add_member_entry(match, member, priority))

    def table_add_group(self, table: str, match: list[MatchValue], group: int,
                        priority: int | None = None) -> int:
        """An entry of an indirect table that runs a member of a group (table_indirect_add_with_group)."""
        return _table_op(lambda: self.indirect_table(table).add_group_entry(match, group, priority))

    def table_set_default_member(self, table: str, member: int) -> None:
        _table_op(lambda: self.indirect_table(table).set_default_member(member))

    def table_set_default_group(self, table: str, group: int) -> None:
        _table_op(lambda: self.indirect_table(table).set_default_group(group))

    def table_reset_default(self, table: str) -> None:
        _table_op(lambda: self.indirect_table(table).reset_default())

    def table_clear(self, table: str | None = None) -> None:
        for t in ([self.table(table)] if table else self.tables.values()):
            t.clear()

    # ------------------------------------------------------------------ externs

    def register_read(self, name: str, index: int) -> int:
        reg = self.extern(name, "register")
        try:
            reg.check_index(index)
        except ExternError as exc:
            raise ControlPlaneError(str(exc)) from None
        return reg.cells[index]

    def register_write(self, name: str, index: int, value: int) -> None:
        reg = self.extern(name, "register")
        try:
            reg.check_index(index)
        except ExternError as exc:
            raise ControlPlaneError(str(exc)) from None
        if value < 0 or value >> reg.width:
            raise ControlPlaneError(f"value {value} does not fit in register '{reg.name}' ({reg.width} bits)")
        reg.cells[index] = value

    def counter_read(self, name: str, index: int | None = None) -> tuple[int, int]:
        """(packets, bytes) of a counter cell, or of a direct counter's entry (index = entry handle)."""
        obj = self.extern(name)
        try:
            if isinstance(obj, Counter):
                return obj.read(index if index is not None else 0)
            if isinstance(obj, DirectCounter):
                t = self.tables[obj.table]
                if index is None:
                    raise ControlPlaneError("a direct counter is read by entry handle")
                e = t.entries.get(index)
                if e is None:
                    raise ControlPlaneError(f"table '{t.name}' has no entry with handle {index}")
                return e.packets, e.bytes
        except ExternError as exc:
            raise ControlPlaneError(str(exc)) from None
        raise ControlPlaneError(f"'{name}' is not a counter")

    def counter_write(self, name: str, index: int, packets: int, nbytes: int) -> None:
        obj = self.extern(name, "counter")
        try:
            obj.write(index, packets, nbytes)
        except ExternError as exc:
            raise ControlPlaneError(str(exc)) from None

    def meter_set_rates(self, name: str, index: int | None, cir: float, cbs: int, pir: float, pbs: int) -> None:
        obj = self.extern(name)
        try:
            if isinstance(obj, Meter):
                obj.set_rates(index, cir, cbs, pir, pbs)
                return
            if isinstance(obj, DirectMeter):
                t = self.tables[obj.table]
                e = t.entries.get(index)
                if e is None:
                    raise ControlPlaneError(f"table '{t.name}' has no entry with handle {index}")
                e.meter.set_rates(cir, cbs, pir, pbs)
                return
        except ExternError as exc:
            raise ControlPlaneError(str(exc)) from None
        raise ControlPlaneError(f"'{name}' is not a meter")

    def value_set_add(self, name: str, value: int, mask: int | None = None) -> None:
        try:
            self.extern(name, "value_set").add(value, mask)
        except ExternError as exc:
            raise ControlPlaneError(str(exc)) from None

    # ------------------------------------------------------------------ replication

    # Replication state is checked here, where it is stored, so that every front door (STF,
    # runtime JSON, the router agents) gets the same checks: a bad port stored here would
    # otherwise come out of the pipeline as a packet on a port that cannot exist.
    # The errors are ConfigRangeError (a ControlPlaneError) naming the bad number.

    def mcast_group_set(self, group: int, members: list[tuple[int, int]]) -> None:
        """Set multicast group `group` to the (egress port, replica id) pairs, in order."""
        check_mcast_group(group)
        for port, rid in members:
            check_port(port, "egress port", f" of multicast group {group}")
            check_rid(rid, "replication id", f" of multicast group {group}")
        self.mcast_groups[group] = list(members)

    def mcast_group_delete(self, group: int) -> bool:
        """Delete multicast group `group`; False if there was none. Packets sent to it are then dropped as
        packets to an unknown group are."""
        check_mcast_group(group)
        return self.mcast_groups.pop(group, None) is not None

    def clone_session_set(self, session: int, port: int | None = None, mcast_group: int | None = None) -> None:
        check_clone_session(session)
        if port is None and mcast_group is None:
            raise ControlPlaneError(f"clone session {session} needs an egress port or a multicast group")
        if port is not None:
            check_port(port, "egress port", f" of clone session {session}")
        if mcast_group is not None:
            check_mcast_group(mcast_group, "multicast group", f" of clone session {session}")
        self.clone_sessions[session] = (port, mcast_group)

    def on_digest(self, callback: Callable[[Digest], None]) -> None:
        self.digest_callbacks.append(callback)


def _table_op(fn):
    """fn(), a table or profile operation whose TableError becomes a ControlPlaneError for the caller."""
    try:
        return fn()
    except TableError as exc:
        raise ControlPlaneError(str(exc)) from None
