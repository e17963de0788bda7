"""Load table entries and device configuration from files into a Device.

Two formats:

- the P4 tutorials' runtime JSON (``sX-runtime.json``): ``table_entries``
  (``table``, ``match``, ``action_name``, ``action_params``, ``priority``,
  ``default_action``), ``multicast_group_entries`` and
  ``clone_session_entries``; ``target``, ``p4info`` and ``bmv2_json`` are
  accepted and ignored. For indirect tables (an ``implementation`` of
  ``action_profile`` or ``action_selector``) it also takes the members and
  groups of the profiles, in the shape of P4Runtime's ActionProfileMember and
  ActionProfileGroup, and table entries that point to them::

      "action_profile_members": [
        {"action_profile": "MyIngress.ecmp_selector", "member_id": 1,
         "action_name": "MyIngress.set_nhop", "action_params": {"port": 2}}],
      "action_profile_groups": [
        {"action_profile": "MyIngress.ecmp_selector", "group_id": 1, "members": [1, 2]}],
                                           # or [{"member_id": 1, "weight": 1}, ...]
      "table_entries": [
        {"table": "MyIngress.ecmp", "match": {...}, "group_id": 1},
        {"table": "MyIngress.ecmp", "match": {...}, "member_id": 1},
        {"table": "MyIngress.ecmp", "default_action": true, "member_id": 1}]

  Members, groups and entries are applied in the order the file gives them
  (as a P4Runtime client writes them): a member comes before the groups and
  entries that use it;
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
      action_profiles:                     # members and groups of indirect tables (as in runtime JSON)
        MyIngress.ecmp_selector:
          members: [{id: 1, action: set_nhop, params: {port: 2}}, {id: 2, action: set_nhop, params: {port: 3}}]
          groups: [{id: 1, members: [1, 2]}]
      # ... and in tables, entries with `member: 1` or `group: 1` instead of an action, `default: {member: 1}`
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
from .values import ValueError_, parse_field, parse_match, parse_scalar

RUNTIME_JSON_KEYS = {"target", "p4info", "bmv2_json", "table_entries", "multicast_group_entries",
                     "clone_session_entries", "action_profile_members", "action_profile_groups"}
TABLE_ENTRY_KEYS = {"table", "match", "action_name", "action_params", "priority", "default_action",
                    "member_id", "group_id"}
MEMBER_KEYS = {"action_profile", "member_id", "action_name", "action_params"}
GROUP_KEYS = {"action_profile", "group_id", "members"}
HANDLE_BITS = 32           # member and group ids, as in P4Runtime
YAML_KEYS = {"tables", "multicast_groups", "clone_sessions", "registers", "meters", "value_sets", "action_profiles"}
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

    def add_member(path: tuple, member, at: Positions) -> None:
        _profile_member(_Ctx(device, at), member, path)

    def add_group(path: tuple, group, at: Positions) -> None:
        _profile_group(_Ctx(device, at), group, path)

    streamed = {("table_entries",): add_entry, ("action_profile_members",): add_member,
                ("action_profile_groups",): add_group}
    # Table entries (members, groups) are added as they are read, and forgotten: a file far longer than its
    # tables can hold stops at the first entry that does not fit, having used memory for one entry at a time.
    doc, pos = load_json(source, each=streamed.get)
    ctx = _Ctx(device, pos)
    ctx.expect(doc, dict, (), "a runtime JSON file")
    ctx.check_keys(doc, RUNTIME_JSON_KEYS, (), "the runtime JSON file")
    for key in ("table_entries", "action_profile_members", "action_profile_groups"):
        ctx.expect(doc.get(key, []), list, (key,), key)
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
        if ctx.run(lambda: parse_scalar(c.get("packet_length_bytes", 0), 32, "packet_length_bytes"),
                   p + ("packet_length_bytes",)):
            # BMv2 truncates the clones of such a session; copying them whole would change the bytes sent.
            raise ctx.fail("packet_length_bytes (clones truncated to a length) is not supported yet; "
                           "remove it or give 0", p + ("packet_length_bytes",))
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
    if "member_id" in entry or "group_id" in entry:
        _indirect_entry(ctx, table, entry, p)
        return
    if "action_name" not in entry:
        raise ctx.fail("a table entry needs an 'action_name'", p)
    params = ctx.expect(entry.get("action_params", {}), dict, p + ("action_params",), "action_params")
    action_name = ctx.expect(entry["action_name"], str, p + ("action_name",), "action_name")
    action = ctx.run(lambda: table.action(action_name), p + ("action_name",))
    args = _action_args(ctx, action, params, p + ("action_params",))
    if ctx.expect(entry.get("default_action", False), bool, p + ("default_action",), "default_action"):
        ctx.run(lambda: device.table_set_default(table.name, action.name, args), p)
        return
    values, priority = _match_and_priority(ctx, table, entry, p)
    ctx.run(lambda: device.table_add(table.name, values, action.name, args, priority), p)


def _match_and_priority(ctx: _Ctx, table, entry: dict, p: tuple) -> tuple[list, int | None]:
    """A table entry's match values and its priority (None when it gives none)."""
    match = ctx.expect(entry.get("match", {}), dict, p + ("match",), "match")
    values = _match_values(ctx, table, match, p + ("match",))
    priority = entry.get("priority")
    if priority is not None:
        priority = ctx.run(lambda: parse_scalar(priority, None, "priority"), p + ("priority",))
    return values, priority


