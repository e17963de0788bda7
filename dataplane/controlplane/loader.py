"""Load table entries and device configuration from files into a Device.

Two formats:

- the P4 tutorials' runtime JSON (``sX-runtime.json``): ``table_entries``
  (``table``, ``match``, ``action_name``, ``action_params``, ``priority``,
  ``default_action``), ``multicast_group_entries`` and
  ``clone_session_entries``; ``target``, ``p4info`` and ``bmv2_json`` are
  accepted and ignored;
- our YAML form, which says the same more briefly::

      tables:
        MyIngress.ipv4_lpm:                # full name or unique suffix
          default: drop                     # or {action: ..., params: {...}}
          entries:
            - match: {hdr.ipv4.dstAddr: 10.0.1.0/24}
              action: ipv4_forward
              params: {dstAddr: "08:00:00:00:01:11", port: 1}
      multicast_groups: {1: [1, 2, 3]}     # ports (replica id 1), or [{port: 1, rid: 7}]
      clone_sessions: {100: 3}             # session: port, or {port: 3} / {group: 5}
      registers: {MyIngress.r: {0: 5}}      # register: {index: value}
      meters: {MyIngress.m: {0: {cir: 1, cbs: 10, pir: 2, pbs: 20}}}

Every error names the file, line and column of the offending value.
"""

from __future__ import annotations


from ..diagnostics import SourceFile, error
from ..frontend.preprocess import read_source
from ..runtime.device import Device
from ..runtime.errors import ControlPlaneError
from .positions import DocumentChecker, Positions, load_json, load_yaml
from .values import ValueError_, parse_match, parse_scalar

RUNTIME_JSON_KEYS = {"target", "p4info", "bmv2_json", "table_entries", "multicast_group_entries",
                     "clone_session_entries"}
TABLE_ENTRY_KEYS = {"table", "match", "action_name", "action_params", "priority", "default_action"}
YAML_KEYS = {"tables", "multicast_groups", "clone_sessions", "registers", "meters", "value_sets"}
MAX_RATE = 1e15        # meter rates and bursts: far above any link, and an integer when converted


class _Ctx(DocumentChecker):
    def __init__(self, device: Device, pos: Positions):
        super().__init__(pos)
        self.dev = device

    def run(self, fn, path: tuple):
        try:
            return fn()
        except (ControlPlaneError, ValueError_) as exc:
            raise self.fail(str(exc), path) from None


def load_file(device: Device, path: str) -> None:
    """Load a runtime JSON (.json) or YAML (.yaml/.yml) control-plane file into device."""
    if path.endswith(".json"):
        load_runtime_json(device, read_source(path, kind="runtime JSON files"))
    else:
        load_entries_yaml(device, read_source(path, kind="entries files"))


