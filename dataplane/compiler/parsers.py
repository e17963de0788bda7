"""Lowering of parsers (a state machine in one loop) and of packet_in / packet_out methods.

A parser, with its sub-parsers inlined, becomes a plan of numbered *blocks*:
each P4 state is a block, and a state that applies a sub-parser is split in
two at the apply: the first part jumps to the sub-parser's start block, and
the sub-parser's accept jumps to the second part (the continuation), which
first copies the sub-parser's out/inout arguments back. The blocks are
emitted as ``if st == N:`` branches of one ``while True`` loop; a parser
error raises ParserStop(error code), which ends the loop.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..diagnostics import error
from ..frontend import ast as A
from ..frontend.types import BoolType, StackType, StructLikeType, TupleType, strip_newtype
from .codegen import Binding, Env, is_path, is_scalar
from .layout import (HeaderPlace, Place, Scalar, StackPlace, StructPlace, UnionPlace, header_layout, leaves,
                     scalar_width)

ACCEPT = -1
REJECT = -2
DEPARSED_BITS, DEPARSED_BYTES = "deparsed", "deparsed_len"
# int.from_bytes bound once in the generated module (program.py's header): `int.from_bytes` looks the
# classmethod up and makes a bound method at every call.
FROM_BYTES = "int_from_bytes"


@dataclass
class PBlock:
    num: int
    label: str                        # "Parser.state" for traces
    parser: A.ParserDeclaration
    env: Env
    path: str
    stmts: list
    transition: object                # None (reject), a state name, a SelectExpression, or ("goto", num)
    state_nums: dict                  # state name -> block number, for this parser instance
    on_accept: int = ACCEPT
    prologue: list = field(default_factory=list)   # callables emitting code at the start
    epilogue: list = field(default_factory=list)   # callables emitting code before the transition


def _applies_parser(callee) -> bool:
    """Whether a block apply applies a parser: a declared one, or one passed for a parser-type parameter."""
    return isinstance(callee.decl, (A.ParserDeclaration, A.ParserTypeDeclaration))


class ParsersMixin:

    # ------------------------------------------------------------------ plan

    def plan_parser(self, decl: A.ParserDeclaration, env: Env, path: str, on_accept: int,
                    blocks: list[PBlock]) -> int:
        """Add blocks for the states of a parser instance; return the number of its start block."""
        nums = {}
        for st in decl.states:
            nums[st.name] = len(blocks)
            blocks.append(PBlock(len(blocks), f"{decl.name}.{st.name}", decl, env, path, list(st.statements),
                                 st.transition, nums, on_accept))
        # Split states at sub-parser applies (the continuation is planned the same way).
        i = 0
        mine = [b for b in blocks if b.state_nums is nums]
        work = list(mine)
        while work:
            b = work.pop(0)
            for k, stmt in enumerate(b.stmts):
                call = getattr(stmt, "call", None)
                callee = getattr(call, "callee", None)
                if callee is None or callee.kind != "block_apply" or not _applies_parser(callee):
                    continue
                cont = PBlock(len(blocks), b.label + "#continue", b.parser, b.env, b.path, b.stmts[k + 1:],
                              b.transition, b.state_nums, b.on_accept)
                blocks.append(cont)
                self._plan_subparser_call(b, call, cont, blocks)
                b.stmts = b.stmts[:k]
                work.append(cont)
                break
            i += 1
        return nums.get("start", 0)

    def _plan_subparser_call(self, b: PBlock, call: A.Call, cont: PBlock, blocks: list[PBlock]) -> None:
        callee = call.callee
        recv = callee.receiver
        sub_env = Env(self.root_env)
        if recv is None:
            sub = callee.decl
            path = f"{b.path}.{sub.name}"
        else:
            saved = self.env
            self.env = b.env
            try:
                binding = self.instance_binding(recv)
            finally:
                self.env = saved
            sub, path = binding.decl, binding.info
            for sym, value in binding.args.items():
                sub_env.bind(sym, value)
        params = sub.resolved.params
        syms = [p.symbol for p in sub.params]
        copy_in: list = []
        copy_back: list = []
        for p, a, sym in zip(params, call.bound, syms):
            if isinstance(p.type, type(None)):
                continue
            pt = strip_newtype(p.type)
            if getattr(pt, "name", None) == "packet_in":
                sub_env.bind(sym, Binding("packet_in"))
                continue
            if p.direction in ("", "in") or (p.direction == "inout" and is_scalar(p.type)):
                if is_scalar(p.type):
                    local = self.bind_locals_for(sym, p.type, p.name)
                    copy_in.append((local, a))
                    sub_env.bind(sym, local)
                    if p.direction == "inout":
                        copy_back.append((a, local))
                else:
                    copy_in.append((None, a))
                    sub_env.bind(sym, ("alias", a))
            elif p.direction == "inout":
                copy_in.append((None, a))
                sub_env.bind(sym, ("alias", a))
            elif not is_scalar(p.type) and a is not None:
                # An out aggregate: the sub-parser works on the caller's storage (as p4c's inliner
                # substitutes it), which starts invalid; what it extracted survives a parser error.
                copy_in.append(("invalidate", a))
                sub_env.bind(sym, ("alias", a))
            else:  # out scalar: fresh storage, copied back at the continuation
                local = self.bind_locals_for(sym, p.type, p.name)
                copy_in.append((local, None))
                sub_env.bind(sym, local)
                if a is not None:
                    copy_back.append((a, local))

        def emit_copy_in(self=self, copy_in=copy_in, sub_env=sub_env):
            for local, a in copy_in:
                if local == "invalidate":
                    target = self.place(a)
                    for key, val in list(sub_env.vars.items()):
                        if isinstance(val, tuple) and val[0] == "alias" and val[1] is a:
                            sub_env.vars[key] = target
                    for leaf in leaves(target):
                        if getattr(leaf, "name", "").endswith("_v"):
                            self.em.line(leaf.write("False"))
                elif local is None:
                    # An aggregate passed by reference: resolve the caller's place now.
                    for key, val in list(sub_env.vars.items()):
                        if isinstance(val, tuple) and val[0] == "alias" and val[1] is a:
                            sub_env.vars[key] = self.place(a)
                elif a is None:
                    self.init_place(local)
                elif isinstance(local, Scalar):
                    self.em.line(local.write(self.value(a)))
            for local_decl in sub.locals:
                if not isinstance(local_decl, A.Instantiation):     # bound when planned, below
                    self.init_parser_local(local_decl, sub_env, path)

        def emit_copy_back(self=self, copy_back=copy_back):
            for a, local in copy_back:
                target = self.place(a)
                if isinstance(target, Scalar):
                    self.em.line(target.write(local.read()))
                else:
                    self.copy_place(target, local)

        # Its instances are bound now (its variables only when its code is emitted): planning its states
        # meets the sub-parsers they apply.
        for local_decl in sub.locals:
            if isinstance(local_decl, A.Instantiation):
                self.init_parser_local(local_decl, sub_env, path)
        start = self.plan_parser(sub, sub_env, path, cont.num, blocks)
        b.epilogue.append(emit_copy_in)
        b.transition = ("goto", start)
        cont.prologue.append(emit_copy_back)

    def init_parser_local(self, local, env: Env, path: str) -> None:
        saved = self.env
        self.env = env
        try:
            if isinstance(local, A.VariableDeclaration):
                self._s_VariableDeclaration(local)
            elif isinstance(local, A.ConstantDeclaration):
                self._s_ConstantDeclaration(local)
            elif isinstance(local, A.Instantiation):
                self.bind_instance(local, env, path)
            elif isinstance(local, A.ValueSetDeclaration):
                info = self.prog.value_set_info(path, local)
                env.bind(local.symbol, Binding("value_set", info.pyname, local, info))
        finally:
            self.env = saved

    # ------------------------------------------------------------------ emission

    def compile_parser(self, decl: A.ParserDeclaration, env: Env, inline: bool = False) -> None:
        """Emit the body of `def parse(p, data)`, which returns the offset where parsing stopped
        (inline: emit it into a larger function, leaving the offset in the local `off`)."""
        self.in_parser = True
        em = self.em
        # In the fused function packet_length was just set to len(data) (and nothing can have changed it).
        em.line(f"n = {self.slot('s_packet_length')}" if inline and self.state_in_locals else "n = len(data)")
        em.line("off = 0")
        for local in decl.locals:
            self.init_parser_local(local, env, self.instance_path)
        blocks: list[PBlock] = []
        start = self.plan_parser(decl, env, self.instance_path, ACCEPT, blocks)
        self._blocks = blocks
        first = blocks[start]
        if not self.traced and not first.stmts and isinstance(first.transition, str) \
                and first.transition not in ("accept", "reject"):
            start = self._target(first, first.transition)
        acyclic = self._expanded_size(blocks, blocks[start].num, set()) is not None
        with em.indent("try:"):
            if acyclic:
                # No loops in the parse graph: emit each path as nested straight-line code, where the
                # offset of each fixed-size extract is a constant (see _static_off).
                self._inline = True
                self._static_off, self._off_synced = 0, True
                self._emit_block(blocks[start])
            else:
                self._inline = False
                self._static_off = None
                em.line(f"st = {start}")
                with em.indent("while True:"):
                    for i, b in enumerate(blocks):
                        with em.indent(f"{'if' if i == 0 else 'elif'} st == {b.num}:"):
                            self._emit_block(b)
        with em.indent("except ParserStop as exc:"):
            em.line("err = exc.args[0]")
            if self.traced:
                em.line("tr(ParserError(ERROR_NAMES.get(err, str(err))))")
        with em.indent("else:"):
            em.line("err = 0")
        if "s_parser_error" in self.prog.state_slots:
            em.line(f"{self.slot('s_parser_error')} = err")
        if not inline:
            em.line("return off")
        self.in_parser = False
        self._static_off = None

    # Along one path of the straight-line (acyclic) parser, the offset where parsing is is known while only
    # fixed-size headers are extracted: _static_off. The local `off` then lags behind (_off_synced false)
    # and is set only where something may read it: a parser error, a lookahead, the end of the path.
    _static_off: int | None = None
    _off_synced = True

    def _sync_off(self) -> None:
        """Make `off` hold the offset where parsing is."""
        if self._static_off is not None and not self._off_synced:
            self.em.line(f"off = {self._static_off}")
            self._off_synced = True

    def _leave_static_offsets(self) -> None:
        """Sync `off` and track the offset in it from here on this path (the next step moves it by an amount
        only known at run time)."""
        self._sync_off()
        self._static_off = None

    def _is_fixed_extract(self, stmt) -> bool:
        """Whether a statement is packet.extract(h) of a header at a plain path (no run-time index, no
        stack.next), which moves the offset by a constant and can fail only in its own length check."""
        call = getattr(stmt, "call", None)
        callee = getattr(call, "callee", None)
        if not _is_packet_in(callee, "extract") or len(getattr(call, "bound", ())) != 1:
            return False
        arg = call.bound[0]
        if arg is None or not is_path(arg) or any(isinstance(n, A.Index) or (isinstance(n, A.Member) and n.member
                                                                             in ("next", "last"))
                                                  for n in arg.walk()):
            return False
        t = strip_newtype(getattr(arg, "type", None))
        return isinstance(t, StructLikeType) and t.kind == "header" and header_layout(t).varbit is None

    def _emit_block(self, b: PBlock) -> None:
        saved_env, saved_path = self.env, self.instance_path
        self.env, self.instance_path = b.env, b.path
        try:
            if self.traced and not b.label.endswith("#continue"):
                parser, state = b.label.split(".", 1)
                self.em.line(f"tr(ParserStateEv({parser!r}, {state!r}))")
            for fn in b.prologue:
                fn()
            for s in b.stmts:
                if self._is_fixed_extract(s):
                    self.statement(s)
                    continue
                # Anything else tracks the offset in `off` (inside it, an extract may be conditional);
                # the constant offset holds on after it unless it moved the offset.
                self._sync_off()
                saved, self._static_off = self._static_off, None
                self.statement(s)
                self._static_off = None if _moves_offset(s) else saved
            for fn in b.epilogue:
                fn()
            self._emit_transition(b)
        finally:
            self.env, self.instance_path = saved_env, saved_path

    def _target(self, b: PBlock, name: str) -> int:
        if name == "accept":
            return b.on_accept
        if name == "reject":
            return REJECT
        num = b.state_nums[name]
        # Jump threading: go straight past states that do nothing but transition (not when tracing,
        # so that traces show every state).
        seen = set()
        while not self.traced and num not in seen:
            seen.add(num)
            nb = self._blocks[num]
            if nb.stmts or nb.prologue or nb.epilogue or not isinstance(nb.transition, str):
                break
            nxt = nb.transition
            if nxt == "accept":
                return nb.on_accept
            if nxt == "reject":
                return REJECT
            num = nb.state_nums[nxt]
        return num

    MAX_INLINE_STATES = 400

    def _expanded_size(self, blocks: list[PBlock], num: int, path: set) -> int | None:
        """How many blocks the nested (tree) form would emit from `num`; None if there is a loop
        or the tree would be too big."""
        if num in path:
            return None
        b = blocks[num]
        succ = self._successors(b)
        total = 1
        path.add(num)
        for t in succ:
            if t < 0:
                continue
            sub = self._expanded_size(blocks, t, path)
            if sub is None:
                path.discard(num)
                return None
            total += sub
            if total > self.MAX_INLINE_STATES:
                path.discard(num)
                return None
        path.discard(num)
        return total

    def _successors(self, b: PBlock) -> list[int]:
        tr = b.transition
        if tr is None:
            return []
        if isinstance(tr, tuple):
            return [tr[1]]
        if isinstance(tr, str):
            return [self._raw_target(b, tr)]
        return [self._raw_target(b, c.state) for c in tr.cases]

    @staticmethod
    def _raw_target(b: PBlock, name: str) -> int:
        if name == "accept":
            return b.on_accept
        if name == "reject":
            return REJECT
        return b.state_nums[name]

    def _jump(self, target: int) -> str:
        if getattr(self, "_inline", False):
            if target < 0:
                self._sync_off()
                return "pass"       # accept (and v1model's explicit reject): parsing ends here
            self._emit_block(self._blocks[target])
            return ""
        if target == ACCEPT:
            return "break"
        if target == REJECT:
            # v1model (BMv2) treats an explicit transition to reject like accept, with no error.
            return "break"
        return f"st = {target}"

    def _line(self, text: str) -> None:
        if text:
            self.em.line(text)

    def _emit_transition(self, b: PBlock) -> None:
        tr = b.transition
        if tr is None:
            # No transition statement: the state ends parsing (an implicit reject, like accept on v1model).
            self._sync_off()
            self._line("pass" if getattr(self, "_inline", False) else "break")
            return
        if isinstance(tr, tuple):
            self._line(self._jump(tr[1]))
            return
        if isinstance(tr, str):
            self._line(self._jump(self._target(b, tr)))
            return
        if any(isinstance(n, A.Call) for e in tr.exprs for n in e.walk()):
            self._sync_off()      # a key may look ahead
        branch_start = (self._static_off, self._off_synced)
        keys = []
        for e in tr.exprs:
            k = self.em.fresh("k")
            v = self.value(e)
            if isinstance(strip_newtype(e.type), BoolType):
                v = f"(1 if {v} else 0)"
            self.em.line(f"{k} = {v}")
            keys.append((k, e.type))
        first = True
        has_default = False
        for case in tr.cases:
            test = self._case_test(case.keyset, keys)
            target = self._target(b, case.state)
            if test == "True":
                header = "else:" if not first else "if True:"
                has_default = True
            else:
                header = f"{'if' if first else 'elif'} {test}:"
            with self.em.indent(header):
                if self.traced:
                    ks = f"({', '.join(k for k, _ in keys)},)" if keys else "()"
                    self.em.line(f"tr(Select({ks}, {case.state!r}))")
                self._static_off, self._off_synced = branch_start
                self._line(self._jump(target))
            first = False
            if has_default:
                break
        if not has_default:
            with self.em.indent("else:" if not first else "if True:"):
                self._static_off, self._off_synced = branch_start
                self._sync_off()
                self.em.line(f"raise ParserStop({self.prog.error_code('NoMatch')})")

    def _case_test(self, keyset: A.Expression, keys: list) -> str:
        if isinstance(keyset, (A.DefaultKeyset, A.DontCare)):
            return "True"
        if len(keys) == 1:
            elements = keyset.elements if isinstance(keyset, A.TupleKeyset) else [keyset]
        elif not isinstance(keyset, A.TupleKeyset):
            return self._element_test(keyset, self._concatenated(keys), None)   # a value set of structs
        else:
            elements = keyset.elements
        tests = []
        for el, (k, kt) in zip(elements, keys):
            t = self._element_test(el, k, kt)
            if t != "True":
                tests.append(t)
        return " and ".join(tests) if tests else "True"

    @staticmethod
    def _concatenated(keys: list) -> str:
        """The select keys' bits side by side, the first one most significant."""
        parts, shift = [], 0
        for k, kt in reversed(keys):
            parts.append(f"({k} << {shift})" if shift else k)
            shift += scalar_width(kt)
        return "(" + " | ".join(reversed(parts)) + ")"

    def _element_test(self, el: A.Expression, k: str, kt) -> str:
        if isinstance(el, (A.DefaultKeyset, A.DontCare)):
            return "True"
        if isinstance(el, A.MaskKeyset):
            v, m = el.value.const, el.mask.const
            return f"({k} & {hex(m)}) == {hex(v & m)}"
        if isinstance(el, A.RangeKeyset):
            lo, hi = el.lo.const, el.hi.const
            st = strip_newtype(kt)
            if getattr(st, "signed", False):
                sign = 1 << (st.width - 1)
                sk = f"(({k} ^ {hex(sign)}) - {hex(sign)})"
                lo = ((lo ^ sign) - sign)
                hi = ((hi ^ sign) - sign)
                return f"{lo} <= {sk} <= {hi}"
            return f"{lo} <= {k} <= {hi}"
        if isinstance(el, A.Name) and getattr(getattr(el, "ref", None), "kind", None) == "value_set":
            b = self.env.lookup(el.ref)
            return f"{b.pyname}.matches({k})"
        c = el.const
        if isinstance(c, bool):
            c = int(c)
        if not isinstance(c, int):
            # Anything else would be pasted into the generated code as it prints.
            raise self.unsupported("this select case value (it must be a compile-time constant)", el)
        return f"{k} == {hex(c)}"

    # ------------------------------------------------------------------ packet_in

    def _skip_header(self, e: A.Call, c) -> None:
        """extract<H>(_): check and consume the bytes of a header of type H, keeping nothing."""
        t = strip_newtype(c.params[0].type)
        if not (isinstance(t, StructLikeType) and t.kind == "header"):
            raise error(f"extract() needs a header type, not {t}", e.span)
        layout = header_layout(t)
        if layout.fixed_width % 8:
            raise error(f"header '{t.name}' is {layout.fixed_width} bits long; dataplane extracts whole bytes only",
                        e.span)
        self._leave_static_offsets()
        too_short = f"raise ParserStop({self.prog.error_code('PacketTooShort')})"
        nbits = str(layout.fixed_width)
        if len(e.bound) == 2 and layout.varbit is not None:
            vbits = self.em.fresh("vbits")
            self.em.line(f"{vbits} = {self.value(e.bound[1])}")
            self.em.line(f"if {vbits} > {layout.varbit[1]}: "
                         f"raise ParserStop({self.prog.error_code('HeaderTooShort')})")
            self.em.line(f"if {vbits} & 7: raise ParserStop({self.prog.error_code('ParserInvalidArgument')})")
            nbits = f"{layout.fixed_width} + {vbits}"
        self.em.line(f"if off + (({nbits}) >> 3) > n: {too_short}")
        self.em.line(f"off += ({nbits}) >> 3")
        return None

    def packet_in_method(self, e: A.Call, c):
        if not self.in_parser:
            raise error(f"packet_in.{c.name}() can only be used in a parser", e.span)
        args = e.bound
        em = self.em
        too_short = f"raise ParserStop({self.prog.error_code('PacketTooShort')})"
        if c.name == "extract":
            stack = union = None
            arg0 = args[0]
            if arg0 is None:
                return self._skip_header(e, c)
            if isinstance(arg0, A.Member) and arg0.member == "next":
                # extract(stack.next) fills the next element and then advances the stack's nextIndex.
                stack = self.place(arg0.expr)
            if isinstance(arg0, A.Member) and _is_union(arg0.expr.type):
                # A member of a header union: its siblings become invalid. In a stack of unions,
                # extract(stack.next.member) advances the stack as extract(stack.next) does.
                union = self.place(arg0.expr)
                target = union.members[arg0.member]
                inner = arg0.expr
                if isinstance(inner, A.Member) and inner.member == "next":
                    stack = self.place(inner.expr)
            else:
                target = self.place(arg0)
            if not isinstance(target, HeaderPlace):
                raise error("extract() needs a header", e.span)
            nb = target.layout.fixed_bytes
            if self._static_off is not None and (len(args) != 1 or stack is not None):
                self._leave_static_offsets()
            if target.layout.fixed_width % 8:
                raise error(f"header '{target.type.name}' is {target.layout.fixed_width} bits long; "
                            f"dataplane extracts whole bytes only", e.span)
            vbits = None
            if len(args) == 2 and target.layout.varbit is not None:
                # The size is an argument: evaluated before anything is extracted (it may look ahead at the
                # header itself), and checked before any byte is consumed, so that a failed extract takes none.
                vbits = self.em.fresh("vbits")
                em.line(f"{vbits} = {self.value(args[1])}")
            static = self._static_off
            if static is not None:
                # The offset is a constant here; `off` is set (to where this extract starts) only if it fails.
                fix = "" if self._off_synced else f"off = {static}; "
                em.line(f"if {static + nb} > n: {fix}{too_short}")
                em.line(target.bits.write(f"{FROM_BYTES}(data[{static}:{static + nb}], 'big')"))
                self._static_off, self._off_synced = static + nb, False
            else:
                em.line(f"if off + {nb} > n: {too_short}")
            if vbits is not None:
                maxw = target.layout.varbit[1]
                em.line(f"if {vbits} > {maxw}: raise ParserStop({self.prog.error_code('HeaderTooShort')})")
                em.line(f"if {vbits} & 7: raise ParserStop({self.prog.error_code('ParserInvalidArgument')})")
                em.line(f"if off + {nb} + ({vbits} >> 3) > n: {too_short}")
            if static is None:
                em.line(target.bits.write(f"{FROM_BYTES}(data[off:off + {nb}], 'big')"))
                em.line(f"off += {nb}")
            if vbits is not None:
                em.line(target.vb.write(f"{FROM_BYTES}(data[off:off + ({vbits} >> 3)], 'big')"))
                em.line(target.vl.write(vbits))
                em.line(f"off += {vbits} >> 3")
            em.line(target.valid.write("True"))
            if union is not None:
                for h in union.members.values():
                    if h is not target:
                        em.line(h.valid.write("False"))
            if stack is not None:
                em.line(stack.next.write(f"{stack.next.read()} + 1"))
            if self.traced:
                from ..frontend.printer import expression_text
                shown = expression_text(arg0) if arg0 is not None else "_"
                em.line(f"tr(Extract({shown!r}, {self.prog.layout_const(target.type)}, "
                        f"{target.bits.read()}))")
            return None
        if c.name == "lookahead":
            self._sync_off()
            t = c.return_type
            st = strip_newtype(t)
            if isinstance(st, StructLikeType) and st.kind == "header":
                layout = header_layout(st)
                nb = layout.fixed_bytes
                em.line(f"if off + {nb} > n: {too_short}")
                place = self.bind_locals_for(e, t, "la")
                em.line(place.valid.write("True"))
                em.line(place.bits.write(f"{FROM_BYTES}(data[off:off + {nb}], 'big')"))
                return place
            if isinstance(st, (StructLikeType, StackType, TupleType)):
                return self._lookahead_aggregate(e, t, too_short)
            w = scalar_width(t)
            nb = (w + 7) // 8
            pad = nb * 8 - w
            tmp = self.em.fresh("la")
            em.line(f"if off + {nb} > n: {too_short}")
            v = f"{FROM_BYTES}(data[off:off + {nb}], 'big')"
            em.line(f"{tmp} = {v} >> {pad}" if pad else f"{tmp} = {v}")
            if isinstance(st, BoolType):
                return f"({tmp} == 1)"
            return tmp
        if c.name == "advance":
            self._leave_static_offsets()
            amount = self.em.fresh("adv")
            em.line(f"{amount} = {self.value(args[0])}")
            em.line(f"if {amount} & 7: raise ParserStop({self.prog.error_code('ParserInvalidArgument')})")
            em.line(f"if off + ({amount} >> 3) > n: {too_short}")
            em.line(f"off += {amount} >> 3")
            return None
        if c.name == "length":
            return "n"
        raise self.unsupported(f"packet_in.{c.name}()", e)

    def _lookahead_aggregate(self, e: A.Call, t, too_short: str) -> Place:
        """lookahead<T>() for a struct, tuple or stack: the next bits of the packet laid into T's fields in
        order, as extract would lay them (every header in T becomes valid)."""
        place = self.bind_locals_for(e, t, "la")
        parts = self._wire_parts(place, e)
        total = sum(w for _, w in parts)
        nb = (total + 7) // 8
        tmp = self.em.fresh("la")
        self.em.line(f"if off + {nb} > n: {too_short}")
        self.em.line(f"{tmp} = {FROM_BYTES}(data[off:off + {nb}], 'big')")
        end = nb * 8
        for scalar, w in parts:
            end -= w
            v = f"(({tmp} >> {end}) & {hex((1 << w) - 1)})"
            self.em.line(scalar.write(f"({v} == 1)" if isinstance(strip_newtype(scalar.type), BoolType) else v))
        return place

    def _wire_parts(self, place: Place, e: A.Expression) -> list:
        """The scalars of a place in wire order with their widths; headers are set valid on the way."""
        if isinstance(place, HeaderPlace):
            if place.vb is not None:
                raise error(f"lookahead<{e.type}>() needs a fixed-size type; header '{place.type.name}' has a "
                            f"varbit field", e.span)
            self.em.line(place.valid.write("True"))
            return [(place.bits, place.layout.fixed_width)] if place.layout.fixed_width else []
        if isinstance(place, StructPlace):
            return [part for f in place.fields.values() for part in self._wire_parts(f, e)]
        if isinstance(place, StackPlace):
            if place.next is not None:
                self.em.line(place.next.write("0"))
            return [part for el in place.elems for part in self._wire_parts(el, e)]
        if isinstance(place, Scalar):
            return [(place, scalar_width(place.type))]
        raise self.unsupported(f"lookahead<{e.type}>()", e)

    # ------------------------------------------------------------------ packet_out

    def packet_out_method(self, e: A.Call, c):
        if c.name != "emit":
            raise self.unsupported(f"packet_out.{c.name}()", e)
        place = self.aggregate_source(e.bound[0])
        self._emit_place(place, e.bound[0])
        return None

    def _emit_place(self, place: Place, expr) -> None:
        if isinstance(place, HeaderPlace):
            layout = place.layout
            if layout.fixed_width % 8:
                raise error(f"header '{layout.name}' is {layout.fixed_width} bits long; dataplane emits "
                            f"whole bytes only", getattr(expr, "span", None))
            nb = layout.fixed_bytes
            with self.em.indent(f"if {place.valid.read()}:"):
                if self.deparse_into_int:
                    self._emit_into_int(place)
                elif layout.varbit is not None:
                    self.em.line(f"out.append({place.bits.read()}.to_bytes({nb}, 'big') + "
                                 f"{place.vb.read()}.to_bytes({place.vl.read()} >> 3, 'big'))")
                else:
                    self.em.line(f"out.append({place.bits.read()}.to_bytes({nb}, 'big'))")
                if self.traced:
                    self.em.line(f"tr(Emit({place.display!r}, {self.prog.layout_const(place.type)}, "
                                 f"{place.bits.read()}))")
            return
        if isinstance(place, StructPlace):
            for f in place.fields.values():
                self._emit_place(f, expr)
            return
        if isinstance(place, UnionPlace):
            for m in place.members.values():
                self._emit_place(m, expr)
            return
        if isinstance(place, StackPlace):
            for el in place.elems:
                self._emit_place(el, expr)
            return
        raise error("emit() needs headers", getattr(expr, "span", None))

    # The fused function deparses into one integer, DEPARSED_BITS, DEPARSED_BYTES long, turned into bytes
    # once at the end (instead of a list of to_bytes() results joined).
    deparse_into_int = False

    def _emit_into_int(self, place: HeaderPlace) -> None:
        """Append a valid header's bytes to DEPARSED_BITS: shifted in below what was emitted before."""
        nb = place.layout.fixed_bytes
        bits = place.bits.read()
        if place.layout.varbit is not None:
            # to_bytes() fails, as when emitting through a list, if the value does not fit its length.
            vbytes = self.em.fresh("vbytes")
            self.em.line(f"{vbytes} = {place.vb.read()}.to_bytes({place.vl.read()} >> 3, 'big')")
            self.em.line(f"{DEPARSED_BITS} = ((({DEPARSED_BITS} << {nb * 8}) | {bits}) << (len({vbytes}) << 3)) | "
                         f"{place.vb.read()}; {DEPARSED_BYTES} += {nb} + len({vbytes})")
        elif not self._emitted_before and not self.loops:
            # Nothing can have been emitted before the first emit of a deparser outside loops.
            self.em.line(f"{DEPARSED_BITS} = {bits}; {DEPARSED_BYTES} = {nb}")
        else:
            self.em.line(f"{DEPARSED_BITS} = ({DEPARSED_BITS} << {nb * 8}) | {bits}; {DEPARSED_BYTES} += {nb}")
        self._emitted_before = True

    _emitted_before = False


def _is_packet_in(callee, *names: str) -> bool:
    """Whether a call's callee is one of these methods of packet_in."""
    owner = getattr(callee, "owner", None)
    return getattr(owner, "name", None) == "packet_in" and getattr(callee, "name", None) in names


def _moves_offset(stmt) -> bool:
    """Whether a statement may move the parser's offset (an extract or advance anywhere in it, or an
    applied sub-parser)."""
    for n in stmt.walk():
        callee = getattr(n, "callee", None) if isinstance(n, A.Call) else None
        if callee is not None and (_is_packet_in(callee, "extract", "advance") or callee.kind == "block_apply"):
            return True
    return False


def _is_union(t) -> bool:
    t = strip_newtype(t) if t is not None else None
    return isinstance(t, StructLikeType) and t.is_union
