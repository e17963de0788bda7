"""The P4Info of a compiled program: what a P4Runtime controller knows about it.

The message is built with the `p4runtime` package's generated bindings (p4.config.v1.p4info_pb2)
and follows what p4c writes for v1model programs (control-plane/p4RuntimeSerializer.cpp and
p4RuntimeArchStandard in p4lang/p4c): the same objects, in the same order, with the same IDs (see
ids.py), so a controller written against p4c's P4Info works unchanged against ours.

The order p4c uses: it walks the evaluated program breadth first (the package's blocks in order, then
each block's tables, extern instances and sub-blocks in declaration order). A control contributes its
actions when it is reached: the top-level actions it uses (NoAction ...) first, in order of first use,
then its own actions that something uses, in declaration order (p4c removes unused ones).
"""

from __future__ import annotations

import re
from collections import deque
from dataclasses import dataclass, field

from google.protobuf import json_format, text_format
from p4.config.v1 import p4info_pb2 as P
from p4.config.v1 import p4types_pb2 as T

from ..diagnostics import DiagnosticError, error
from ..frontend import ast as A
from ..frontend.build_ast import control_plane_name, parse_annotation_args
from ..frontend.types import (BitsType, BoolType, EnumType, ExternType, NewType, StackType, StructLikeType,
                              TupleType, VarbitType, BlockType, ErrorType)
from . import ids
from .ids import IdError, SymbolTable

MATCH_TYPES = {"exact": P.MatchField.EXACT, "lpm": P.MatchField.LPM, "ternary": P.MatchField.TERNARY,
               "range": P.MatchField.RANGE, "optional": P.MatchField.OPTIONAL}
COUNTER_UNITS = {"packets": P.CounterSpec.PACKETS, "bytes": P.CounterSpec.BYTES,
                 "packets_and_bytes": P.CounterSpec.BOTH}
METER_UNITS = {"packets": P.MeterSpec.PACKETS, "bytes": P.MeterSpec.BYTES}
PROFILE_EXTERNS = ("action_profile", "action_selector")
# Annotations that P4Info carries elsewhere than in an `annotations` list.
NOT_COPIED = ("name", "id", "brief", "description")
FORMATS = ("text", "binary", "json")
# The body of @p4runtime_translation: "URI", then bit<W>, a width or `string`.
_TRANSLATION = re.compile(r'\s*"((?:[^"\\]|\\.)*)"\s*,\s*(string|bit\s*<\s*(\d+)\s*>|(0[xX][0-9a-fA-F]+|\d+))\s*')


def build_p4info(compiled) -> P.P4Info:
    """The P4Info of a CompiledProgram (dataplane.compiler.program)."""
    return _Builder(compiled).build()


def p4info_bytes(info: P.P4Info, fmt: str) -> bytes:
    """The message as p4c writes it: text (with its proto-file header), binary or JSON."""
    if fmt == "binary":
        return info.SerializeToString()
    if fmt == "json":
        return (json_format.MessageToJson(info, indent=2) + "\n").encode()
    head = "# proto-file: p4/config/v1/p4info.proto\n# proto-message: p4.config.v1.P4Info\n\n"
    return (head + text_format.MessageToString(info)).encode()


def format_for_path(path: str) -> str:
    """The format a file name asks for: .bin / .pb binary, .json JSON, else text."""
    lower = path.lower()
    if lower.endswith((".bin", ".pb")):
        return "binary"
    if lower.endswith(".json"):
        return "json"
    return "text"


# ---------------------------------------------------------------------------- the walk


@dataclass
class _Control:
    decl: A.ControlDeclaration
    path: str
    parts: list                                     # see _Builder._flatten
    actions: list = field(default_factory=list)     # [(full name, ActionDeclaration)] in p4c's order
    table_actions: set = field(default_factory=set)  # id() of the actions a table may run


