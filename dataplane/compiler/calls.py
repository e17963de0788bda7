"""Lowering of calls: inlined actions, functions and sub-blocks; table applies; externs.

Argument passing follows P4's copy-in/copy-out rules (spec 6.8): arguments
are evaluated left to right; scalar `in` arguments are evaluated into locals
before the body, scalar `out`/`inout` arguments are copied back into their
(pre-evaluated) places after it, left to right, also when the body leaves
by `exit`. Aggregates passed `in` or `inout` are bound to the caller's
storage when that cannot be told apart from a copy (see :mod:`.effects`),
and copied otherwise; aggregates passed `out` start invalid/zero and are
copied back.
"""

from __future__ import annotations

from ..diagnostics import error
from ..frontend import ast as A
from ..frontend.types import (BoolType, EnumType, ExternType, StructLikeType, Type, VarbitType, strip_newtype)
from .codegen import INLINE_NESTING, Binding, Const, Env, InlineFrame, has_effects, is_path, is_scalar
from .effects import root_symbol
from .layout import (DynFieldScalar, FieldScalar, HeaderPlace, LayoutError, Place, Scalar, StackPlace, StructPlace,
                     UnionPlace, VarbitScalar, fixed_width, scalar_width)


def _contains_return(body) -> bool:
    return any(isinstance(n, A.ReturnStatement) for n in body.walk())


def _ends_with_return(body: A.BlockStatement) -> bool:
    """Whether the only return is the last statement (so no loop is needed to leave early)."""
    returns = [n for n in body.walk() if isinstance(n, A.ReturnStatement)]
    return len(returns) == 1 and body.statements and body.statements[-1] is returns[0]


def _overlap_matters(params, i: int, j: int) -> bool:
    """Whether argument j, which starts from the same variable as the aggregate in/inout argument i, makes
    binding i to the caller's storage differ from copying it.

    A scalar `in` argument is already a copy. An out/inout scalar or an out aggregate is a copy that is
    written back after the body: that matters only if i is written back too, after it. Two aggregates
    bound to the same storage matter unless both are read-only."""
    pi, pj = params[i], params[j]
    if pj.direction in ("", "in"):
        return not is_scalar(pj.type) and pi.direction == "inout"
    if is_scalar(pj.type) or pj.direction == "out":
        return pi.direction == "inout" and j < i
    return True


