"""P4Runtime entities <-> a device's tables, action profiles, counters, registers and replication.

A controller speaks in the IDs of the P4Info it pushed, which may be ours (`dataplane p4info`) or p4c's.
`Pipeline` matches that P4Info's objects by name to the P4Info we build from the program, and ours to the
compiled program's objects (two names differ: see `_profile_names` and `_direct_counter_tables`), so every ID
in a request resolves to a table, key position, action and parameter position of the device.

Values are P4Runtime's byte strings: any length whose number fits the field's width is accepted, and
what is read back is canonical (no leading zero bytes, at least one byte).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from p4.config.v1 import p4info_pb2 as P
from p4.v1 import p4runtime_pb2 as R

from ..runtime.errors import ControlPlaneError
from ..runtime.profiles import IndirectTable
from ..runtime.tables import Entry, ExactIndex, LpmIndex, MatchValue, TableError, TupleSpaceIndex
from .errors import P4RuntimeError, already_exists, check_exists, invalid, not_found, unimplemented
from .p4info import build_p4info

import grpc


@dataclass
class FieldMap:
    position: int            # index in the table's key
    name: str
    width: int
    kind: str                # exact, lpm, ternary, range, optional


@dataclass
class TableMap:
    id: int                  # the controller's ID
    name: str                # the device's table name
    fields: dict             # the controller's field ID -> FieldMap
    field_ids: list          # position -> the controller's field ID


@dataclass
class ActionMap:
    id: int
    name: str
    params: dict             # the controller's param ID -> (position, name, width)
    param_ids: list          # position -> the controller's param ID


@dataclass
class Pipeline:
    """The program a device runs and the controller's P4Info, with every ID resolved."""
    compiled: object
    p4info: P.P4Info                 # as the controller pushed it (GetForwardingPipelineConfig returns it)
    device_config: bytes
    cookie: int = 0
    tables: dict = field(default_factory=dict)           # controller ID -> TableMap
    table_ids: dict = field(default_factory=dict)        # device table name -> controller ID
    actions: dict = field(default_factory=dict)          # controller ID -> ActionMap
    action_ids: dict = field(default_factory=dict)       # action name -> controller ID
    profiles: dict = field(default_factory=dict)         # controller ID -> device profile name
    profile_ids: dict = field(default_factory=dict)
    counters: dict = field(default_factory=dict)         # controller ID -> device counter name
    registers: dict = field(default_factory=dict)        # controller ID -> device register name


def make_pipeline(compiled, client: P.P4Info, device_config: bytes, cookie: int = 0) -> Pipeline:
    """Resolve the controller's P4Info against the program; INVALID_ARGUMENT names what does not match."""
    ours = build_p4info(compiled)
    pipe = Pipeline(compiled, client, device_config, cookie)
    our_tables = _by_name(ours.tables)
    our_actions = _by_name(ours.actions)
    table_infos = {t.name: t for t in compiled.tables}
    for a in client.actions:
        mine = _lookup(our_actions, a.preamble, "action")
        params, param_ids = {}, [0] * len(mine.params)
        for p, pos, ours_p in _by_position(a.params, mine.params, f"P4Info action '{a.preamble.name}'",
                                           "a parameter", "action"):
            params[p.id] = (pos, p.name, ours_p.bitwidth)
            param_ids[pos] = p.id
        pipe.actions[a.preamble.id] = ActionMap(a.preamble.id, mine.preamble.name, params, param_ids)
        pipe.action_ids[mine.preamble.name] = a.preamble.id
    for t in client.tables:
        mine = _lookup(our_tables, t.preamble, "table")
        fields, field_ids = {}, [0] * len(mine.match_fields)
        for f, pos, ours_f in _by_position(t.match_fields, mine.match_fields, f"P4Info table '{t.preamble.name}'",
                                           "a match field", "table"):
            kind = P.MatchField.MatchType.Name(ours_f.match_type).lower()
            fields[f.id] = FieldMap(pos, f.name, ours_f.bitwidth, kind)
            field_ids[pos] = f.id
        pipe.tables[t.preamble.id] = TableMap(t.preamble.id, mine.preamble.name, fields, field_ids)
        pipe.table_ids[mine.preamble.name] = t.preamble.id
    profile_names = _profile_names(ours, table_infos)
    for p in client.action_profiles:
        name = _lookup(_by_name(ours.action_profiles), p.preamble, "action profile").preamble.name
        pipe.profiles[p.preamble.id] = profile_names.get(name, name)
        pipe.profile_ids[profile_names.get(name, name)] = p.preamble.id
    for c in client.counters:
        pipe.counters[c.preamble.id] = _lookup(_by_name(ours.counters), c.preamble, "counter").preamble.name
    for r in client.registers:
        pipe.registers[r.preamble.id] = _lookup(_by_name(ours.registers), r.preamble, "register").preamble.name
    return pipe