class _Builder:
    def __init__(self, compiled):
        self.compiled = compiled
        self.checked = compiled.checked
        self.program = self.checked.ast
        self.tables_by_name = {t.name: t for t in compiled.tables}
        self.global_actions = {d.name: d for d in self.program.declarations if isinstance(d, A.ActionDeclaration)}
        self.symbols = SymbolTable()
        self.info = P.P4Info()
        self.order: list = []          # [(kind, payload)] in p4c's breadth-first order
        self.wants_type_info = False
        self.new_type_decls = {d.name: d for d in self.program.declarations
                               if isinstance(d, A.TypedefDeclaration) and d.new_type}

    # The walk: collect every object first (IDs need all names), then emit.
    def build(self) -> P.P4Info:
        self._walk()
        for kind, item in self.order:
            getattr(self, f"_collect_{kind}")(item)
        for header in self._controller_headers():
            self.symbols.add(ids.CONTROLLER_HEADER, header.name, self._explicit_id(header), header)
        try:
            self.symbols.assign()
        except IdError as exc:
            raise error(str(exc), getattr(exc.where, "span", None)) from None
        self.info.pkg_info.arch = "v1model"
        self._pkg_info()
        self.emitted_actions: set[str] = set()
        self.emitted_digests: set[str] = set()
        for kind, item in self.order:
            getattr(self, f"_emit_{kind}")(item)
        for header in self._controller_headers():
            self._emit_controller_header(header)
        if self.wants_type_info:
            self.info.type_info.SetInParent()
        return self.info

    def _walk(self) -> None:
        arch = self.checked.architecture
        queue: deque = deque()
        for d in self.program.declarations:
            if isinstance(d, A.Instantiation) and d is not arch.decl and isinstance(
                    getattr(d, "instance_type", None), ExternType):
                queue.append(("extern", (d, None)))
            elif d is arch.decl:
                for param in arch.package.params:
                    block = arch.blocks.get(param.name)
                    if block is not None:
                        queue.append(self._block_item(block.decl, block.decl.name))
        while queue:
            kind, item = queue.popleft()
            self.order.append((kind, item))
            if kind == "control":
                self._actions_of(item)
                queue.extend(self._children(item.parts))
            elif kind == "parser":
                queue.extend(self._children(self._flatten(*item)))

    def _block_item(self, decl, path: str):
        if isinstance(decl, A.ControlDeclaration):
            return ("control", _Control(decl, path, self._flatten(decl, path)))
        return ("parser", (decl, path))

    def _flatten(self, decl, path: str) -> list:
        """A block's parts as p4c sees them after its front end inlines nested parsers and controls: [(local
        or body, path, declaring block)], a nested instance's parts in place of its declaration, the nameless
        instances of `C.apply()` (InstantiateDirectCalls) after the locals, then the bodies."""
        locals_, bodies = [], []
        self._flatten_into(decl, path, locals_, bodies)
        return locals_ + bodies

    def _flatten_into(self, decl, path: str, locals_: list, bodies: list) -> None:
        nested = []
        for local in decl.locals:
            t = getattr(local, "instance_type", None) if isinstance(local, A.Instantiation) else None
            if isinstance(t, BlockType) and not t.is_declaration_only:
                self._flatten_into(t.decl, f"{path}.{local.name}", locals_, bodies)
            else:
                locals_.append((local, path, decl))
        body = getattr(decl, "body", None)
        applied = set()
        for n in body.walk() if body is not None else ():
            if isinstance(n, A.DirectApplication) and n.type.name not in applied:
                applied.add(n.type.name)
                target = next((d for d in self.program.declarations if isinstance(d, A.ControlDeclaration)
                               and d.name == n.type.name), None)
                if target is not None:
                    nested.append((target, f"{path}.{n.type.name}"))
        for target, target_path in nested:
            self._flatten_into(target, target_path, locals_, bodies)
        if body is not None:
            bodies.append((body, path, decl))

    @staticmethod
    def _children(parts: list) -> list:
        out = []
        for local, path, _owner in parts:
            if isinstance(local, A.TableDeclaration):
                out.append(("table", (local, path)))
            elif isinstance(local, A.ValueSetDeclaration):
                out.append(("value_set", (local, path)))
            elif isinstance(local, A.Instantiation) and isinstance(getattr(local, "instance_type", None),
                                                                   ExternType):
                out.append(("extern", (local, path)))
        return out

    # ---------------------------------------------------------------- names

    def _local_name(self, node, path: str | None) -> str:
        local = control_plane_name(getattr(node, "annotations", None), node.name)
        if local.startswith("."):
            return local[1:]
        return local if path is None else f"{path}.{local}"

    def _action_name(self, decl: A.ActionDeclaration, path: str) -> str:
        local = control_plane_name(decl.annotations, decl.name)
        if local.startswith("."):
            return local[1:]
        owner = getattr(getattr(decl, "symbol", None), "owner", None)
        return f"{path}.{local}" if isinstance(owner, A.ControlDeclaration) else local

    def _table_name(self, decl: A.TableDeclaration, path: str) -> str:
        return self._local_name(decl, path)

    @staticmethod
    def _explicit_id(node) -> int | None:
        ann = A.find_annotation(getattr(node, "annotations", None), "id")
        if ann is None:
            return None
        value = _annotation_value(ann)
        if not isinstance(value, int) or isinstance(value, bool):
            raise error("@id needs an unsigned integer", getattr(ann, "body_span", ann.span))
        return value

    # ---------------------------------------------------------------- actions of a control

    def _actions_of(self, control: _Control) -> None:
        """The control's actions in p4c's order, and whether it calls extern functions.

        An action is used when a table lists it (or defaults to it) or an apply block calls it. An action
        that only other actions call is not: p4c's front end inlines such calls (InlineActions) and then
        removes the callee, so its body (digests, extern calls) counts as part of its callers'."""
        actions_of = {}      # id(declaring block) -> {name: ActionDeclaration}
        for local, _path, owner in control.parts:
            if isinstance(local, A.ActionDeclaration):
                actions_of.setdefault(id(owner), {})[local.name] = local
        local_ids = {id(d) for group in actions_of.values() for d in group.values()}
        used_globals: list = []
        used_locals: set[int] = set()
        table_actions: set[int] = set()

        def use(decl, by_table: bool = False) -> None:
            if decl is None:
                return
            if by_table:
                table_actions.add(id(decl))
            if id(decl) in local_ids:
                used_locals.add(id(decl))
            elif not any(decl is d for d in used_globals):
                used_globals.append(decl)

        bodies = []
        for local, path, owner in control.parts:
            local_actions = actions_of.get(id(owner), {})
            if isinstance(local, A.TableDeclaration):
                for ref in getattr(local, "action_refs", []):
                    use(getattr(ref, "decl", None) or self._resolve_action(ref.name, local_actions), True)
                if getattr(local, "default", None) is not None:
                    use(getattr(local.default, "decl", None) or
                        self._resolve_action(local.default.name, local_actions), True)
                else:
                    use(self._implicit_default(local), True)
            elif isinstance(local, A.BlockStatement):
                bodies.append((local, local_actions))
                for call in self._calls(local):
                    use(self._called_action(call, local_actions))
        ordered = used_globals + [local for local, _p, _o in control.parts
                                  if isinstance(local, A.ActionDeclaration) and id(local) in used_locals]
        paths = {id(local): path for local, path, _o in control.parts}
        control.actions = [(self._action_name(d, paths.get(id(d), control.path)), d) for d in ordered]
        control.table_actions = table_actions
        owners = {id(local): actions_of.get(id(owner), {}) for local, _p, owner in control.parts}
        roots = [(d.body, owners.get(id(d), {})) for d in ordered if d.body is not None] + bodies
        control.extern_calls = [call for call in self._inlined_calls(roots)
                                if isinstance(getattr(getattr(call.func, "ref", None), "decl", None),
                                              A.ExternFunctionDeclaration)]
        if control.extern_calls:
            self.wants_type_info = True

    @staticmethod
    def _calls(node) -> list:
        return [n for n in node.walk() if isinstance(n, A.Call) and isinstance(n.func, A.Name)]

    def _resolve_action(self, name: str, local_actions: dict):
        return local_actions.get(name) or self.global_actions.get(name)

    def _called_action(self, call: A.Call, local_actions: dict):
        decl = getattr(getattr(call.func, "ref", None), "decl", None)
        if isinstance(decl, A.ActionDeclaration):
            return decl
        if decl is None:
            return self._resolve_action(call.func.name, local_actions)
        return None

    def _inlined_calls(self, roots: list) -> list:
        """The calls in roots, with the calls of the actions they call spliced in (as p4c inlines them)."""
        out = []
        seen: set[int] = set()

        def visit(node, local_actions: dict) -> None:
            for call in self._calls(node):
                out.append(call)
                callee = self._called_action(call, local_actions)
                if callee is not None and callee.body is not None and id(callee) not in seen:
                    seen.add(id(callee))
                    visit(callee.body, local_actions)

        for root, local_actions in roots:
            visit(root, local_actions)
        return out

    # ---------------------------------------------------------------- collect (symbols)

    def _collect_control(self, control: _Control) -> None:
        for name, decl in control.actions:
            self.symbols.add(ids.ACTION, name, self._explicit_id(decl), decl)
        for name, _type in self._digests(control):
            self.symbols.add(ids.DIGEST, name)

    def _collect_parser(self, item) -> None:
        """A parser adds nothing itself: its value sets come as items of their own."""

    def _collect_table(self, item) -> None:
        decl, path = item
        name = self._table_name(decl, path)
        self.symbols.add(ids.TABLE, name, self._explicit_id(decl), decl)
        info = self.tables_by_name.get(name)
        impl = getattr(decl, "implementation", None)
        if impl is not None and impl.instance is None and info is not None and info.profile:
            self.symbols.add(ids.ACTION_PROFILE, self._profile_name(decl, info))
        for attr, prefix in (("direct_counter", ids.DIRECT_COUNTER), ("direct_meter", ids.DIRECT_METER)):
            resource = self._direct_name(decl, path, attr, info)
            if resource:
                self.symbols.add(prefix, resource)

    @staticmethod
    def _profile_name(decl: A.TableDeclaration, info) -> str:
        """p4c names a profile constructed in the table by the property's @name alone (no control prefix); the
        compiler, like BMv2, prefixes it (see profile_info)."""
        impl = decl.implementation
        if impl.instance is None and impl.name:
            return impl.name.lstrip(".")
        return info.profile

    def _direct_name(self, decl: A.TableDeclaration, path: str, attr: str, info) -> str | None:
        """The P4Info name of a table's direct counter or meter: its instance's control-plane name (@name
        included, as p4c does)."""
        resource = getattr(info, attr, None) if info is not None else None
        if not resource:
            return None
        inst = self._resource_instance(decl, attr)
        if inst is None:
            return resource
        top_level = any(inst is d for d in self.program.declarations)
        return self._local_name(inst, None if top_level else path)

    def _collect_value_set(self, item) -> None:
        decl, path = item
        self.symbols.add(ids.VALUE_SET, self._local_name(decl, path), self._explicit_id(decl), decl)

    _EXTERN_PREFIXES = {"counter": ids.COUNTER, "direct_counter": ids.DIRECT_COUNTER, "meter": ids.METER,
                        "direct_meter": ids.DIRECT_METER, "register": ids.REGISTER,
                        "action_profile": ids.ACTION_PROFILE, "action_selector": ids.ACTION_PROFILE}

    def _collect_extern(self, item) -> None:
        inst, path = item
        prefix = self._EXTERN_PREFIXES.get(inst.instance_type.name)
        if prefix is not None:
            self.symbols.add(prefix, self._local_name(inst, path), self._explicit_id(inst), inst)

    # ---------------------------------------------------------------- emit

    def _preamble(self, preamble, prefix: int, name: str, node, shown_name: str | None = None,
                  skip: tuple = ()) -> None:
        preamble.id = self.symbols.id(prefix, name)
        preamble.name = shown_name or name
        preamble.alias = shown_name or self.symbols.alias(name)
        _annotate(preamble, getattr(node, "annotations", None), skip)

    def _emit_control(self, control: _Control) -> None:
        for name, decl in control.actions:
            if name in self.emitted_actions or A.find_annotation(decl.annotations, "hidden") is not None:
                continue
            self.emitted_actions.add(name)
            action = self.info.actions.add()
            self._preamble(action.preamble, ids.ACTION, name, decl)
            # An action only the apply block calls has all its arguments there: p4c's RemoveActionParameters
            # turns its parameters into locals, so the control plane sees none.
            params = [p for p in decl.params if not p.direction] if id(decl) in control.table_actions else []
            for p, pid in zip(params, _field_ids(params, self._explicit_id)):
                self.wants_type_info = True
                param = action.params.add()
                param.id = pid
                param.name = control_plane_name(p.annotations, p.name)
                _annotate(param, p.annotations)
                t = _param_type(decl, p)
                self._set_width_and_type(param, t, enum_name=True)
        for name, spec in self._digests(control):
            if name in self.emitted_digests:
                continue
            self.emitted_digests.add(name)
            self.wants_type_info = True
            digest = self.info.digests.add()
            digest.preamble.id = self.symbols.id(ids.DIGEST, name)
            digest.preamble.name = name
            digest.preamble.alias = self.symbols.alias(name)
            digest.type_spec.CopyFrom(spec)

    def _emit_parser(self, item) -> None:
        """See _collect_parser."""

    def _emit_table(self, item) -> None:
        decl, path = item
        name = self._table_name(decl, path)
        info = self.tables_by_name.get(name)
        self.wants_type_info = True
        table = self.info.tables.add()
        self._preamble(table.preamble, ids.TABLE, name, decl)
        key_prop = decl.property("key")
        elements = list(key_prop.value) if key_prop is not None else []
        keys = [(k, el) for k, el in zip(decl.keys, elements) if k.match_kind != "selector"]
        for (k, el), fid in zip(keys, _field_ids([el for _, el in keys], self._explicit_id)):
            mf = table.match_fields.add()
            mf.id = fid
            mf.name = _match_field_name(k, el)
            _annotate(mf, el.annotations)
            self._set_width_and_type(mf, k.type)
            if k.match_kind in MATCH_TYPES:
                mf.match_type = MATCH_TYPES[k.match_kind]
            else:
                mf.other_match_type = k.match_kind
        for ref in decl.action_refs:
            aref = table.action_refs.add()
            aref.id = self.symbols.id(ids.ACTION, self._action_name(ref.decl, path))
            _annotate(aref, ref.annotations)
            if A.find_annotation(ref.annotations, "tableonly") is not None:
                aref.scope = P.ActionRef.TABLE_ONLY
            elif A.find_annotation(ref.annotations, "defaultonly") is not None:
                aref.scope = P.ActionRef.DEFAULT_ONLY
        if decl.default is None and not any(ref.name == "NoAction" for ref in decl.action_refs):
            # p4c's CreateBuiltins lists NoAction, @defaultonly, in a table without a default_action.
            aref = table.action_refs.add()
            aref.id = self.symbols.id(ids.ACTION, "NoAction")
            aref.annotations.append("@defaultonly")
            aref.scope = P.ActionRef.DEFAULT_ONLY
        default = decl.default
        default_decl = default.decl if default is not None else self._implicit_default(decl)
        if default_decl is not None:
            aid = self.symbols.id(ids.ACTION, self._action_name(default_decl, path))
            if default is not None and decl.default_is_const:
                table.const_default_action_id = aid
            table.initial_default_action.action_id = aid
            if default is not None:
                self._default_arguments(table.initial_default_action, default)
        table.size = info.size if info is not None else (decl.size or 1024)
        entries = decl.property("entries")
        if entries is not None and entries.is_const:
            table.is_const_table = True
        if decl.const_entries:
            table.has_initial_entries = True
        if info is not None and info.profile:
            profile_name = self._profile_name(decl, info)
            table.implementation_id = self.symbols.id(ids.ACTION_PROFILE, profile_name)
            if decl.implementation.instance is None:
                prop = decl.property("implementation")
                self._emit_profile(profile_name, info.profile, decl.implementation, getattr(prop, "annotations", None))
        for attr, prefix in (("direct_counter", ids.DIRECT_COUNTER), ("direct_meter", ids.DIRECT_METER)):
            resource = self._direct_name(decl, path, attr, info)
            if resource:
                table.direct_resource_ids.append(self.symbols.id(prefix, resource))
                self._emit_direct(attr, resource, name, self._resource_instance(decl, attr))
        timeout = decl.property("support_timeout")
        if timeout is not None and getattr(timeout.value, "const", None) is True:
            table.idle_timeout_behavior = P.Table.NOTIFY_CONTROL

    def _implicit_default(self, decl: A.TableDeclaration):
        """p4c gives a table without default_action `default_action = NoAction()` (not const)."""
        for ref in decl.action_refs:
            if ref.name == "NoAction":
                return ref.decl
        return self.global_actions.get("NoAction")

    def _default_arguments(self, message, default) -> None:
        params = [p for p in default.decl.params if not p.direction]
        pids = _field_ids(params, self._explicit_id)
        for (p, info, arg), pid in zip(((p, i, a) for p, i, a in zip(
                default.decl.params, default.decl.param_infos, default.bound or []) if not p.direction), pids):
            value = getattr(arg, "const", None)
            width = _width(info.type)
            if isinstance(value, bool):
                value = int(value)
            if not isinstance(value, int) or width is None or value < 0:
                continue
            a = message.arguments.add()
            a.param_id = pid
            a.value = value.to_bytes((width + 7) // 8, "big")

    def _resource_instance(self, decl, attr):
        name = getattr(decl, attr, None)
        if not isinstance(name, str):
            return None
        control = getattr(decl, "control", None)
        for local in getattr(control, "locals", []):
            if isinstance(local, A.Instantiation) and local.name == name:
                return local
        for d in self.program.declarations:
            if isinstance(d, A.Instantiation) and d.name == name:
                return d
        return None

    def _emit_direct(self, attr: str, name: str, table_name: str, inst) -> None:
        t = getattr(inst, "instance_type", None)
        unit = _enum_member(t.constructor_args[0]) if t is not None and t.constructor_args else None
        if attr == "direct_counter":
            message = self.info.direct_counters.add()
            self._preamble(message.preamble, ids.DIRECT_COUNTER, name, inst)
            message.spec.unit = COUNTER_UNITS.get(unit, P.CounterSpec.UNSPECIFIED)
        else:
            message = self.info.direct_meters.add()
            self._preamble(message.preamble, ids.DIRECT_METER, name, inst)
            message.spec.unit = METER_UNITS.get(unit, P.MeterSpec.UNSPECIFIED)
        message.direct_table_id = self.symbols.id(ids.TABLE, table_name)

    def _emit_profile(self, name: str, compiled_name: str, impl, annotations) -> None:
        profile = self.info.action_profiles.add()
        preamble = profile.preamble
        preamble.id = self.symbols.id(ids.ACTION_PROFILE, name)
        preamble.name = name
        preamble.alias = self.symbols.alias(name)
        _annotate(preamble, annotations, ("max_group_size", "selector_size_semantics", "max_member_weight"))
        for t in self.compiled.tables:
            if t.profile == compiled_name:
                profile.table_ids.append(self.symbols.id(ids.TABLE, t.name))
        profile.with_selector = impl.kind == "action_selector"
        profile.size = impl.size
        if not profile.with_selector:
            return
        values = {n: _annotation_value(a) for n in ("max_group_size", "selector_size_semantics", "max_member_weight")
                  if (a := A.find_annotation(annotations, n)) is not None}
        if isinstance(values.get("max_group_size"), int):
            profile.max_group_size = values["max_group_size"]
        semantics = values.get("selector_size_semantics")
        if isinstance(semantics, str) and semantics.upper() == "SUM_OF_WEIGHTS":
            profile.sum_of_weights.SetInParent()
        elif isinstance(semantics, str) and semantics.upper() == "SUM_OF_MEMBERS":
            profile.sum_of_members.SetInParent()
            if isinstance(values.get("max_member_weight"), int):
                profile.sum_of_members.max_member_weight = values["max_member_weight"]

    def _emit_value_set(self, item) -> None:
        decl, path = item
        name = self._local_name(decl, path)
        vs = self.info.value_sets.add()
        self._preamble(vs.preamble, ids.VALUE_SET, name, decl)
        vs.size = getattr(decl.size, "const", 0) or 0
        t = _strip(getattr(decl, "element_type", None) or getattr(decl.type, "resolved", None))
        if isinstance(t, BitsType):
            m = vs.match.add()
            m.id = 1
            m.bitwidth = t.width
            m.match_type = P.MatchField.EXACT
        elif isinstance(t, StructLikeType):
            fields = t.decl.fields if t.decl is not None else []
            for f, fid in zip(fields, _field_ids(fields, self._explicit_id)):
                m = vs.match.add()
                m.id = fid
                m.name = control_plane_name(f.annotations, f.name)
                m.bitwidth = _width(t.fields[f.name]) or 0
                kind = _match_annotation(f)
                if kind in MATCH_TYPES:
                    m.match_type = MATCH_TYPES[kind]
                else:
                    m.other_match_type = kind
                _annotate(m, f.annotations, ("match",))
        else:
            raise error("P4Runtime needs the type of a value_set to be bit<W> or a struct of bit<W> fields",
                        decl.span)

    def _emit_extern(self, item) -> None:
        inst, path = item
        t = inst.instance_type
        self.wants_type_info = True
        name = self._local_name(inst, path)
        args = list(getattr(t, "constructor_args", None) or [])
        if t.name == "counter":
            c = self.info.counters.add()
            self._preamble(c.preamble, ids.COUNTER, name, inst)
            c.spec.unit = COUNTER_UNITS.get(_enum_member(args[1]), P.CounterSpec.UNSPECIFIED)
            c.size = args[0].const
        elif t.name == "meter":
            m = self.info.meters.add()
            self._preamble(m.preamble, ids.METER, name, inst)
            m.spec.unit = METER_UNITS.get(_enum_member(args[1]), P.MeterSpec.UNSPECIFIED)
            m.size = args[0].const
        elif t.name == "register":
            r = self.info.registers.add()
            self._preamble(r.preamble, ids.REGISTER, name, inst)
            r.size = args[0].const
            r.type_spec.CopyFrom(self._type_spec(t.type_args[0], inst))
        elif t.name in PROFILE_EXTERNS:
            self._emit_profile(name, name, _ProfileArgs(t.name, args), inst.annotations)

    def _emit_controller_header(self, header: A.HeaderDeclaration) -> None:
        ann = A.find_annotation(header.annotations, "controller_header")
        shown = _annotation_value(ann)
        if not isinstance(shown, str) or not shown:
            raise error("@controller_header needs a string: \"packet_in\" or \"packet_out\"",
                        getattr(ann, "body_span", ann.span))
        message = self.info.controller_packet_metadata.add()
        # Named by the annotation (P4Runtime's packet_in / packet_out); the ID hashes the type's name.
        self._preamble(message.preamble, ids.CONTROLLER_HEADER, header.name, header, shown_name=shown)
        t = header.resolved if getattr(header, "resolved", None) is not None else None
        fields = header.fields
        for f, fid in zip(fields, _field_ids(fields, self._explicit_id)):
            self.wants_type_info = True
            m = message.metadata.add()
            m.id = fid
            m.name = control_plane_name(f.annotations, f.name)
            _annotate(m, f.annotations)
            ft = t.fields.get(f.name) if t is not None else None
            if isinstance(_strip(ft), StructLikeType):
                raise error("P4Runtime packet metadata fields must be bit<W> (nested headers are not supported "
                            "here)", f.span)
            self._set_width_and_type(m, ft)

    def _controller_headers(self) -> list:
        return [d for d in self.program.declarations if isinstance(d, A.HeaderDeclaration)
                and A.find_annotation(d.annotations, "controller_header") is not None]

    def _pkg_info(self) -> None:
        decl = self.checked.architecture.decl
        if decl is None:
            return
        pkg = self.info.pkg_info
        ann = A.find_annotation(decl.annotations, "pkginfo")
        if ann is not None:
            for arg in parse_annotation_args(ann):
                value = getattr(arg.value, "value", None)
                if arg.name in ("name", "version", "organization", "contact", "url", "arch") and \
                        isinstance(value, str):
                    setattr(pkg, arg.name, value)
        ann = A.find_annotation(decl.annotations, "platform_property")
        if ann is not None:
            for arg in parse_annotation_args(ann):
                value = getattr(arg.value, "value", None)
                if arg.name in ("multicast_group_table_size", "multicast_group_table_total_replicas",
                                "multicast_group_table_max_replicas_per_entry") and isinstance(value, int):
                    setattr(pkg.platform_properties, arg.name, value)
        _annotate(pkg, decl.annotations, ("pkginfo", "platform_property"))

    # ---------------------------------------------------------------- digests and types

    def _digests(self, control: _Control) -> list:
        """(name, P4DataTypeSpec) of the digest() calls in the control's actions, then in its body."""
        if hasattr(control, "digest_list"):
            return control.digest_list
        out = []
        for n in control.extern_calls:
            if n.func.name != "digest":
                continue
            t = _strip(_digest_type(n))
            if not isinstance(t, StructLikeType):
                raise error("P4Runtime names a digest after its struct type: give digest() a struct", n.span)
            name = control_plane_name(getattr(t.decl, "annotations", None), t.name)
            out.append((name.lstrip("."), self._type_spec(t, n)))
        control.digest_list = out
        return out

    def _set_width_and_type(self, message, t, enum_name: bool = False) -> None:
        """bitwidth and type_name of a match field, action parameter or packet metadata field."""
        base = t
        if isinstance(t, NewType):
            message.type_name.name = t.name
            self._type_spec(t, None)
        elif isinstance(t, EnumType) and t.is_serializable:
            self._type_spec(t, None)
        elif isinstance(t, EnumType) and enum_name:
            self._type_spec(t, None)
            message.type_name.name = t.name
            return
        translation = self._translation(t) if isinstance(t, NewType) else None
        w = translation[1] if translation is not None else _width(base)
        if w:
            message.bitwidth = w

    def _type_spec(self, t, where) -> T.P4DataTypeSpec:
        """The P4DataTypeSpec of a type, adding the named types it uses to type_info."""
        spec = T.P4DataTypeSpec()
        ti = self.info.type_info
        if isinstance(t, BitsType):
            (spec.bitstring.int if t.signed else spec.bitstring.bit).bitwidth = t.width
        elif isinstance(t, VarbitType):
            spec.bitstring.varbit.max_bitwidth = t.max_width
        elif isinstance(t, BoolType):
            spec.bool.SetInParent()
        elif isinstance(t, ErrorType):
            spec.error.SetInParent()
            if not ti.HasField("error"):
                ti.error.members.extend(self.checked.checker.error_members)
        elif isinstance(t, TupleType):
            spec.tuple.SetInParent()
            for e in t.elements:
                spec.tuple.members.add().CopyFrom(self._type_spec(e, where))
        elif isinstance(t, StackType):
            element = _strip(t.element)
            target = spec.header_stack if element.kind == "header" else spec.header_union_stack
            (target.header if element.kind == "header" else target.header_union).name = element.name
            target.size = t.size
            self._type_spec(element, where)
        elif isinstance(t, NewType):
            spec.new_type.name = t.name
            if t.name not in ti.new_types:
                translation = self._translation(t)
                if translation is None:
                    ti.new_types[t.name].original_type.CopyFrom(self._type_spec(_strip(t), where))
                else:
                    uri, width = translation
                    translated = ti.new_types[t.name].translated_type
                    translated.uri = uri
                    if width is None:
                        translated.sdn_string.SetInParent()
                    else:
                        translated.sdn_bitwidth = width
        elif isinstance(t, EnumType):
            if t.is_serializable:
                spec.serializable_enum.name = t.name
                if t.name not in ti.serializable_enums:
                    e = ti.serializable_enums[t.name]
                    e.underlying_type.bitwidth = t.underlying.width
                    for m in t.members:
                        member = e.members.add()
                        member.name = m
                        member.value = (t.values[m] & t.underlying.mask).to_bytes((t.underlying.width + 7) // 8, "big")
            else:
                spec.enum.name = t.name
                if t.name not in ti.enums:
                    e = ti.enums[t.name]
                    for m in t.members:
                        e.members.add().name = m
        elif isinstance(t, StructLikeType):
            self._struct_like(spec, t, where)
        else:
            raise error(f"P4Runtime cannot describe the type {t}", getattr(where, "span", None))
        return spec

    def _translation(self, t: NewType) -> tuple[str, int | None] | None:
        """(URI, controller width or None for a string) of `@p4runtime_translation(URI, W)` on a `type`; W is
        written as a width, as bit<W> or as `string`."""
        decl = self.new_type_decls.get(t.name)
        ann = A.find_annotation(getattr(decl, "annotations", None), "p4runtime_translation")
        if ann is None:
            return None
        m = _TRANSLATION.fullmatch(ann.body or "")
        if m is None:
            raise error("@p4runtime_translation needs a URI string and then bit<W>, string or a width",
                        getattr(ann, "body_span", ann.span))
        uri = m.group(1)
        if m.group(2) == "string":
            return uri, None
        return uri, int(m.group(3) or m.group(4), 0)

    def _struct_like(self, spec, t: StructLikeType, where) -> None:
        ti = self.info.type_info
        name = control_plane_name(getattr(t.decl, "annotations", None), t.name).lstrip(".")
        if t.kind == "header":
            spec.header.name = name
            if name not in ti.headers:
                h = ti.headers[name]
                for fname, ft in t.fields.items():
                    member = h.members.add()
                    member.name = fname
                    member.type_spec.CopyFrom(self._type_spec(_strip(ft), where).bitstring)
        elif t.kind == "header_union":
            spec.header_union.name = name
            if name not in ti.header_unions:
                u = ti.header_unions[name]
                for fname, ft in t.fields.items():
                    member = u.members.add()
                    member.name = fname
                    member.header.name = self._type_spec(ft, where).header.name
        else:
            spec.struct.name = name
            if name not in ti.structs:
                s = ti.structs[name]
                for fname, ft in t.fields.items():
                    member = s.members.add()
                    member.name = fname
                    member.type_spec.CopyFrom(self._type_spec(ft, where))


# ---------------------------------------------------------------------------- helpers


@dataclass
class _ProfileArgs:
    """An action_profile(size) or action_selector(algorithm, size, width) instance's arguments."""
    kind: str
    args: list

    @property
    def with_selector(self) -> bool:
        return self.kind == "action_selector"

    @property
    def size(self) -> int:
        arg = self.args[1] if self.with_selector else self.args[0]
        return getattr(arg, "const", 0) or 0


def _field_ids(nodes: list, explicit) -> list[int]:
    """IDs of match fields, parameters or metadata fields as p4c's FieldIdAllocator gives them: a node's @id,
    else its position (from 1), skipping IDs already taken."""
    given = [explicit(n) for n in nodes]
    taken = {g for g in given if g is not None}
    out = []
    index = 1
    for g in given:
        if g is not None:
            out.append(g)
            index += 1
            continue
        while index in taken:
            index += 1
        out.append(index)
        taken.add(index)
    return out


def _annotate(message, annotations, skip: tuple = ()) -> None:
    """Copy annotations as p4c prints them, and @brief / @description into `doc`."""
    doc_fields = {}
    for ann in annotations or ():
        if ann.name in ("brief", "description"):
            value = _annotation_value(ann)
            if isinstance(value, str):
                doc_fields[ann.name] = value
            continue
        if ann.name in NOT_COPIED or ann.name in skip or ann.structured:
            continue
        message.annotations.append(f"@{ann.name}" if ann.body is None else f"@{ann.name}({ann.body})")
    if doc_fields and hasattr(message, "doc"):
        for k, v in doc_fields.items():
            setattr(message.doc, k, v)


def _annotation_value(ann: A.Annotation):
    """The single literal in an annotation's body (a string, an integer or a boolean), else None."""
    try:
        args = parse_annotation_args(ann)
    except DiagnosticError:
        return None
    if len(args) != 1:
        return None
    v = args[0].value
    if isinstance(v, (A.StringLiteral, A.IntLiteral, A.BoolLiteral)):
        return v.value
    return None


def _match_field_name(key, element: A.KeyElement) -> str:
    """The name p4c gives a key without @name (frontends/p4/tableKeyNames): the expression's text, with
    `h.isValid()` written `h.$valid$` and a struct field's @name standing for it (a name starting with '.'
    drops what comes before it, as in programs converted from P4_14)."""
    if A.find_annotation(element.annotations, "name") is not None:
        return key.name
    name = _key_expression_name(element.expr)
    if name is None and key.name.endswith(".isValid()"):
        return key.name[:-len("isValid()")] + "$valid$"
    return name or key.name


def _key_expression_name(e) -> str | None:
    if isinstance(e, A.Name):
        return e.name
    if isinstance(e, A.Index) and isinstance(e.index, A.IntLiteral):
        base = _key_expression_name(e.expr)
        return None if base is None else f"{base}[{e.index.value}]"
    if isinstance(e, A.Call) and not e.args and isinstance(e.func, A.Member) and e.func.member == "isValid":
        base = _key_expression_name(e.func.expr)
        return None if base is None else f"{base}.$valid$"
    if not isinstance(e, A.Member):
        return None
    member = e.member
    t = _strip(getattr(e.expr, "type", None))
    if isinstance(t, StructLikeType) and t.decl is not None:
        field_decl = next((f for f in t.decl.fields if f.name == e.member), None)
        if field_decl is not None:
            member = control_plane_name(field_decl.annotations, e.member)
    if member.startswith("."):
        return member[1:]
    base = _key_expression_name(e.expr)
    return None if base is None else f"{base}.{member}"


def _match_annotation(f: A.StructField) -> str:
    ann = A.find_annotation(f.annotations, "match")
    if ann is None or not ann.body:
        return "exact"
    return ann.body.strip()


def _enum_member(arg) -> str | None:
    return getattr(arg, "member", None)


def _strip(t):
    while isinstance(t, NewType):
        t = t.base
    return t


def _width(t) -> int | None:
    t = _strip(t)
    if isinstance(t, BitsType):
        return t.width
    if isinstance(t, BoolType):
        return 1
    if isinstance(t, EnumType) and t.is_serializable:
        return t.underlying.width
    if isinstance(t, ErrorType):
        return 0
    return None


def _param_type(action: A.ActionDeclaration, p: A.Parameter):
    for info in getattr(action, "param_infos", []):
        if info.name == p.name:
            return info.type
    return None


def _digest_type(call: A.Call):
    """T of digest<T>(receiver, data): the explicit type argument, else the type of data."""
    if call.type_args:
        t = getattr(call.type_args[0], "resolved", None)
        if t is not None:
            return t
    if len(call.args) == 2:
        return getattr(call.args[1].value, "type", None)
    return None