def load_runtime_json(device: Device, source: SourceFile) -> None:
    def add_entry(path: tuple, entry, at: Positions) -> None:
        _table_entry(_Ctx(device, at), entry, path)

    # Table entries are added as they are read, and forgotten: a file far longer than its tables can hold
    # stops at the first entry that does not fit, having used memory for one entry at a time.
    doc, pos = load_json(source, each=lambda path: add_entry if path == ("table_entries",) else None)
    ctx = _Ctx(device, pos)
    ctx.expect(doc, dict, (), "a runtime JSON file")
    ctx.check_keys(doc, RUNTIME_JSON_KEYS, (), "the runtime JSON file")
    ctx.expect(doc.get("table_entries", []), list, ("table_entries",), "table_entries")
    for i, g in enumerate(ctx.expect(doc.get("multicast_group_entries", []), list,
                                     ("multicast_group_entries",), "multicast_group_entries")):
        p = ("multicast_group_entries", i)
        ctx.expect(g, dict, p, "a multicast group")
        ctx.check_keys(g, {"multicast_group_id", "replicas"}, p, "a multicast group")
        gid = ctx.run(lambda: parse_scalar(g.get("multicast_group_id"), 16, "multicast_group_id"),
                      p + ("multicast_group_id",))
        members = _replicas(ctx, g.get("replicas", []), p + ("replicas",))
        ctx.run(lambda: device.mcast_group_set(gid, members), p)
    for i, c in enumerate(ctx.expect(doc.get("clone_session_entries", []), list,
                                     ("clone_session_entries",), "clone_session_entries")):
        p = ("clone_session_entries", i)
        ctx.expect(c, dict, p, "a clone session")
        ctx.check_keys(c, {"clone_session_id", "replicas", "class_of_service", "packet_length_bytes"}, p,
                       "a clone session")
        sid = ctx.run(lambda: parse_scalar(c.get("clone_session_id"), 32, "clone_session_id"),
                      p + ("clone_session_id",))
        members = _replicas(ctx, c.get("replicas", []), p + ("replicas",))
        if len(members) == 1:
            ctx.run(lambda: device.clone_session_set(sid, port=members[0][0]), p)
        elif members:
            # Several replicas: a clone session that sends to a private multicast group.
            group = 0xFFFF - sid % 0x8000
            ctx.run(lambda: device.mcast_group_set(group, members), p)
            ctx.run(lambda: device.clone_session_set(sid, mcast_group=group), p)
        else:
            raise ctx.fail("a clone session needs at least one replica", p)


def _table_entry(ctx: _Ctx, entry, p: tuple) -> None:
    device = ctx.dev
    ctx.expect(entry, dict, p, "a table entry")
    ctx.check_keys(entry, TABLE_ENTRY_KEYS, p, "a table entry")
    if "table" not in entry:
        raise ctx.fail("a table entry needs a 'table'", p)
    name = ctx.expect(entry["table"], str, p + ("table",), "table")
    table = ctx.run(lambda: device.table(name), p + ("table",))
    if "action_name" not in entry:
        raise ctx.fail("a table entry needs an 'action_name'", p)
    params = ctx.expect(entry.get("action_params", {}), dict, p + ("action_params",), "action_params")
    action_name = ctx.expect(entry["action_name"], str, p + ("action_name",), "action_name")
    action = ctx.run(lambda: table.action(action_name), p + ("action_name",))
    args = _action_args(ctx, action, params, p + ("action_params",))
    if ctx.expect(entry.get("default_action", False), bool, p + ("default_action",), "default_action"):
        ctx.run(lambda: device.table_set_default(table.name, action.name, args), p)
        return
    match = ctx.expect(entry.get("match", {}), dict, p + ("match",), "match")
    values = _match_values(ctx, table, match, p + ("match",))
    priority = entry.get("priority")
    if priority is not None:
        priority = ctx.run(lambda: parse_scalar(priority, None, "priority"), p + ("priority",))
    ctx.run(lambda: device.table_add(table.name, values, action.name, args, priority), p)


def _replicas(ctx: _Ctx, reps, path: tuple) -> list[tuple[int, int]]:
    ctx.expect(reps, list, path, "replicas")
    out = []
    for j, r in enumerate(reps):
        rp = path + (j,)
        ctx.expect(r, dict, rp, "a replica")
        ctx.check_keys(r, {"egress_port", "instance"}, rp, "a replica")
        port = ctx.run(lambda: parse_scalar(r.get("egress_port"), 9, "egress_port"), rp + ("egress_port",))
        rid = ctx.run(lambda: parse_scalar(r.get("instance", 0), 16, "instance"), rp + ("instance",))
        out.append((port, rid))
    return out


def _action_args(ctx: _Ctx, action, params: dict, path: tuple) -> dict:
    widths = dict(action.params)
    out = {}
    for name, v in params.items():
        if name not in widths:
            raise error(f"action '{action.name}' has no parameter '{name}'", ctx.pos.key_span(path + (name,)),
                        f"its parameters: {', '.join(widths) or 'none'}")
        out[name] = ctx.run(lambda: parse_scalar(v, widths[name], f"parameter '{name}'"), path + (name,))
    for name in widths:
        if name not in out:
            raise ctx.fail(f"action '{action.name}' needs a value for parameter '{name}'", path)
    return out