class CallsMixin:

    def lower_call(self, e: A.Call, want_value: bool = False):
        c = getattr(e, "callee", None)
        if c is None:
            raise error("internal: unchecked call", e.span)
        handler = getattr(self, "_call_" + c.kind, None)
        if handler is None:
            raise self.unsupported(f"calling {c.kind.replace('_', ' ')} '{c.name}'", e)
        return handler(e, c)

    # ------------------------------------------------------------------ inlining

    def bind_params(self, params, args, param_syms, env: Env, preset: dict | None = None,
                    callee=None) -> list:
        """Copy-in: bind each parameter in env; return the (caller place, local) pairs to copy back.

        callee is the declaration whose body runs: an aggregate argument it can reach another way is copied."""
        copy_back: list[tuple[Place, Place]] = []
        by_reference = self._aliasing_free(params, args, callee)
        for i, (p, a, sym) in enumerate(zip(params, args, param_syms)):
            if preset is not None and p.name in preset:
                env.bind(sym, preset[p.name])
                continue
            t = p.type
            if isinstance(t, ExternType) and not p.direction:
                env.bind(sym, self.instance_binding(a))     # an extern instance passed to an apply parameter
                continue
            if p.direction in ("", "in"):
                if a is None:
                    env.bind(sym, Const(0, t))
                    continue
                if is_scalar(t):
                    c = getattr(a, "const", None)
                    if c is not None and not isinstance(c, (tuple, dict)):
                        env.bind(sym, Const(c, t))
                    else:
                        local = self.bind_locals_for(a, t, p.name)
                        self.em.line(local.write(self.value(a)))
                        env.bind(sym, local)
                elif i in by_reference:
                    env.bind(sym, self.aggregate_source(a))
                else:
                    local = self.bind_locals_for(sym, t, p.name)
                    if isinstance(a, (A.ListExpression, A.StructExpression)):
                        self.init_place(local)
                    self.assign_aggregate(local, a)
                    env.bind(sym, local)
            elif p.direction == "inout":
                if is_scalar(t):
                    target = self.place(a)
                    local = self.bind_locals_for(a, t, p.name)
                    self.em.line(local.write(target.read()))
                    env.bind(sym, local)
                    copy_back.append((target, local))
                elif i in by_reference:
                    env.bind(sym, self.place(a))
                else:
                    target = self.place(a)
                    local = self.bind_locals_for(sym, t, p.name)
                    self.copy_place(local, target)
                    env.bind(sym, local)
                    copy_back.append((target, local))
            else:  # out
                local = self.bind_locals_for(sym, t, p.name)
                self.init_place(local)
                env.bind(sym, local)
                if a is not None:
                    copy_back.append((self.place(a), local))
        return copy_back

    def _aliasing_free(self, params, args, callee) -> set[int]:
        """Indices of the aggregate in/inout arguments that may be bound to the caller's storage.

        Binding is the same as copying when nothing else can reach that storage during the call: the
        callee's body (and what it calls) does not name the variable the argument's path starts from,
        no other argument starts from it, and no later argument has side effects."""
        roots = [root_symbol(a) if a is not None else None for a in args]
        touched = self.callee_facts.touched_symbols(callee) if callee is not None else frozenset()
        free = set()
        for i, (p, a) in enumerate(zip(params, args)):
            if a is None or is_scalar(p.type) or p.direction not in ("", "in", "inout"):
                continue
            root = roots[i]
            if root is not None:
                if id(root) in touched:
                    continue
                if any(r is root and _overlap_matters(params, i, j) for j, r in enumerate(roots) if j != i):
                    continue
            if any(b is not None and has_effects(b) for b in args[i + 1:]):
                continue
            free.add(i)
        return free

    def copy_out(self, copy_back: list) -> None:
        for target, local in copy_back:
            if isinstance(target, Scalar):
                self.em.line(target.write(local.read()))
            else:
                self.copy_place(target, local)

    def emit_body(self, body: A.BlockStatement, env: Env, result: Place | None) -> None:
        """Emit an inlined body; a `return` before its end leaves a one-pass `while` loop."""
        wrapped = _contains_return(body) and not _ends_with_return(body)
        saved = self.env
        self.env = env
        self.frames.append(InlineFrame(result, wrapped))
        self.nesting += INLINE_NESTING      # see MAX_COMPILE_NESTING
        try:
            if wrapped:
                with self.em.indent("while True:"):
                    self.block(body)
                    self.em.line("break")
            else:
                self.block(body)
        finally:
            self.frames.pop()
            self.nesting -= INLINE_NESTING
            self.env = saved

    def emit_body_and_copy_out(self, callee, body: A.BlockStatement, env: Env, result: Place | None,
                               copy_back: list) -> None:
        """The body, then copy-out; an `exit` in the body copies out too (spec: exit in an action or a
        control still copies its out and inout arguments back), so such a body runs under try/finally."""
        if copy_back and self.callee_facts.may_exit(callee):
            with self.em.indent("try:"):
                self.emit_body(body, env, result)
                self.em.line("pass")
            with self.em.indent("finally:"):
                self.copy_out(copy_back)
            return
        self.emit_body(body, env, result)
        self.copy_out(copy_back)

    def inline_body(self, params, args, param_syms, body: A.BlockStatement, result_type: Type | None,
                    preset: dict | None = None, instance_env: Env | None = None, callee=None):
        """Bind parameters (copy-in), emit the body, copy out; return the result place (if any)."""
        env = Env(instance_env if instance_env is not None else self.env)
        callee = callee if callee is not None else body
        copy_back = self.bind_params(params, args, param_syms, env, preset, callee)
        result = None
        if result_type is not None and str(result_type) != "void":
            result = self.bind_locals_for(body, result_type, "ret")
            self.init_place(result)
        self.emit_body_and_copy_out(callee, body, env, result, copy_back)
        return result

    @staticmethod
    def _param_symbols(decl) -> list:
        return [p.symbol for p in decl.params]

    def _call_action(self, e: A.Call, c):
        decl = c.decl
        if self.traced:
            args = ", ".join(f"{p.name!r}: ({self.value(a) if a is not None and is_scalar(p.type) else 'None'}, "
                             f"{scalar_width(p.type) if is_scalar(p.type) else 0})"
                             for p, a in zip(c.params, e.bound))
            self.em.line(f"tr(ActionRun({self.prog.action_name(self.instance_path, decl)!r}, {{{args}}}))")
        self.inline_body(c.params, e.bound, self._param_symbols(decl), decl.body, None,
                         instance_env=self.action_env(decl), callee=decl)
        return None

    def action_env(self, decl) -> Env | None:
        """The environment an action body sees: its control's (actions may be declared at top level)."""
        return self.control_envs.get(id(getattr(decl.symbol, "owner", None)), self.env) \
            if hasattr(self, "control_envs") else self.env

    def _call_function(self, e: A.Call, c):
        decl = c.decl
        ret_t = c.return_type if str(c.return_type) != "void" else None
        result = self.inline_body(c.params, e.bound, self._param_symbols(decl), decl.body, ret_t,
                                  instance_env=self.root_env, callee=decl)
        if result is None:
            return None
        return result

    # ------------------------------------------------------------------ headers and stacks

    def _call_header_method(self, e: A.Call, c):
        # isValid() may be asked of a header that is not storage (returned by a function).
        recv = self.place(c.receiver) if is_path(c.receiver) else self.aggregate_source(c.receiver)
        if isinstance(recv, UnionPlace):
            if c.name == "isValid":
                return "(" + " or ".join(h.valid.read() for h in recv.members.values()) + ")"
            raise self.unsupported(f"{c.name}() on a header union", e)
        if not isinstance(recv, HeaderPlace):
            raise error(f"internal: {c.name}() on a non-header", e.span)
        if c.name == "isValid":
            return recv.valid.read()
        if c.name == "setValid":
            self.em.line(recv.valid.write("True"))
            self._invalidate_union_siblings(c.receiver)
            return None
        if c.name == "setInvalid":
            self.em.line(recv.valid.write("False"))
            return None
        if c.name in ("minSizeInBits", "minSizeInBytes"):
            w = recv.layout.fixed_width
            return str(w if c.name == "minSizeInBits" else w // 8)
        raise self.unsupported(f"header method {c.name}()", e)

    def _invalidate_union_siblings(self, receiver: A.Expression) -> None:
        if isinstance(receiver, A.Member) and isinstance(strip_newtype(receiver.expr.type), StructLikeType) \
                and strip_newtype(receiver.expr.type).kind == "header_union":
            union = self.place(receiver.expr)
            for name, h in union.members.items():
                if name != receiver.member:
                    self.em.line(h.valid.write("False"))

    def _call_stack_method(self, e: A.Call, c):
        stack: StackPlace = self.place(c.receiver)
        count = e.bound[0].const
        size = stack.size
        elems = stack.elems
        if c.name == "push_front":
            for i in range(size - 1, -1, -1):
                if i >= count:
                    self.copy_place(elems[i], elems[i - count])
                else:
                    self._invalidate(elems[i])
            self.em.line(stack.next.write(f"min({stack.next.read()} + {count}, {size})"))
        else:
            for i in range(size):
                if i + count < size:
                    self.copy_place(elems[i], elems[i + count])
                else:
                    self._invalidate(elems[i])
            self.em.line(stack.next.write(f"max({stack.next.read()} - {count}, 0)"))
        return None

    def _invalidate(self, element: Place) -> None:
        """Mark a stack element (a header, or every header of a union) invalid."""
        headers = element.members.values() if isinstance(element, UnionPlace) else [element]
        for h in headers:
            self.em.line(h.valid.write("False"))

    # ------------------------------------------------------------------ tables

    def _call_table_apply(self, e: A.Call, c):
        decl = c.decl
        info = self.prog.table_info(self.instance_path, decl)
        T = info.pyname
        # Keys are read left to right; a key read before a later one's side effects is kept in a temporary.
        key_values = []
        for i, k in enumerate(decl.keys):
            v = self.value(k.expr)
            if any(has_effects(later.expr) for later in decl.keys[i + 1:]):
                v = self.snapshot(v)
            key_values.append(v)
        key_parts = []
        shift = 0
        for k, v in zip(reversed(decl.keys), reversed(key_values)):
            if isinstance(strip_newtype(k.type), BoolType):
                v = f"(1 if {v} else 0)"
            key_parts.append(f"({v} << {shift})" if shift else v)
            shift += k.width
        key = " | ".join(reversed(key_parts)) if key_parts else "0"
        ent, hit, aid, args = (self.em.fresh(x) for x in ("ent", "hit", "aid", "args"))
        if decl.keys:
            kv = self.em.fresh("key")
            self.em.line(f"{kv} = {key}")
            self.em.line(f"{ent} = {T}.lookup({kv})")
        else:
            kv = "0"
            self.em.line(f"{ent} = None")
        color = None
        if info.direct_meter is not None:
            color = self.em.fresh("color")
        ref = self.em.fresh("ref") if info.profile is not None else None
        with self.em.indent(f"if {ent} is None:"):
            if ref:
                self.em.line(f"{hit} = False; {ref} = {T}.default_ref")
            else:
                self.em.line(f"{hit} = False; {aid} = {T}.default_aid; {args} = {T}.default_args")
            if color:
                self.em.line(f"{color} = 0")
        with self.em.indent("else:"):
            if ref:
                self.em.line(f"{hit} = True; {ref} = {ent}.ref")
            else:
                self.em.line(f"{hit} = True; {aid} = {ent}.aid; {args} = {ent}.args")
            if info.direct_counter is not None:
                self.em.line(f"{ent}.packets += 1; {ent}.bytes += {self.packet_length_expr()}")
            if color:
                self.em.line(f"{color} = {ent}.meter.execute({self.packet_length_expr()}, dev.now_us) "
                             f"if {ent}.meter is not None else 0")
        chosen = self._indirect_action(decl, info, ref, aid, args) if ref else None
        if self.traced:
            # The key packs the first field highest, as built above; each field's shift is the width after it.
            shifts, after = [], 0
            for k in reversed(info.keys):
                shifts.append(after)
                after += k.width
            shifts.reverse()
            keyvals = ", ".join(f"{k.name!r}: (({kv} >> {sh}) & {hex((1 << k.width) - 1)}, {k.width})"
                                for k, sh in zip(info.keys, shifts))
            self.em.line(f"tr(TableApply({info.name!r}, {{{keyvals}}}, {hit}, {T}.describe_entry({ent}), "
                         f"{T}.action_name({aid})))")
            if chosen:
                self.em.line(f"if {chosen}: tr(ProfileSelect(*{chosen}))")
        saved_color = getattr(self, "direct_meter_color", None)
        self.direct_meter_color = color
        first = True
        for ref in decl.action_refs:
            aid_value = info.action_id(ref.name)
            with self.em.indent(f"{'if' if first else 'elif'} {aid} == {aid_value}:"):
                self._dispatch_action(ref, args, info)
            first = False
        self.direct_meter_color = saved_color
        return {"hit": hit, "miss": f"(not {hit})", "action_run": aid, "info": info}

    def _indirect_action(self, decl: A.TableDeclaration, info, ref: str, aid: str, args: str) -> str | None:
        """Emit the step from an indirect table's member or group (in `ref`, None for the program's
        default action) to the action id and arguments to run; as BMv2 does, a group runs the member at
        position hash % size, the hash taken over the selector keys. Returns, when traced, the name of a
        tuple of ProfileSelect's arguments (None when the program's default action runs)."""
        T = info.pyname
        profile = self.prog.profiles[info.profile]
        kind = "action selector" if profile.algorithm else "action profile"
        chosen = self.em.fresh("chosen") if self.traced else None
        with self.em.indent(f"if {ref} is None:"):
            self.em.line(f"{aid} = {T}.default_aid; {args} = {T}.default_args")
            if chosen:
                self.em.line(f"{chosen} = None")
        with self.em.indent("else:"):
            if profile.algorithm is not None:
                with self.em.indent(f"if {ref}.is_group:"):
                    grp, mem, h = (self.em.fresh(x) for x in ("grp", "mem", "h"))
                    self.em.line(f"{grp} = {ref}.handle; {mem} = {ref}.members")
                    self.em.line(f"{h} = {self._selector_hash(decl, profile.algorithm)}")
                    self.em.line(f"{ref} = {mem}[{h} % len({mem})] if {mem} else None")
                    if chosen:
                        self.em.line(f"{chosen} = ({info.profile!r}, {kind!r}, {ref}.handle if {ref} is not None "
                                     f"else None, {grp}, {h}, len({mem}))")
                if chosen:
                    with self.em.indent("else:"):
                        self.em.line(f"{chosen} = ({info.profile!r}, {kind!r}, {ref}.handle)")
            elif chosen:
                self.em.line(f"{chosen} = ({info.profile!r}, {kind!r}, {ref}.handle)")
            # An empty group (emptied after an entry pointed to it) runs no action, as in BMv2.
            empty = f"{aid} = -1; {args} = ()"
            if profile.algorithm is not None:
                with self.em.indent(f"if {ref} is None:"):
                    self.em.line(empty)
                with self.em.indent("else:"):
                    self.em.line(f"{aid} = {T}.profile_aids[{ref}.aid]; {args} = {ref}.args")
            else:
                self.em.line(f"{aid} = {T}.profile_aids[{ref}.aid]; {args} = {ref}.args")
        return chosen

    def _selector_hash(self, decl: A.TableDeclaration, algorithm: str) -> str:
        """An expression for the hash of the selector keys (fields of invalid headers left out, as BMv2)."""
        if algorithm == "random":
            return "dev.rng.getrandbits(64)"
        items = []
        for k in decl.selector_keys:
            items.extend(self._flatten_data(k.expr))
        data, width, _ = self.pack_items(_merge_adjacent(items))
        if algorithm == "identity" and isinstance(width, int) and width % 8 == 0 and width <= 64:
            return f"({data})"        # whole bytes, at most 8 of them: the identity hash is the value itself
        return f"selector_hash({algorithm!r}, {data}, {width})"

    def _dispatch_action(self, ref: A.ActionRef, args_var: str, info) -> None:
        decl = ref.decl
        params = self.action_callable_params(decl)
        data_params = [p for p in params if not p.direction]
        locals_ = [self.bind_locals_for(decl, p.type, p.name) for p in data_params]
        if locals_:
            names = ", ".join(l.read() for l in locals_)
            self.em.line(f"{names}, = {args_var}")
        preset = {p.name: l for p, l in zip(data_params, locals_)}
        bound = getattr(ref, "bound", None) or []
        args = []
        di = 0
        for p in params:
            if p.direction:
                args.append(bound[di] if di < len(bound) else None)
                di += 1
            else:
                args.append(None)
        if self.traced:
            shown = ", ".join(f"{p.name!r}: ({l.read()}, {scalar_width(p.type)})" for p, l in zip(data_params, locals_))
            self.em.line(f"tr(ActionRun({self.prog.action_name(self.instance_path, decl)!r}, {{{shown}}}))")
        self.inline_body(params, args, self._param_symbols(decl), decl.body, None, preset=preset,
                         instance_env=self.action_env(decl), callee=decl)

    def action_callable_params(self, decl):
        return decl.param_infos

    def packet_length_expr(self) -> str:
        return self.slot("s_packet_length") if "s_packet_length" in self.prog.state_slots else "0"

    # ------------------------------------------------------------------ sub-blocks

    def _call_block_apply(self, e: A.Call, c):
        recv = c.receiver
        if recv is None:
            # Direct application: Type.apply(args).
            decl = c.decl
            path = f"{self.instance_path}.{decl.name}"
        else:
            binding = self.instance_binding(recv)
            if binding.kind != "block":
                raise error("internal: apply() of an unknown instance", e.span)
            decl = binding.decl
            path = binding.info
        bt = decl.resolved
        if isinstance(decl, A.ParserDeclaration):
            if not self.in_parser:
                raise error("a parser can only be applied from another parser", e.span)
            self.inline_subparser(decl, e, path)
            return None
        saved_path = self.instance_path
        self.instance_path = path
        try:
            env = Env(self.root_env)
            for sym, value in (binding.args if recv is not None else {}).items():
                env.bind(sym, value)
            copy_back = self.bind_params(bt.params, e.bound, self._param_symbols(decl), env, callee=decl)
            self.setup_control_locals(decl, env, path)
            self.emit_body_and_copy_out(decl, decl.body, env, None, copy_back)
        finally:
            self.instance_path = saved_path
        return None

    # ------------------------------------------------------------------ externs

    def _extern_binding(self, recv: A.Expression) -> Binding:
        b = self.instance_binding(recv)
        if b.kind != "extern":
            raise error("internal: a method call on an instance that is not an extern", recv.span)
        return b

    def _call_extern_method(self, e: A.Call, c):
        ext: ExternType = c.owner
        if ext.name == "packet_in":
            return self.packet_in_method(e, c)
        if ext.name == "packet_out":
            return self.packet_out_method(e, c)
        b = self._extern_binding(c.receiver)
        X = b.pyname
        args = e.bound
        if ext.name == "register":
            size = b.info.params["size"]
            mask = hex((1 << b.info.params["width"]) - 1)
            cells = self.prog.register_cells(b.info)
            if c.name == "read":
                idx = self.em.fresh("ri")
                self.em.line(f"{idx} = {self.value(args[1] if len(args) == 2 else args[0])}")
                value = f"({cells}[{idx}] if {idx} < {size} else 0)"
                if self.traced:
                    self.em.line(f"tr(ExternCall({b.info.name!r}, 'read', f'[{{{idx}}}] -> {{{value}}}'))")
                if not is_scalar(e.type if len(args) == 1 else args[0].type):
                    # A register of structs keeps each struct as its fields' bits side by side.
                    target = self.bind_locals_for(e, e.type, "rr") if len(args) == 1 else self.place(args[0])
                    self._unpack_scalars(target, value, e)
                    return target if len(args) == 1 else None
                if len(args) == 1:     # T read(in I index): the newer form
                    return value
                self.em.line(self.place(args[0]).write(value))
                return None
            if c.name == "write":
                iv, vv = self.em.fresh("ri"), self.em.fresh("rv")
                packed = (self.value(args[1]) if is_scalar(args[1].type)
                          else self._packed_scalars(self.aggregate_source(args[1]), args[1]))
                self.em.line(f"{iv} = {self.value(args[0])}; {vv} = {packed}")
                if self.traced:
                    self.em.line(f"tr(ExternCall({b.info.name!r}, 'write', f'[{{{iv}}}] = {{{vv}}}'))")
                self.em.line(f"if {iv} < {size}: {cells}[{iv}] = {vv} & {mask}")
                return None
        if ext.name == "counter" and c.name == "count":
            self.em.line(f"{X}.count({self.value(args[0])}, {self.packet_length_expr()})")
            return None
        if ext.name == "meter" and c.name == "execute_meter":
            target = self.place(args[1])
            self.em.line(target.write(f"{X}.execute({self.value(args[0])}, {self.packet_length_expr()}, "
                                      f"dev.now_us)"))
            return None
        if ext.name == "direct_counter" and c.name == "count":
            return None    # direct counters count every hit of their table
        if ext.name == "direct_meter" and c.name == "read":
            target = self.place(args[0])
            color = getattr(self, "direct_meter_color", None)
            self.em.line(target.write(color if color else "0"))
            return None
        if ext.name == "Checksum16" and c.name == "get":
            data, width = self.pack_data(args[0])
            return f"checksum('csum16', {data}, {width})"
        raise self.unsupported(f"method {ext.name}.{c.name}()", e)

    def _struct_scalars(self, place: Place, e: A.Expression) -> list[Scalar]:
        if isinstance(place, Scalar):
            return [place]
        if isinstance(place, StructPlace):
            return [s for f in place.fields.values() for s in self._struct_scalars(f, e)]
        raise self.unsupported(f"a register of {e.type} (its elements must be structs of bit<W>, int<W>, bool "
                               f"or enums)", e)

    def _packed_scalars(self, place: Place, e: A.Expression) -> str:
        """The scalars of a struct side by side in one integer, the first field most significant."""
        parts, shift = [], 0
        for s in reversed(self._struct_scalars(place, e)):
            v = f"(1 if {s.read()} else 0)" if isinstance(strip_newtype(s.type), BoolType) else s.read()
            parts.append(f"({v} << {shift})" if shift else v)
            shift += scalar_width(s.type)
        return "(" + " | ".join(reversed(parts)) + ")" if parts else "0"

    def _unpack_scalars(self, place: Place, value: str, e: A.Expression) -> None:
        tmp = self.em.fresh("rp")
        self.em.line(f"{tmp} = {value}")
        shift = 0
        for s in reversed(self._struct_scalars(place, e)):
            w = scalar_width(s.type)
            v = f"(({tmp} >> {shift}) & {hex((1 << w) - 1)})"
            self.em.line(s.write(f"({v} == 1)" if isinstance(strip_newtype(s.type), BoolType) else v))
            shift += w

    def pack_data(self, e: A.Expression) -> tuple[str, object]:
        expr, width, _ = self.pack_data3(e)
        return expr, width

    def pack_data3(self, e: A.Expression) -> tuple[str, object, int | None]:
        """The concatenation of the fields of a field list as (python int expression, width).

        As in BMv2, fields of headers that are invalid are left out, and a
        varbit field contributes its current length; the width is then a
        run-time value (the name of a local). Adjacent fields of one header
        are read as one slice of its bits."""
        return self.pack_items(_merge_adjacent(self._flatten_data(e)))

    def pack_items(self, items: list["_Item"]) -> tuple[str, object, int | None]:
        """pack_data3 of items already flattened and merged."""
        if all(it.valid is None and it.varbit is None for it in items):
            parts = []
            total = 0
            for it in reversed(items):
                parts.append(f"({it.value} << {total})" if total else it.value)
                total += it.width
            expr = " | ".join(reversed(parts)) if parts else "0"
            return f"({expr})", total, total
        valids = {it.valid for it in items}
        if len(valids) == 1 and all(it.varbit is None for it in items):
            # All from one header: pack statically, or nothing if it is invalid.
            valid = valids.pop()
            parts = []
            total = 0
            for it in reversed(items):
                parts.append(f"({it.value} << {total})" if total else it.value)
                total += it.width
            return (f"(({' | '.join(reversed(parts))}) if {valid} else 0)", f"({total} if {valid} else 0)",
                    total)
        acc, aw = self.em.fresh("acc"), self.em.fresh("aw")
        self.em.line(f"{acc} = 0; {aw} = 0")
        i = 0
        while i < len(items):
            valid = items[i].valid
            group = []
            while i < len(items) and items[i].valid == valid:
                group.append(items[i])
                i += 1
            code = []
            for it in group:
                if it.varbit is not None:
                    vb, vl = it.varbit
                    code.append(f"{acc} = ({acc} << {vl}) | {vb}; {aw} += {vl}")
                else:
                    code.append(f"{acc} = ({acc} << {it.width}) | {it.value}; {aw} += {it.width}")
            if valid is None:
                for c in code:
                    self.em.line(c)
            else:
                with self.em.indent(f"if {valid}:"):
                    for c in code:
                        self.em.line(c)
        return acc, aw, None

    def _flatten_data(self, e: A.Expression) -> list["_Item"]:
        t = strip_newtype(e.type)
        if isinstance(e, A.ListExpression):
            out = []
            for x in e.elements:
                out.extend(self._flatten_data(x))
            return out
        if isinstance(e, A.StructExpression):
            out = []
            for _, x in e.fields:
                out.extend(self._flatten_data(x))
            return out
        if is_scalar(t) and not isinstance(e, (A.Name, A.Member, A.Index)):
            v = self.value(e)
            if isinstance(t, BoolType):
                v = f"(1 if {v} else 0)"
            return [_Item(v, scalar_width(t))]
        if is_scalar(t) or isinstance(t, VarbitType):
            try:
                place = self.place(e)
            except Exception:
                place = None
            if isinstance(place, Scalar):
                return self._flatten_place(place)
            v = self.value(e)
            if isinstance(t, BoolType):
                v = f"(1 if {v} else 0)"
            return [_Item(v, scalar_width(t))]
        place = self.aggregate_source(e)
        return self._flatten_place(place)

    def _flatten_place(self, place: Place) -> list["_Item"]:
        if isinstance(place, HeaderPlace):
            out = []
            w = place.layout.fixed_width
            if w:
                out.append(_Item(place.bits.read(), w, place.valid.read(), place.bits.read(), 0))
            if place.vb is not None:
                out.append(_Item("", 0, place.valid.read(), varbit=(place.vb.read(), place.vl.read())))
            return out
        if isinstance(place, StructPlace):
            out = []
            for f in place.fields.values():
                out.extend(self._flatten_place(f))
            return out
        if isinstance(place, FieldScalar) and not isinstance(place, DynFieldScalar):   # at a known offset
            fl = place.fl
            v = place.read()
            if isinstance(strip_newtype(place.type), BoolType):
                v = f"(1 if {v} else 0)"
            return [_Item(v, fl.width, place.header.valid.read(), place.header.bits.read(), fl.offset,
                          header_width=place.header.layout.fixed_width)]
        if isinstance(place, VarbitScalar):
            h = place.header
            return [_Item("", 0, h.valid.read(), varbit=(h.vb.read(), h.vl.read()))]
        if isinstance(place, Scalar):
            v = place.read()
            if isinstance(strip_newtype(place.type), BoolType):
                v = f"(1 if {v} else 0)"
            return [_Item(v, scalar_width(place.type))]
        if isinstance(place, StackPlace):
            out = []
            for el in place.elems:
                out.extend(self._flatten_place(el))
            return out
        raise self.unsupported("this value in a field list", None)

    def _call_extern_function(self, e: A.Call, c):
        name = c.name
        args = e.bound
        handler = getattr(self, "_ext_" + name, None)
        if handler is None:
            raise error(f"extern function '{name}' is not supported: dataplane runs only the externs of core.p4 "
                        f"and v1model.p4 (BMv2, too, runs others only when extended with them)", e.span,
                        provided_externs_hint())
        return handler(e, args)

    # v1model extern functions --------------------------------------------------------------

    def _ext_mark_to_drop(self, e, args):
        std = self.place(args[0])
        self.em.line(std.fields["egress_spec"].write("511"))
        if "mcast_grp" in std.fields:
            self.em.line(std.fields["mcast_grp"].write("0"))
        if self.traced:
            self.em.line("tr(Log('mark_to_drop(): egress_spec = 511'))")

    def _ext_hash(self, e, args):
        target = self.place(args[0])
        algo = self._enum_member_name(args[1])
        data, width, static = self.pack_data3(args[3])
        base = self.value(args[2])
        max_ = self.value(args[4])
        out_w = scalar_width(args[0].type)
        if algo == "random":
            # HashAlgorithm.random: a uniformly random value in [base, base + max).
            self.em.line(target.write(f"({base} + dev.rng.randrange(max(1, {max_}))) & {hex((1 << out_w) - 1)}"))
            return
        fn = {"crc32": "crc32", "crc32_custom": "crc32", "crc16": "crc16", "crc16_custom": "crc16"}.get(algo)
        if fn is not None and args[4].const is not None:
            # The common case inline: result = base + H(data bytes) mod max (max 0 counts as 1).
            if static is not None:
                pad = (-static) % 8
                blob = f"({data} << {pad}).to_bytes({(static + pad) // 8}, 'big')" if pad else \
                    f"{data}.to_bytes({static // 8}, 'big')"
            else:
                # A width known only at run time (fields of headers that may be invalid, a varbit): the
                # bytes of pack_bits(data, width), the data padded with zero bits to a whole byte.
                blob = f"({data} << (-{width} & 7)).to_bytes(({width} + 7) >> 3, 'big')"
            m = args[4].const or 1
            bits = 32 if fn == "crc32" else 16
            if args[2].const == 0 and m >= 1 << bits and out_w >= bits:
                # base 0, a max the hash never reaches, a target it fits: the hash as it is.
                self.em.line(target.write(f"{fn}({blob})"))
                return
            self.em.line(target.write(f"({base} + {fn}({blob}) % {m}) & {hex((1 << out_w) - 1)}"))
            return
        self.em.line(target.write(f"hash_value({algo!r}, {data}, {width}, {base}, {max_}, {out_w})"))

    def _enum_member_name(self, e: A.Expression) -> str:
        t = strip_newtype(e.type)
        if isinstance(t, EnumType) and e.const is not None:
            return t.members[e.const] if not t.is_serializable else str(e.const)
        raise error("this argument must be a constant enum member", e.span)

    def _checksum_expr(self, algo: str, data_e: A.Expression, payload: bool) -> str:
        """Emit code computing a checksum over a field list; return the name holding it."""
        if algo == "csum16" and not payload:
            items = _zero_aligned_gaps(_merge_adjacent(self._flatten_data(data_e)))
            data, width, static = self.pack_items(items)
        else:
            data, width, static = self.pack_data3(data_e)
        ck = self.em.fresh("ck")
        if algo == "csum16" and not payload and static is not None:
            # RFC 1071 inline: the one's-complement sum of the 16-bit words is the value modulo 0xFFFF
            # (a nonzero multiple of 0xFFFF sums to 0xFFFF); padding to 16 bits is a static shift.
            x = self.em.fresh("cx")
            pad = (16 - static % 16) % 16
            self.em.line(f"{x} = {data}" + (f" << {pad}" if pad else ""))
            self.em.line(f"{ck} = {x} % 0xffff")
            self.em.line(f"{ck} = 0xffff ^ ({ck} or (0xffff if {x} else 0))")
            return ck
        if algo == "csum16" and not payload:
            # The same with a width known only at run time: the padding to 16 bits is -width & 15.
            x = self.em.fresh("cx")
            self.em.line(f"{x} = {data} << (-{width} & 15)")
            self.em.line(f"{ck} = {x} % 0xffff")
            self.em.line(f"{ck} = 0xffff ^ ({ck} or (0xffff if {x} else 0))")
            return ck
        pay = f", {self.slot('_payload')}" if payload else ""
        self.em.line(f"{ck} = checksum({algo!r}, {data}, {width}{pay})")
        return ck

    def _ext_verify_checksum(self, e, args, payload: bool = False):
        algo = self._enum_member_name(args[3])
        cond = self.value(args[0])
        err = f"{self.slot('s_checksum_error')} = 1" if "s_checksum_error" in self.prog.state_slots else "pass"
        with self.em.indent(f"if {cond}:"):
            ck = self._checksum_expr(algo, args[1], payload)
            with self.em.indent(f"if {ck} != {self.value(args[2])}:"):
                self.em.line(err)
                if self.traced:
                    self.em.line("tr(ExternCall('verify_checksum', '', ': checksum error'))")

    def _ext_verify_checksum_with_payload(self, e, args):
        self._ext_verify_checksum(e, args, payload=True)

    def _ext_update_checksum(self, e, args, payload: bool = False):
        algo = self._enum_member_name(args[3])
        cond = self.value(args[0])
        target = self.place(args[2])
        out_w = scalar_width(args[2].type)
        with self.em.indent(f"if {cond}:"):
            ck = self._checksum_expr(algo, args[1], payload)
            # A 16-bit checksum fits a field of 16 bits or more as it is.
            fits = algo == "csum16" and out_w >= 16
            self.em.line(target.write(ck if fits else f"{ck} & {hex((1 << out_w) - 1)}"))

    def _ext_update_checksum_with_payload(self, e, args):
        self._ext_update_checksum(e, args, payload=True)

    def _ext_random(self, e, args):
        target = self.place(args[0])
        self.em.line(target.write(f"dev.rng.randint({self.value(args[1])}, {self.value(args[2])})"))

    def _ext_digest(self, e, args):
        data_e = args[1]
        names, values, widths = self._digest_fields(data_e)
        receiver = self.value(args[0])
        vals = ", ".join(values)
        self.em.line(f"dev.digest({receiver}, {str(data_e.type)!r}, {tuple(names)!r}, ({vals},))")
        if self.traced:
            self.em.line(f"tr(DigestSent({receiver}, {tuple(names)!r}, ({vals},), {tuple(widths)!r}))")

    def _digest_fields(self, e: A.Expression) -> tuple[list[str], list[str], list[int | None]]:
        """The digest's field names, the Python expressions of their values, and their widths (for traces)."""
        t = strip_newtype(e.type)
        if isinstance(e, A.ListExpression):
            names = list(t.fields) if isinstance(t, StructLikeType) else [f"f{i}" for i in range(len(e.elements))]
            return names, [self.value(x) for x in e.elements], [_width_or_none(x.type) for x in e.elements]
        if isinstance(e, A.StructExpression):
            return ([n for n, _ in e.fields], [self.value(x) for _, x in e.fields],
                    [_width_or_none(x.type) for _, x in e.fields])
        place = self.aggregate_source(e)
        if isinstance(place, StructPlace):
            names, values, widths = [], [], []
            for n, f in place.fields.items():
                if isinstance(f, Scalar):
                    names.append(n)
                    values.append(f.read())
                    widths.append(_width_or_none(f.type))
            return names, values, widths
        if isinstance(place, HeaderPlace):
            fields = [(n, place.field(n)) for n in place.layout.fields]
            # A struct-typed header field is digested as the integer of its bits, like on the wire.
            return ([n for n, _ in fields], [f.read() if isinstance(f, Scalar) else
                                             FieldScalar(place, place.layout.fields[n]).read() for n, f in fields],
                    [place.layout.fields[n].width for n, _ in fields])
        if isinstance(place, Scalar):
            return ["value"], [place.read()], [_width_or_none(place.type)]
        raise self.unsupported("this digest data", e)

    def _clone(self, session: str, field_list: str):
        self.em.line(f"{self.slot('_clone_session')} = {session}; {self.slot('_clone_fl')} = {field_list}; "
                     f"{self.slot('_special')} = True")
        if self.traced:
            self.em.line("tr(ExternCall('clone', '', f'(session {p._clone_session})'))")

    def _ext_clone(self, e, args):
        self._clone(self.value(args[1]), "0")

    def _ext_clone3(self, e, args):
        self._clone(self.value(args[1]), "0")

    def _ext_clone_preserving_field_list(self, e, args):
        # Field list indices are stored plus one, so that 0 means "no field list".
        self._clone(self.value(args[1]), f"{self.value(args[2])} + 1")

    def _ext_resubmit_preserving_field_list(self, e, args):
        self.em.line(f"{self.slot('_resubmit_fl')} = {self.value(args[0])} + 1; {self.slot('_special')} = True")
        if self.traced:
            self.em.line("tr(ExternCall('resubmit', '', '()'))")

    def _ext_resubmit(self, e, args):
        self.em.line(f"{self.slot('_resubmit_fl')} = 1; {self.slot('_special')} = True")

    def _ext_recirculate_preserving_field_list(self, e, args):
        self.em.line(f"{self.slot('_recirc_fl')} = {self.value(args[0])} + 1; {self.slot('_special')} = True")
        if self.traced:
            self.em.line("tr(ExternCall('recirculate', '', '()'))")

    def _ext_recirculate(self, e, args):
        self.em.line(f"{self.slot('_recirc_fl')} = 1; {self.slot('_special')} = True")

    def _ext_truncate(self, e, args):
        self.em.line(f"{self.slot('_truncate')} = {self.value(args[0])}")

    def _ext_assert(self, e, args):
        # The span names the source file: user text, so it goes in only through repr().
        where = str(e.span)
        with self.em.indent(f"if not {self.value(args[0])}:"):
            self.em.line(f"{self.slot('_assert_failed')} = {where!r}; {self.slot('_special')} = True")
            if self.traced:
                self.em.line(f"tr(ExternCall('assert', '', {' failed at ' + where!r}))")

    _ext_assume = _ext_assert

    def _ext_log_msg(self, e, args):
        msg = args[0].const if args[0].const is not None else ""
        values = "()"
        if len(args) > 1 and args[1] is not None:
            data = args[1]
            if isinstance(data, (A.ListExpression, A.StructExpression)):
                items = data.elements if isinstance(data, A.ListExpression) else [x for _, x in data.fields]
                vals = [self.value(x) if is_scalar(x.type) else self._log_aggregate(self.aggregate_source(x))
                        for x in items]
            elif is_scalar(data.type):
                vals = [self.value(data)]
            else:       # a struct or tuple value: one field for each {}
                place = self.aggregate_source(data)
                fields = place.fields.values() if isinstance(place, StructPlace) else [place]
                vals = [f.read() if isinstance(f, Scalar) else self._log_aggregate(f) for f in fields]
            values = f"({', '.join(vals)},)" if vals else "()"
        self.em.line(f"dev.log(format_log({msg!r}, {values}))")
        if self.traced:
            self.em.line(f"tr(Log(format_log({msg!r}, {values})))")

    def _log_aggregate(self, place: Place) -> str:
        """How log_msg prints a header or struct: its fields in parentheses (a header's whether it is valid
        or not, as BMv2 does)."""
        fields = ", ".join(s.read() for s in self._printed_scalars(place))
        return f"'(' + ', '.join(map(str, ({fields},))) + ')'" if fields else "'()'"

    def _printed_scalars(self, place: Place) -> list[Scalar]:
        if isinstance(place, Scalar):
            return [place]
        if isinstance(place, HeaderPlace):
            out = []
            for name in place.layout.order:
                out.extend(self._printed_scalars(place.field(name)))
            return out
        if isinstance(place, StructPlace):
            return [s for f in place.fields.values() for s in self._printed_scalars(f)]
        if isinstance(place, UnionPlace):
            return [s for h in place.members.values() for s in self._printed_scalars(h)]
        if isinstance(place, StackPlace):
            return [s for el in place.elems for s in self._printed_scalars(el)]
        raise TypeError(place)

    def _ext_verify(self, e, args):
        cond = self.value(args[0])
        code = self.value(args[1])
        with self.em.indent(f"if not {cond}:"):
            self.em.line(f"raise ParserStop({code})")

    def _ext_static_assert(self, e, args):
        return "True"


class _Item:
    """One piece of a field list: a value of a width, from a header (which must be valid) or not."""

    __slots__ = ("value", "width", "valid", "bits", "offset", "varbit", "header_width")

    def __init__(self, value: str, width: int, valid: str | None = None, bits: str | None = None,
                 offset: int = 0, varbit: tuple | None = None, header_width: int | None = None):
        self.value, self.width, self.valid, self.bits, self.offset, self.varbit = \
            value, width, valid, bits, offset, varbit
        self.header_width = header_width      # the width of the header's bits, for a field of a header


def _merge_adjacent(items: list[_Item]) -> list[_Item]:
    """Join consecutive fields of one header that are adjacent on the wire into one slice."""
    out: list[_Item] = []
    for it in items:
        prev = out[-1] if out else None
        if (prev is not None and it.bits is not None and prev.bits == it.bits and prev.valid == it.valid
                and prev.varbit is None and it.varbit is None and prev.offset == it.offset + it.width):
            width = prev.width + it.width
            mask = (1 << width) - 1
            if it.header_width is not None and it.offset + width == it.header_width:
                # The slice reaches the header's most significant bit: nothing above it to mask off.
                value = f"({it.bits} >> {it.offset})" if it.offset else it.bits
            else:
                value = f"(({it.bits} >> {it.offset}) & {hex(mask)})" if it.offset else f"({it.bits} & {hex(mask)})"
            out[-1] = _Item(value, width, it.valid, it.bits, it.offset, header_width=it.header_width)
        else:
            out.append(it)
    return out


def _zero_aligned_gaps(items: list[_Item]) -> list[_Item]:
    """For the inline RFC 1071 sum only: join two slices of one header that a gap of whole 16-bit words
    separates (the IPv4 header around its checksum field) into one slice with the gap masked to zeros.

    The sum is the value modulo 0xFFFF, and 2**16 is 1 modulo 0xFFFF: zero words add nothing, and the
    words above the gap keep their alignment, so the sum, and whether the value is zero, are those of the
    list without the gap. One mask replaces two shifts, a mask and an or."""
    out: list[_Item] = []
    for it in items:
        prev = out[-1] if out else None
        gap = prev.offset - (it.offset + it.width) if prev is not None and it.bits is not None else 0
        if (gap > 0 and gap % 16 == 0 and prev.bits == it.bits and prev.valid == it.valid
                and prev.varbit is None and it.varbit is None and it.header_width is not None):
            width = prev.offset + prev.width - it.offset
            mask = ((1 << width) - 1) ^ (((1 << gap) - 1) << it.width)
            value = f"(({it.bits} >> {it.offset}) & {hex(mask)})" if it.offset else f"({it.bits} & {hex(mask)})"
            out[-1] = _Item(value, width, it.valid, it.bits, it.offset, header_width=it.header_width)
        else:
            out.append(it)
    return out


# The extern objects whose methods the compiler lowers (see _call_extern_method and the program compiler).
EXTERN_OBJECTS = ("register", "counter", "meter", "direct_counter", "direct_meter", "action_profile",
                  "action_selector", "Checksum16")


def provided_externs_hint() -> str:
    """What dataplane runs, for a diagnostic about an extern it does not: v1model's externs."""
    functions = sorted(n[len("_ext_"):] for n in dir(CallsMixin) if n.startswith("_ext_"))
    return (f"dataplane provides the extern objects {', '.join(EXTERN_OBJECTS)} and the extern functions "
            f"{', '.join(functions)}")


def _width_or_none(t: Type) -> int | None:
    """A scalar's width for a trace's formatting; None for what has none (it is then shown in decimal)."""
    try:
        return fixed_width(t)
    except LayoutError:
        return None