def _indirect_entry(ctx: _Ctx, table, entry: dict, p: tuple) -> None:
    """A table entry (or default) of an indirect table: it points to a member or a group."""
    device = ctx.dev
    for key in ("action_name", "action_params"):
        if key in entry:
            raise ctx.fail(f"an entry that points to a member or group has no '{key}' (the member has the action)",
                           p + (key,))
    if "member_id" in entry and "group_id" in entry:
        raise ctx.fail("give a table entry a 'member_id' or a 'group_id', not both", p + ("group_id",))
    is_group = "group_id" in entry
    what = "group_id" if is_group else "member_id"
    handle = ctx.run(lambda: parse_scalar(entry[what], HANDLE_BITS, what), p + (what,))
    ctx.run(lambda: device.indirect_table(table.name), p + ("table",))
    if ctx.expect(entry.get("default_action", False), bool, p + ("default_action",), "default_action"):
        if "match" in entry:
            raise ctx.fail("a default entry has no 'match'", p + ("match",))
        set_default = device.table_set_default_group if is_group else device.table_set_default_member
        ctx.run(lambda: set_default(table.name, handle), p + (what,))
        return
    values, priority = _match_and_priority(ctx, table, entry, p)
    add = device.table_add_group if is_group else device.table_add_member
    ctx.run(lambda: add(table.name, values, handle, priority), p + (what,))


def _profile_member(ctx: _Ctx, member, p: tuple) -> None:
    """An action_profile_members item: a member with a chosen id, its action and parameters."""
    device = ctx.dev
    ctx.expect(member, dict, p, "an action profile member")
    ctx.check_keys(member, MEMBER_KEYS, p, "an action profile member")
    for key in ("action_profile", "member_id", "action_name"):
        if key not in member:
            raise ctx.fail(f"an action profile member needs an '{key}'", p)
    name = ctx.expect(member["action_profile"], str, p + ("action_profile",), "action_profile")
    profile = ctx.run(lambda: device.profile(name), p + ("action_profile",))
    mid = ctx.run(lambda: parse_scalar(member["member_id"], HANDLE_BITS, "member_id"), p + ("member_id",))
    action_name = ctx.expect(member["action_name"], str, p + ("action_name",), "action_name")
    action = ctx.run(lambda: profile.action(action_name), p + ("action_name",))
    params = ctx.expect(member.get("action_params", {}), dict, p + ("action_params",), "action_params")
    args = _action_args(ctx, action, params, p + ("action_params",))
    ctx.run(lambda: device.member_create(profile.name, action.name, args, mid), p + ("member_id",))


def _profile_group(ctx: _Ctx, group, p: tuple) -> None:
    """An action_profile_groups item: a group of an action selector with a chosen id and its members."""
    device = ctx.dev
    ctx.expect(group, dict, p, "an action profile group")
    ctx.check_keys(group, GROUP_KEYS, p, "an action profile group")
    for key in ("action_profile", "group_id"):
        if key not in group:
            raise ctx.fail(f"an action profile group needs a '{key}'", p)
    name = ctx.expect(group["action_profile"], str, p + ("action_profile",), "action_profile")
    profile = ctx.run(lambda: device.profile(name), p + ("action_profile",))
    gid = ctx.run(lambda: parse_scalar(group["group_id"], HANDLE_BITS, "group_id"), p + ("group_id",))
    ctx.run(lambda: device.group_create(profile.name, gid), p + ("group_id",))
    members = ctx.expect(group.get("members", []), list, p + ("members",), "members")
    for j, m in enumerate(members):
        mp = p + ("members", j)
        if isinstance(m, dict):        # P4Runtime's form: {"member_id": 1, "weight": 1}
            ctx.check_keys(m, {"member_id", "weight"}, mp, "a group member")
            if "member_id" not in m:
                raise ctx.fail("a group member needs a 'member_id'", mp)
            if m.get("weight", 1) != 1:
                raise ctx.fail("member weights other than 1 are not supported (BMv2 has none)", mp + ("weight",))
            m, mp = m["member_id"], mp + ("member_id",)
        mid = ctx.run(lambda: parse_scalar(m, HANDLE_BITS, "member id"), mp)
        ctx.run(lambda: device.group_add_member(profile.name, gid, mid), mp)


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
        out[name] = ctx.run(lambda: parse_field(v, widths[name], f"parameter '{name}'"), path + (name,))
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

    def add_member(path: tuple, member, at: Positions) -> None:
        _yaml_member(_Ctx(device, at), str(path[1]), member, path)

    def add_group(path: tuple, group, at: Positions) -> None:
        _yaml_group(_Ctx(device, at), str(path[1]), group, path)

    def entries(path: tuple):
        """tables: {NAME: [entry, ...]} or tables: {NAME: {entries: [entry, ...]}}; and the members and groups
        of action_profiles: {NAME: {members: [...], groups: [...]}}, in document order"""
        if len(path) in (2, 3) and path[0] == "tables" and path[2:] in ((), ("entries",)):
            return add_entry
        if len(path) == 3 and path[0] == "action_profiles":
            return {"members": add_member, "groups": add_group}.get(path[2])
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

    for pname, spec in section("action_profiles").items():
        p = base + ("action_profiles", pname)
        ctx.expect(spec, dict, p, f"action profile '{pname}'")
        ctx.check_keys(spec, {"members", "groups"}, p, f"action profile '{pname}'")
        for i, m in enumerate(ctx.expect(spec.get("members") or [], list, p + ("members",), "members")):
            _yaml_member(ctx, str(pname), m, p + ("members", i))
        for i, g in enumerate(ctx.expect(spec.get("groups") or [], list, p + ("groups",), "groups")):
            _yaml_group(ctx, str(pname), g, p + ("groups", i))
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
        if isinstance(spec.get("default"), dict) and ({"member", "group"} & set(spec["default"])):
            _yaml_indirect(ctx, table, spec["default"], p + ("default",), default=True)
        elif "default" in spec:
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
    if "member" in e or "group" in e:
        _yaml_indirect(ctx, table, e, ep, default=False)
        return
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