def _match_values(ctx: _Ctx, table, match: dict, path: tuple) -> list:
    by_name = {k.name: k for k in table.keys}
    for name in match:
        if name not in by_name:
            raise error(f"table '{table.name}' has no key field '{name}'", ctx.pos.key_span(path + (name,)),
                        f"its key fields: {', '.join(by_name) or 'none'}")
    values = []
    for k in table.keys:
        if k.name in match:
            values.append(ctx.run(lambda: parse_match(k, match[k.name]), path + (k.name,)))
        else:
            values.append(ctx.run(lambda: parse_match(k, None), path))
    return values


# ---------------------------------------------------------------------------- YAML


def load_entries_yaml(device: Device, source: SourceFile) -> None:
    def add_entry(path: tuple, entry, at: Positions) -> None:
        ctx = _Ctx(device, at)
        table = ctx.run(lambda: device.table(str(path[1])), path[:2])
        _yaml_entry(ctx, table, entry, path)

    def entries(path: tuple):
        """tables: {NAME: [entry, ...]} or tables: {NAME: {entries: [entry, ...]}}"""
        if len(path) in (2, 3) and path[0] == "tables" and path[2:] in ((), ("entries",)):
            return add_entry
        return None

    # As for runtime JSON: entries are added as they are read, and forgotten (see load_runtime_json).
    doc, pos = load_yaml(source, each=entries)
    if doc is None:
        return
    apply_config(device, doc, pos, ())


def apply_config(device: Device, doc, pos: Positions, base: tuple) -> None:
    """Apply the YAML configuration form (also used inline in topology files)."""
    ctx = _Ctx(device, pos)
    ctx.expect(doc, dict, base, "the configuration")
    ctx.check_keys(doc, YAML_KEYS, base, "the configuration")

    def section(key: str) -> dict:
        return ctx.expect(doc.get(key) or {}, dict, base + (key,), key)

    for tname, spec in section("tables").items():
        p = base + ("tables", tname)
        table = ctx.run(lambda: device.table(str(tname)), p)
        ctx.expect(spec, (dict, list), p, f"the entries of table '{tname}'")
        if isinstance(spec, list):
            spec = {"entries": spec}
            entries_path = p
        else:
            ctx.check_keys(spec, {"entries", "default"}, p, f"table '{tname}'")
            entries_path = p + ("entries",)
        if "default" in spec:
            action, args = _yaml_action(ctx, table, spec["default"], p + ("default",))
            ctx.run(lambda: device.table_set_default(table.name, action.name, args), p + ("default",))
        for i, e in enumerate(ctx.expect(spec.get("entries") or [], list, entries_path, "entries")):
            _yaml_entry(ctx, table, e, entries_path + (i,))
    for gid, members in section("multicast_groups").items():
        p = base + ("multicast_groups", gid)
        g = ctx.run(lambda: parse_scalar(gid, 16, "multicast group id"), p)
        ctx.expect(members, list, p, f"multicast group {gid}")
        out = []
        for j, m in enumerate(members):
            if isinstance(m, dict):
                ctx.check_keys(m, {"port", "rid"}, p + (j,), "a multicast member")
                out.append((ctx.run(lambda: parse_scalar(m.get("port"), 9, "port"), p + (j, "port")),
                            ctx.run(lambda: parse_scalar(m.get("rid", 1), 16, "rid"), p + (j, "rid"))))
            else:
                out.append((ctx.run(lambda: parse_scalar(m, 9, "port"), p + (j,)), 1))
        ctx.run(lambda: device.mcast_group_set(g, out), p)
    for sid, spec in section("clone_sessions").items():
        p = base + ("clone_sessions", sid)
        s = ctx.run(lambda: parse_scalar(sid, 32, "clone session id"), p)
        if isinstance(spec, dict):
            ctx.check_keys(spec, {"port", "group"}, p, "a clone session")
            port = ctx.run(lambda: parse_scalar(spec["port"], 9, "port"), p + ("port",)) if "port" in spec else None
            group = ctx.run(lambda: parse_scalar(spec["group"], 16, "group"), p + ("group",)) \
                if "group" in spec else None
        else:
            port, group = ctx.run(lambda: parse_scalar(spec, 9, "port"), p), None
        ctx.run(lambda: device.clone_session_set(s, port, group), p)
    for rname, cells in section("registers").items():
        p = base + ("registers", rname)
        ctx.expect(cells, dict, p, f"register '{rname}'")
        for idx, v in cells.items():
            ctx.run(lambda: device.register_write(str(rname), parse_scalar(idx, None, "index"),
                                                  parse_scalar(v, None, "value")), p + (idx,))
    for mname, cells in section("meters").items():
        p = base + ("meters", mname)
        ctx.expect(cells, dict, p, f"meter '{mname}'")
        for idx, rates in cells.items():
            rp = p + (idx,)
            ctx.expect(rates, dict, rp, "meter rates")
            ctx.check_keys(rates, {"cir", "cbs", "pir", "pbs"}, rp, "meter rates")
            for k in ("cir", "cbs", "pir", "pbs"):
                if k not in rates:
                    raise ctx.fail("meter rates need numbers cir, cbs, pir and pbs", rp)
            cir, cbs, pir, pbs = (_rate(ctx, rates[k], rp + (k,), k) for k in ("cir", "cbs", "pir", "pbs"))
            index = None if idx in ("all", "*") else ctx.run(lambda: parse_scalar(idx, None, "index"), rp)
            ctx.run(lambda: device.meter_set_rates(str(mname), index, cir, int(cbs), pir, int(pbs)), rp)
    for vname, members in section("value_sets").items():
        p = base + ("value_sets", vname)
        ctx.expect(members, list, p, f"value set '{vname}'")
        for j, m in enumerate(members):
            ctx.run(lambda: device.value_set_add(str(vname), parse_scalar(m, None, "value")), p + (j,))