def _by_position(theirs, ours, owner: str, what: str, kind: str):
    """(their item, its position among ours, our item) for each of the controller's parameters or match
    fields, matched by name; INVALID_ARGUMENT names one the program does not have."""
    positions = {o.name: i for i, o in enumerate(ours)}
    for item in theirs:
        pos = positions.get(item.name)
        if pos is None:
            raise invalid(f"{owner} has {what} '{item.name}' the program's {kind} does not have")
        yield item, pos, ours[pos]


def _by_name(objects) -> dict:
    out = {}
    for o in objects:
        out[o.preamble.name] = o
        if o.preamble.alias:
            out.setdefault(o.preamble.alias, o)
    return out


def _lookup(ours: dict, preamble, what: str):
    mine = ours.get(preamble.name) or (ours.get(preamble.alias) if preamble.alias else None)
    if mine is None:
        raise invalid(f"the P4Info has {what} '{preamble.name}', which the program does not have")
    return mine


def _profile_names(ours: P.P4Info, table_infos: dict) -> dict:
    """P4Info profile name -> the device's: p4c names a profile built inside a table by its @name alone,
    the compiler by its control-plane path (TableInfo.profile)."""
    by_id = {p.preamble.id: p.preamble.name for p in ours.action_profiles}
    out = {}
    for t in ours.tables:
        info = table_infos.get(t.preamble.name)
        if t.implementation_id in by_id and info is not None and info.profile:
            out[by_id[t.implementation_id]] = info.profile
    return out


# ---------------------------------------------------------------------------- values


def to_int(data: bytes, width: int, what: str) -> int:
    v = int.from_bytes(data, "big")
    if not data:
        raise invalid(f"{what} is empty")
    if v >> width:
        raise invalid(f"{what} (0x{v:x}) does not fit in {width} bits")
    return v