def _yaml_indirect(ctx: _Ctx, table, e: dict, ep: tuple, default: bool) -> None:
    """An entry (or the default) of an indirect table: {match: ..., member: N} or {match: ..., group: N}."""
    ctx.check_keys(e, {"member", "group"} if default else {"match", "member", "group", "priority"}, ep,
                   "a default" if default else "an entry of an indirect table")
    what = "group" if "group" in e else "member"
    if "group" in e and "member" in e:
        raise ctx.fail("give a 'member' or a 'group', not both", ep + ("group",))
    handle = ctx.run(lambda: parse_scalar(e[what], HANDLE_BITS, what), ep + (what,))
    ctx.run(lambda: ctx.dev.indirect_table(table.name), ep)
    if default:
        set_default = ctx.dev.table_set_default_group if what == "group" else ctx.dev.table_set_default_member
        ctx.run(lambda: set_default(table.name, handle), ep + (what,))
        return
    match = ctx.expect(e.get("match") or {}, dict, ep + ("match",), "match")
    values = _match_values(ctx, table, {str(k): v for k, v in match.items()}, ep + ("match",))
    priority = e.get("priority")
    if priority is not None:
        priority = ctx.run(lambda: parse_scalar(priority, None, "priority"), ep + ("priority",))
    add = ctx.dev.table_add_group if what == "group" else ctx.dev.table_add_member
    ctx.run(lambda: add(table.name, values, handle, priority), ep + (what,))


def _yaml_member(ctx: _Ctx, profile_name: str, m, mp: tuple) -> None:
    """{id: 1, action: set_nhop, params: {port: 2}}: a member of an action profile."""
    profile = ctx.run(lambda: ctx.dev.profile(profile_name), mp[:2])
    ctx.expect(m, dict, mp, "an action profile member")
    ctx.check_keys(m, {"id", "action", "params"}, mp, "an action profile member")
    for key in ("id", "action"):
        if key not in m:
            raise ctx.fail(f"an action profile member needs an '{key}'", mp)
    mid = ctx.run(lambda: parse_scalar(m["id"], HANDLE_BITS, "member id"), mp + ("id",))
    action = ctx.run(lambda: profile.action(str(m["action"])), mp + ("action",))
    params = ctx.expect(m.get("params") or {}, dict, mp + ("params",), "params")
    args = _action_args(ctx, action, params, mp + ("params",))
    ctx.run(lambda: ctx.dev.member_create(profile.name, action.name, args, mid), mp + ("id",))


def _yaml_group(ctx: _Ctx, profile_name: str, g, gp: tuple) -> None:
    """{id: 1, members: [1, 2]}: a group of an action selector."""
    profile = ctx.run(lambda: ctx.dev.profile(profile_name), gp[:2])
    ctx.expect(g, dict, gp, "an action profile group")
    ctx.check_keys(g, {"id", "members"}, gp, "an action profile group")
    if "id" not in g:
        raise ctx.fail("an action profile group needs an 'id'", gp)
    gid = ctx.run(lambda: parse_scalar(g["id"], HANDLE_BITS, "group id"), gp + ("id",))
    ctx.run(lambda: ctx.dev.group_create(profile.name, gid), gp + ("id",))
    for j, m in enumerate(ctx.expect(g.get("members") or [], list, gp + ("members",), "members")):
        mid = ctx.run(lambda: parse_scalar(m, HANDLE_BITS, "member id"), gp + ("members", j))
        ctx.run(lambda: ctx.dev.group_add_member(profile.name, gid, mid), gp + ("members", j))


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