def _yaml_entry(ctx: _Ctx, table, e, ep: tuple) -> None:
    ctx.expect(e, dict, ep, "a table entry")
    ctx.check_keys(e, {"match", "action", "params", "priority"}, ep, "a table entry")
    if "action" not in e:
        raise ctx.fail("a table entry needs an 'action'", ep)
    action, args = _yaml_action(ctx, table, {"action": e["action"], "params": e.get("params", {})}, ep)
    match = ctx.expect(e.get("match") or {}, dict, ep + ("match",), "match")
    values = _match_values(ctx, table, {str(k): v for k, v in match.items()}, ep + ("match",))
    priority = e.get("priority")
    if priority is not None:
        priority = ctx.run(lambda: parse_scalar(priority, None, "priority"), ep + ("priority",))
    ctx.run(lambda: ctx.dev.table_add(table.name, values, action.name, args, priority), ep)


def _rate(ctx: _Ctx, v, path: tuple, what: str) -> float:
    """A meter rate or burst: a finite number, not negative (true, .nan and .inf are not rates)."""
    if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= MAX_RATE:
        raise ctx.fail(f"{what} must be a number from 0 to {MAX_RATE:g}", path)
    return float(v)


def _yaml_action(ctx: _Ctx, table, spec, path: tuple):
    if isinstance(spec, str):
        name, args = spec.strip(), {}
        if name.endswith(")") and "(" in name:
            name, _, rest = name[:-1].partition("(")
            if rest.strip():
                raise ctx.fail("give action arguments with 'params', e.g. {action: fwd, params: {port: 1}}", path)
    else:
        ctx.expect(spec, dict, path, "an action")
        ctx.check_keys(spec, {"action", "params"}, path, "an action")
        name, args = str(spec.get("action", "")), spec.get("params") or {}
    action = ctx.run(lambda: table.action(name), path)
    ctx.expect(args, dict, path + ("params",), "params")
    return action, _action_args(ctx, action, args, path + ("params",))