def to_bytes(v: int) -> bytes:
    """P4Runtime's canonical byte string of a number."""
    return v.to_bytes(max(1, (v.bit_length() + 7) // 8), "big")


# ---------------------------------------------------------------------------- table entries


class Translator:
    """Applies entities to one device through its public control-plane calls; the caller holds its lock."""

    def __init__(self, device, pipe: Pipeline):
        self.device = device
        self.pipe = pipe

    # -- resolving

    def table(self, table_id: int):
        tm = self.pipe.tables.get(table_id)
        if tm is None:
            raise not_found(f"no table with ID {table_id} in the P4Info")
        return tm, self.device.tables[tm.name]

    def match(self, tm: TableMap, table, te: R.TableEntry) -> list[MatchValue]:
        values: list = [None] * len(table.keys)
        for fm in te.match:
            f = tm.fields.get(fm.field_id)
            if f is None:
                raise invalid(f"table '{tm.name}' has no match field with ID {fm.field_id}")
            if values[f.position] is not None:
                raise invalid(f"match field '{f.name}' of table '{tm.name}' is given twice")
            values[f.position] = self._match_value(tm, f, fm)
        for f in tm.fields.values():
            if values[f.position] is None:
                if f.kind == "exact":
                    raise invalid(f"the exact match field '{f.name}' of table '{tm.name}' is missing")
                values[f.position] = _wildcard(f)
        if any(v is None for v in values):
            raise invalid(f"the P4Info of table '{tm.name}' lacks some of its match fields")
        return values

    def _match_value(self, tm: TableMap, f: FieldMap, fm) -> MatchValue:
        which = fm.WhichOneof("field_match_type")
        if which != f.kind:
            raise invalid(f"match field '{f.name}' of table '{tm.name}' is {f.kind}, not {which}")
        what = f"match field '{f.name}' of table '{tm.name}'"
        if which == "exact":
            return MatchValue(to_int(fm.exact.value, f.width, what))
        if which == "lpm":
            plen = fm.lpm.prefix_len
            if not 0 <= plen <= f.width:
                raise invalid(f"prefix length {plen} of {what} is out of range (0..{f.width})")
            v = to_int(fm.lpm.value, f.width, what)
            if v & ((1 << (f.width - plen)) - 1):
                raise invalid(f"the value of {what} has bits set past its prefix length {plen}")
            return MatchValue(v, prefix_len=plen)
        if which == "ternary":
            v = to_int(fm.ternary.value, f.width, what)
            m = to_int(fm.ternary.mask, f.width, f"mask of {what}")
            if v & ~m:
                raise invalid(f"the value of {what} has bits set outside its mask")
            return MatchValue(v, mask=m)
        if which == "range":
            lo = to_int(fm.range.low, f.width, f"low end of {what}")
            hi = to_int(fm.range.high, f.width, f"high end of {what}")
            if lo > hi:
                raise invalid(f"the range of {what} is empty ({lo} > {hi})")
            return MatchValue(lo=lo, hi=hi)
        v = to_int(fm.optional.value, f.width, what)
        return MatchValue(v, mask=(1 << f.width) - 1)

    def action(self, tm: TableMap, table, action: R.Action) -> tuple[str, list[int]]:
        am = self.pipe.actions.get(action.action_id)
        if am is None:
            raise invalid(f"no action with ID {action.action_id} in the P4Info")
        try:
            table.action(am.name)
        except TableError:
            raise invalid(f"action '{am.name}' is not an action of table '{tm.name}'") from None
        return am.name, self._args(am, action)

    def _args(self, am: ActionMap, action: R.Action) -> list[int]:
        args: list = [None] * len(am.param_ids)
        for p in action.params:
            spec = am.params.get(p.param_id)
            if spec is None:
                raise invalid(f"action '{am.name}' has no parameter with ID {p.param_id}")
            pos, name, width = spec
            args[pos] = to_int(p.value, width, f"parameter '{name}' of action '{am.name}'")
        for pos, v in enumerate(args):
            if v is None:
                pid = am.param_ids[pos]
                raise invalid(f"action '{am.name}' needs its parameter '{am.params[pid][1]}'")
        return args

    def priority(self, tm: TableMap, table, te: R.TableEntry) -> int | None:
        if table.needs_priority:
            if te.priority <= 0:
                raise invalid(f"table '{tm.name}' has ternary, range or optional match fields: its entries "
                              f"need a priority above 0")
            return te.priority
        if te.priority:
            raise invalid(f"table '{tm.name}' has only exact and lpm match fields: its entries take no "
                          f"priority (got {te.priority})")
        return None

    def find(self, tm: TableMap, table, te: R.TableEntry):
        match = self.match(tm, table, te)
        priority = self.priority(tm, table, te)
        key, mask, ranges = _table_call(lambda: table.encode_match(match))
        # Through the table's lookup structure, as Table.insert looks for a duplicate: a controller writing
        # thousands of entries must not cost a scan of the table per entry.
        index = table.index
        if isinstance(index, ExactIndex):
            return match, priority, index.map.get(key)
        if isinstance(index, LpmIndex):
            plen = next((mv.prefix_len for k, mv in zip(table.keys, match) if k.match_kind == "lpm"), None)
            return match, priority, index.same(key, plen)
        if isinstance(index, TupleSpaceIndex):
            return match, priority, index.find_same(Entry(-1, key, mask, ranges, -1, (), priority or 0, match))
        return match, priority, None

    # -- writing

    def write_table_entry(self, kind: int, te: R.TableEntry) -> None:
        tm, table = self.table(te.table_id)
        if te.is_default_action:
            return self._write_default(kind, tm, table, te)
        match, priority, existing = self.find(tm, table, te)
        check_exists(kind, existing is not None, f"table '{tm.name}' already has an entry with this match",
                     f"table '{tm.name}' has no entry with this match")
        if kind == R.Update.INSERT:
            self._insert(tm, table, te, match, priority)
        elif kind == R.Update.MODIFY:
            if isinstance(table, IndirectTable):
                add = self._ref_adder(tm, table, te)       # checked before the old entry goes
                _table_call(lambda: table.delete(existing.handle))
                add(match, priority)
            else:
                name, args = self._entry_action(tm, table, te)
                _table_call(lambda: table.modify(existing.handle, name, args))
        else:
            _table_call(lambda: table.delete(existing.handle))

    def _entry_action(self, tm, table, te):
        which = te.action.WhichOneof("type")
        if which != "action":
            raise invalid(f"table '{tm.name}' has no action profile: its entries need an action")
        return self.action(tm, table, te.action.action)

    def _insert(self, tm, table, te, match, priority) -> None:
        if isinstance(table, IndirectTable):
            self._ref_adder(tm, table, te)(match, priority)
            return
        name, args = self._entry_action(tm, table, te)
        _table_call(lambda: table.add(match, name, args, priority))

    def _ref_adder(self, tm, table, te):
        """fn(match, priority) adding an entry for the member or group `te` names (checked to exist now)."""
        which, handle = self._ref(tm, table, te)
        if which == "member":
            return lambda match, priority: _table_call(lambda: table.add_member_entry(match, handle, priority))
        return lambda match, priority: _table_call(lambda: table.add_group_entry(match, handle, priority))

    def _ref(self, tm, table, te) -> tuple[str, int]:
        """("member" or "group", its ID) of an indirect table's entry; NOT_FOUND when it does not exist."""
        which = te.action.WhichOneof("type")
        if which == "action_profile_member_id":
            handle = te.action.action_profile_member_id
            _table_call(lambda: table.profile.member(handle))
            return "member", handle
        if which == "action_profile_group_id":
            handle = te.action.action_profile_group_id
            _table_call(lambda: table.usable_group(handle))
            return "group", handle
        if which == "action_profile_action_set":
            raise unimplemented("one-shot action selector programming is not supported: create members and "
                                "a group instead")
        raise invalid(f"table '{tm.name}' uses action profile '{table.profile.name}': its entries name a "
                      f"member or a group, not an action")

    def _write_default(self, kind: int, tm, table, te) -> None:
        if kind != R.Update.MODIFY:
            raise invalid(f"the default entry of table '{tm.name}' can only be modified (MODIFY), not inserted "
                          f"or deleted")
        if te.match:
            raise invalid(f"the default entry of table '{tm.name}' has no match fields")
        if table.default_is_const:
            raise P4RuntimeError(grpc.StatusCode.PERMISSION_DENIED,
                                 f"the default action of table '{tm.name}' is const")
        if not te.HasField("action"):
            self._reset_default(table)
            return
        if isinstance(table, IndirectTable):
            which, handle = self._ref(tm, table, te)
            setter = table.set_default_member if which == "member" else table.set_default_group
            _table_call(lambda: setter(handle))
            return
        name, args = self.action(tm, table, te.action.action)
        _table_call(lambda: table.set_default(name, args))

    @staticmethod
    def _reset_default(table) -> None:
        if isinstance(table, IndirectTable):
            table.reset_default()
        table.default_aid, table.default_args = table.initial_default

    # -- reading

    def read_table_entries(self, te: R.TableEntry):
        tables = [self.table(te.table_id)] if te.table_id else \
            [(tm, self.device.tables[tm.name]) for tm in self.pipe.tables.values()]
        for tm, table in tables:
            if te.is_default_action:
                yield self._default_entry(tm, table)
                continue
            if te.match:
                _, _, e = self.find(tm, table, te)
                entries = [e] if e is not None else []
            else:
                entries = list(table.entries.values())
            for e in entries:
                yield self.entry_message(tm, table, e, te.HasField("counter_data"))

    def entry_message(self, tm, table, e, with_counter: bool) -> R.TableEntry:
        out = R.TableEntry(table_id=tm.id)
        for pos, (k, mv) in enumerate(zip(table.keys, e.match)):
            fid = tm.field_ids[pos]
            f = tm.fields.get(fid)
            if f is not None:
                _put_match(out, fid, f, mv)
        if table.needs_priority:
            out.priority = e.priority
        ref = getattr(e, "ref", None)
        if ref is not None:
            if ref.is_group:
                out.action.action_profile_group_id = ref.handle
            else:
                out.action.action_profile_member_id = ref.handle
        else:
            self._put_action(out.action.action, table.action_name(e.aid), e.args)
        if e.is_const:
            out.is_const = True
        if with_counter and table.direct_counter is not None:
            out.counter_data.packet_count = e.packets
            out.counter_data.byte_count = e.bytes
        return out

    def _put_action(self, message: R.Action, name: str, args) -> None:
        aid = self.pipe.action_ids.get(name)
        if aid is None:
            return
        message.action_id = aid
        am = self.pipe.actions[aid]
        for pos, v in enumerate(args):
            message.params.add(param_id=am.param_ids[pos], value=to_bytes(v))

    def _default_entry(self, tm, table) -> R.TableEntry:
        out = R.TableEntry(table_id=tm.id, is_default_action=True)
        ref = getattr(table, "default_ref", None)
        if ref is not None:
            if ref.is_group:
                out.action.action_profile_group_id = ref.handle
            else:
                out.action.action_profile_member_id = ref.handle
        elif table.default_aid >= 0:
            self._put_action(out.action.action, table.action_name(table.default_aid), table.default_args or ())
        return out

    # -- direct counters

    def read_direct_counters(self, dc: R.DirectCounterEntry):
        te = dc.table_entry
        tables = [self.table(te.table_id)] if te.table_id else \
            [(tm, self.device.tables[tm.name]) for tm in self.pipe.tables.values()]
        for tm, table in tables:
            if table.direct_counter is None:
                if te.table_id:
                    raise invalid(f"table '{tm.name}' has no direct counter")
                continue
            if te.match:
                _, _, e = self.find(tm, table, te)
                entries = [e] if e is not None else []
            else:
                entries = list(table.entries.values())
            for e in entries:
                out = R.DirectCounterEntry()
                out.table_entry.CopyFrom(self.entry_message(tm, table, e, False))
                out.data.packet_count = e.packets
                out.data.byte_count = e.bytes
                yield out

    def write_direct_counter(self, kind: int, dc: R.DirectCounterEntry) -> None:
        if kind != R.Update.MODIFY:
            raise invalid("direct counter entries can only be modified (MODIFY)")
        tm, table = self.table(dc.table_entry.table_id)
        if table.direct_counter is None:
            raise invalid(f"table '{tm.name}' has no direct counter")
        _, _, e = self.find(tm, table, dc.table_entry)
        if e is None:
            raise not_found(f"table '{tm.name}' has no entry with this match")
        e.packets, e.bytes = dc.data.packet_count, dc.data.byte_count

    # -- counters and registers

    def _indexed(self, registry: dict, ident: int, what: str):
        if ident:
            if ident not in registry:
                raise not_found(f"no {what} with ID {ident} in the P4Info")
            return [(ident, self.device.extern(registry[ident]))]
        return [(i, self.device.extern(n)) for i, n in registry.items()]

    def read_counters(self, ce: R.CounterEntry):
        for cid, counter in self._indexed(self.pipe.counters, ce.counter_id, "counter"):
            indexes = [ce.index.index] if ce.HasField("index") else range(counter.size)
            for i in indexes:
                if not 0 <= i < counter.size:
                    raise invalid(f"index {i} is out of range for counter '{counter.name}' (size {counter.size})")
                out = R.CounterEntry(counter_id=cid)
                out.index.index = i
                out.data.packet_count, out.data.byte_count = counter.read(i)
                yield out

    def write_counter(self, kind: int, ce: R.CounterEntry) -> None:
        if kind != R.Update.MODIFY:
            raise invalid("counter entries can only be modified (MODIFY)")
        if not ce.counter_id or ce.counter_id not in self.pipe.counters:
            raise not_found(f"no counter with ID {ce.counter_id} in the P4Info")
        name = self.pipe.counters[ce.counter_id]
        counter = self.device.extern(name)
        indexes = [ce.index.index] if ce.HasField("index") else range(counter.size)
        for i in indexes:
            _device_call(lambda: self.device.counter_write(name, i, ce.data.packet_count, ce.data.byte_count))

    def read_registers(self, re_: R.RegisterEntry):
        for rid, reg in self._indexed(self.pipe.registers, re_.register_id, "register"):
            indexes = [re_.index.index] if re_.HasField("index") else range(reg.size)
            for i in indexes:
                value = _device_call(lambda: self.device.register_read(reg.name, i))
                out = R.RegisterEntry(register_id=rid)
                out.index.index = i
                out.data.bitstring = to_bytes(value)
                yield out

    def write_register(self, kind: int, re_: R.RegisterEntry) -> None:
        if kind != R.Update.MODIFY:
            raise invalid("register entries can only be modified (MODIFY)")
        if re_.register_id not in self.pipe.registers:
            raise not_found(f"no register with ID {re_.register_id} in the P4Info")
        reg = self.device.extern(self.pipe.registers[re_.register_id])
        if re_.data.WhichOneof("data") != "bitstring":
            raise invalid(f"the data of register '{reg.name}' must be a bitstring")
        value = to_int(re_.data.bitstring, reg.width, f"the value of register '{reg.name}'")
        indexes = [re_.index.index] if re_.HasField("index") else range(reg.size)
        for i in indexes:
            _device_call(lambda: self.device.register_write(reg.name, i, value))

    # -- action profiles

    def profile(self, profile_id: int):
        name = self.pipe.profiles.get(profile_id)
        if name is None:
            raise not_found(f"no action profile with ID {profile_id} in the P4Info")
        return self.device.profiles[name]

    def write_member(self, kind: int, m: R.ActionProfileMember) -> None:
        profile = self.profile(m.action_profile_id)
        exists = m.member_id in profile.members
        if kind == R.Update.DELETE:
            if not exists:
                raise not_found(f"action profile '{profile.name}' has no member {m.member_id}")
            _table_call(lambda: profile.delete_member(m.member_id))
            return
        am = self.pipe.actions.get(m.action.action_id)
        if am is None:
            raise invalid(f"no action with ID {m.action.action_id} in the P4Info")
        args = self._args(am, m.action)
        check_exists(kind, exists, f"action profile '{profile.name}' already has a member {m.member_id}",
                     f"action profile '{profile.name}' has no member {m.member_id}")
        if kind == R.Update.INSERT:
            _table_call(lambda: profile.create_member(am.name, args, m.member_id))
        else:
            _table_call(lambda: profile.modify_member(m.member_id, am.name, args))

    def write_group(self, kind: int, g: R.ActionProfileGroup) -> None:
        profile = self.profile(g.action_profile_id)
        check_exists(kind, g.group_id in profile.groups,
                     f"action selector '{profile.name}' already has a group {g.group_id}",
                     f"action selector '{profile.name}' has no group {g.group_id}")
        if kind == R.Update.DELETE:
            _table_call(lambda: profile.delete_group(g.group_id))
            return
        for m in g.members:
            if m.member_id not in profile.members:
                raise not_found(f"action profile '{profile.name}' has no member {m.member_id}")
        if kind == R.Update.INSERT:
            _table_call(lambda: profile.create_group(g.group_id))
        group = profile.groups[g.group_id]
        for old in list(group.members):
            _table_call(lambda: profile.remove_member_from_group(old.handle, g.group_id))
        for m in g.members:
            _table_call(lambda: profile.add_member_to_group(m.member_id, g.group_id))

    def read_members(self, m: R.ActionProfileMember):
        ids = [m.action_profile_id] if m.action_profile_id else list(self.pipe.profiles)
        for pid in ids:
            profile = self.profile(pid)
            for handle, member in sorted(profile.members.items()):
                if m.member_id and handle != m.member_id:
                    continue
                out = R.ActionProfileMember(action_profile_id=pid, member_id=handle)
                self._put_action(out.action, profile.actions[member.aid].name, member.args)
                yield out

    def read_groups(self, g: R.ActionProfileGroup):
        ids = [g.action_profile_id] if g.action_profile_id else list(self.pipe.profiles)
        for pid in ids:
            profile = self.profile(pid)
            for handle, group in sorted(getattr(profile, "groups", {}).items()):
                if g.group_id and handle != g.group_id:
                    continue
                out = R.ActionProfileGroup(action_profile_id=pid, group_id=handle)
                for member in group.members:
                    out.members.add(member_id=member.handle, weight=1)
                yield out

    # -- packet replication

    def write_pre(self, kind: int, pre: R.PacketReplicationEngineEntry) -> None:
        which = pre.WhichOneof("type")
        if which == "multicast_group_entry":
            mg = pre.multicast_group_entry
            gid = mg.multicast_group_id
            exists = gid in self.device.mcast_groups
            _check_exists(kind, exists, f"multicast group {gid}")
            if kind == R.Update.DELETE:
                self.device.mcast_group_delete(gid)
                return
            members = [(_replica_port(r), r.instance) for r in mg.replicas]
            _device_call(lambda: self.device.mcast_group_set(gid, members))
        elif which == "clone_session_entry":
            cs = pre.clone_session_entry
            sid = cs.session_id
            exists = sid in self.device.clone_sessions
            _check_exists(kind, exists, f"clone session {sid}")
            if kind == R.Update.DELETE:
                del self.device.clone_sessions[sid]
                return
            if len(cs.replicas) != 1:
                raise unimplemented(f"clone session {sid} has {len(cs.replicas)} replicas; only one is supported")
            port = _replica_port(cs.replicas[0])
            _device_call(lambda: self.device.clone_session_set(sid, port=port))
        else:
            raise invalid("the packet replication engine entry is empty")

    def read_pre(self, pre: R.PacketReplicationEngineEntry):
        which = pre.WhichOneof("type")
        if which == "multicast_group_entry":
            want = pre.multicast_group_entry.multicast_group_id
            for gid, members in sorted(self.device.mcast_groups.items()):
                if want and gid != want:
                    continue
                out = R.PacketReplicationEngineEntry()
                out.multicast_group_entry.multicast_group_id = gid
                for port, rid in members:
                    out.multicast_group_entry.replicas.add(egress_port=port, instance=rid)
                yield out
        elif which == "clone_session_entry":
            want = pre.clone_session_entry.session_id
            for sid, (port, _group) in sorted(self.device.clone_sessions.items()):
                if want and sid != want:
                    continue
                out = R.PacketReplicationEngineEntry()
                out.clone_session_entry.session_id = sid
                if port is not None:
                    out.clone_session_entry.replicas.add(egress_port=port, instance=0)
                yield out


def _check_exists(kind: int, exists: bool, what: str) -> None:
    check_exists(kind, exists, f"{what} already exists", f"{what} does not exist")


def _replica_port(r: R.Replica) -> int:
    if r.WhichOneof("port_kind") == "port":
        return int.from_bytes(r.port, "big")
    return r.egress_port


def _wildcard(f: FieldMap) -> MatchValue:
    if f.kind == "lpm":
        return MatchValue(0, prefix_len=0)
    if f.kind == "range":
        return MatchValue(lo=0, hi=(1 << f.width) - 1)
    return MatchValue(0, mask=0)


def _put_match(out: R.TableEntry, fid: int, f: FieldMap, mv: MatchValue) -> None:
    """One match field as P4Runtime writes it; don't-care fields are left out, as the spec asks."""
    full = (1 << f.width) - 1
    if f.kind == "exact":
        out.match.add(field_id=fid).exact.value = to_bytes(mv.value)
    elif f.kind == "lpm":
        plen = mv.prefix_len if mv.prefix_len is not None else f.width
        if plen:
            m = out.match.add(field_id=fid)
            m.lpm.value, m.lpm.prefix_len = to_bytes(mv.value), plen
    elif f.kind == "ternary":
        mask = full if mv.mask is None else mv.mask
        if mask:
            m = out.match.add(field_id=fid)
            m.ternary.value, m.ternary.mask = to_bytes(mv.value & mask), to_bytes(mask)
    elif f.kind == "optional":
        if mv.mask != 0:
            out.match.add(field_id=fid).optional.value = to_bytes(mv.value)
    else:
        lo = mv.lo if mv.lo is not None else mv.value
        hi = mv.hi if mv.hi is not None else mv.value
        if (lo, hi) != (0, full):
            m = out.match.add(field_id=fid)
            m.range.low, m.range.high = to_bytes(lo), to_bytes(hi)


def _table_call(fn):
    """fn(); a table's refusal becomes the P4Runtime error a client expects."""
    try:
        return fn()
    except (TableError, ControlPlaneError) as exc:
        text = str(exc)
        if "is full" in text:
            raise P4RuntimeError(grpc.StatusCode.RESOURCE_EXHAUSTED, text) from None
        if "already has" in text:
            raise already_exists(text) from None
        if "has no member" in text or "has no group" in text or "no entry with handle" in text:
            raise not_found(text) from None
        raise invalid(text) from None


_device_call = _table_call
