"""Compile a checked program into a Python module: the pipeline of one architecture.

The module defines the per-packet state class and two factories, make_fast
and make_traced, identical except that the second records trace events. A
device calls a factory once; the factory binds the device's own tables and
externs as closure variables and returns the stage functions (parse,
verify, ingress, egress, compute, deparse for v1model). So one compiled
program serves any number of devices.

Set DATAPLANE_DUMP=DIR to write the generated module to DIR/<program>.py;
it is then compiled from that file, so tracebacks and debuggers show it.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, error
from ..frontend import ast as A
from ..frontend.check import PackageInstance
from ..frontend.program import CheckedProgram
from ..frontend.types import (BlockType, ExternType, StructLikeType, TypeVar, strip_newtype)
from ..runtime.tables import ActionSpec, KeySpec, MatchValue
from .calls import CallsMixin
from .codegen import BlockCompiler, Binding, Env
from .emitter import Emitter
from .layout import LayoutError, PlaceBuilder, StructPlace, header_layout, leaves, scalar_width
from .parsers import ParsersMixin

# The roles of V1Switch's parameters, in order.
V1MODEL_ROLES = ("p", "vr", "ig", "eg", "ck", "dep")
V1MODEL_STAGES = {"p": "parse", "vr": "verify", "ig": "ingress", "eg": "egress", "ck": "compute", "dep": "deparse"}
HIDDEN_SLOTS = {"_clone_session": "0", "_clone_fl": "0", "_resubmit_fl": "0", "_recirc_fl": "0",
                "_truncate": "0", "_payload": "b''", "_assert_failed": "None",
                # Set with any of the above (but truncate): the packet leaves the fused fast path.
                "_special": "False"}


@dataclass
class TableInfo:
    name: str                 # control-plane name, e.g. MyIngress.ipv4_lpm
    pyname: str
    decl: A.TableDeclaration
    keys: list[KeySpec]
    actions: list[ActionSpec]
    default: tuple
    default_is_const: bool
    size: int
    entries: list             # [(match values, action name, args, priority)]
    entries_are_const: bool
    direct_counter: str | None = None
    direct_meter: str | None = None

    def action_id(self, name: str) -> int:
        for a in self.actions:
            if a.short_name == name:
                return a.aid
        raise KeyError(name)


@dataclass
class ExternInfo:
    name: str                 # control-plane name, e.g. MyIngress.bloom_filter_1
    pyname: str
    kind: str                 # register, counter, meter, direct_counter, direct_meter, value_set, ...
    params: dict = field(default_factory=dict)


class FullBlockCompiler(CallsMixin, ParsersMixin, BlockCompiler):
    """A BlockCompiler with call, parser and deparser lowering."""

    def __init__(self, prog: "ProgramCompiler", em: Emitter, traced: bool, block_name: str):
        super().__init__(prog, em, traced, block_name)
        self.root_env = Env()
        self.env = Env(self.root_env)
        self.control_envs: dict[int, Env] = {}

    def bind_instance(self, inst: A.Instantiation, env: Env, path: str) -> None:
        t = getattr(inst, "instance_type", None)
        full = f"{path}.{inst.name}"
        if isinstance(t, ExternType):
            info = self.prog.extern_info(full, inst, t)
            env.bind(inst.symbol, Binding("extern", info.pyname, inst, info))
        elif isinstance(t, BlockType):
            env.bind(inst.symbol, Binding("block", None, t.decl, full))
        else:
            raise self.unsupported("this instance", inst)

    def setup_control_locals(self, decl: A.ControlDeclaration, env: Env, path: str) -> None:
        """Bind a control's constructor parameters and locals (instances, constants, variables)."""
        self.control_envs[id(decl)] = env
        saved = self.env
        self.env = env
        try:
            for local in decl.locals:
                if isinstance(local, A.Instantiation):
                    self.bind_instance(local, env, path)
                elif isinstance(local, A.VariableDeclaration):
                    self._s_VariableDeclaration(local)
                elif isinstance(local, A.ConstantDeclaration):
                    self._s_ConstantDeclaration(local)
        finally:
            self.env = saved


class ProgramCompiler:
    def __init__(self, checked: CheckedProgram):
        self.checked = checked
        self.tables: dict[tuple, TableInfo] = {}
        self.externs: dict[str, ExternInfo] = {}
        self.layout_consts: dict[int, str] = {}
        self.layouts: dict[str, object] = {}
        self.warnings: list[Diagnostic] = []
        self.error_names = list(checked.checker.error_members)
        self.register_cell_lists: set[str] = set()

    # ------------------------------------------------------------------ registries

    def error_code(self, name: str) -> int:
        return self.error_names.index(name)

    def action_name(self, path: str, decl: A.ActionDeclaration) -> str:
        ann = A.find_annotation(decl.annotations, "name")
        local = ann.body.strip().strip('"') if ann is not None and ann.body else decl.name
        if local.startswith("."):
            return local[1:]
        owner = getattr(getattr(decl, "symbol", None), "owner", None)
        if not isinstance(owner, A.ControlDeclaration):
            return local      # a top-level action such as NoAction
        return f"{path}.{local}"

    def table_info(self, path: str, decl: A.TableDeclaration) -> TableInfo:
        key = (path, id(decl))
        info = self.tables.get(key)
        if info is not None:
            return info
        ann = A.find_annotation(decl.annotations, "name")
        local = ann.body.strip().strip('"') if ann is not None and ann.body else decl.name
        name = local[1:] if local.startswith(".") else f"{path}.{local}"
        keys = [KeySpec(k.name, k.match_kind, k.width) for k in decl.keys]
        actions = []
        for i, ref in enumerate(decl.action_refs):
            params = [(p.name, scalar_width(p.type)) for p in ref.decl.param_infos if not p.direction]
            actions.append(ActionSpec(self.action_name(path, ref.decl), ref.name, params, i,
                                      default_only=A.find_annotation(ref.annotations, "defaultonly") is not None,
                                      table_only=A.find_annotation(ref.annotations, "tableonly") is not None))
        default = (-1, ())
        ref = decl.default
        if ref is None:
            for a in actions:
                if a.short_name == "NoAction":
                    default = (a.aid, ())
        else:
            aid = next(a.aid for a in actions if a.short_name == ref.name)
            data = tuple(arg.const for p, arg in zip(ref.decl.param_infos, ref.bound) if not p.direction)
            default = (aid, data)
        entries = []
        for entry in decl.const_entries or []:
            match = [self._match_value(el, k) for el, k in zip(entry.elements, keys)]
            aref = entry.action
            data = tuple(arg.const for p, arg in zip(aref.decl.param_infos, aref.bound) if not p.direction)
            entries.append((match, aref.name, data, getattr(entry, "priority_value", None)))
        dc = f"{path}.{decl.direct_counter}" if isinstance(decl.direct_counter, str) else None
        dm = f"{path}.{decl.direct_meter}" if isinstance(decl.direct_meter, str) else None
        info = TableInfo(name, f"T{len(self.tables)}", decl, keys, actions, default, decl.default_is_const,
                         decl.size or 1024, entries, getattr(decl, "entries_are_const", True), dc, dm)
        self.tables[key] = info
        return info

    @staticmethod
    def _match_value(el: A.Expression, k: KeySpec) -> MatchValue:
        full = (1 << k.width) - 1
        if isinstance(el, (A.DontCare, A.DefaultKeyset)):
            if k.match_kind == "lpm":
                return MatchValue(0, prefix_len=0)
            if k.match_kind == "range":
                return MatchValue(lo=0, hi=full)
            return MatchValue(0, mask=0)
        if isinstance(el, A.MaskKeyset):
            v, m = el.value.const, el.mask.const
            if k.match_kind == "lpm":
                plen = bin(m).count("1")
                return MatchValue(v & m, prefix_len=plen)
            return MatchValue(v & m, mask=m)
        if isinstance(el, A.RangeKeyset):
            return MatchValue(lo=el.lo.const, hi=el.hi.const)
        v = el.const
        if isinstance(v, bool):
            v = int(v)
        if k.match_kind == "range":
            return MatchValue(lo=v, hi=v)
        if k.match_kind == "lpm":
            return MatchValue(v, prefix_len=k.width)
        return MatchValue(v, mask=None)

    def extern_info(self, full: str, inst: A.Instantiation, t: ExternType) -> ExternInfo:
        info = self.externs.get(full)
        if info is not None:
            return info
        args = [a.const if a is not None else None for a in (getattr(t, "constructor_args", None) or [])]
        params: dict = {}
        kind = t.name
        if kind == "register":
            params = {"size": args[0], "width": scalar_width(t.type_args[0])}
        elif kind in ("counter", "meter"):
            enum_t = strip_newtype(inst.instance_type.constructor_args[1].type)
            params = {"size": args[0], "type": enum_t.members[args[1]]}
        elif kind in ("direct_counter", "direct_meter"):
            enum_t = strip_newtype(inst.instance_type.constructor_args[0].type)
            params = {"type": enum_t.members[args[0]]}
        elif kind in ("Checksum16",):
            params = {}
        else:
            raise error(f"extern '{kind}' is not supported", inst.span)
        info = ExternInfo(full, f"X{len(self.externs)}", kind, params)
        self.externs[full] = info
        return info

    def value_set_info(self, path: str, decl: A.ValueSetDeclaration) -> ExternInfo:
        full = f"{path}.{decl.name}"
        info = self.externs.get(full)
        if info is None:
            width = scalar_width(decl.element_type)
            info = ExternInfo(full, f"X{len(self.externs)}", "value_set",
                              {"size": decl.size_value, "width": width})
            self.externs[full] = info
        return info

    def register_cells(self, info: "ExternInfo") -> str:
        """The name under which generated code sees a register's list of cells."""
        self.register_cell_lists.add(info.pyname)
        return f"{info.pyname}_cells"

    def layout_const(self, t: StructLikeType) -> str:
        name = self.layout_consts.get(id(t))
        if name is None:
            name = f"L{len(self.layout_consts)}"
            self.layout_consts[id(t)] = name
            self.layouts[name] = header_layout(t)
        return name

    # ------------------------------------------------------------------ compile

    def compile(self) -> "CompiledProgram":
        arch = self.checked.architecture
        if arch is None:
            raise error("the program has no architecture instance to compile")
        if arch.name != "V1Switch":
            raise error(f"the architecture '{arch.name}' is not supported (dataplane runs V1Switch programs)",
                        arch.decl.span if arch.decl is not None else None)
        self._warn_explicit_reject()
        try:
            return self._compile_v1model(arch)
        except LayoutError as exc:
            raise error(str(exc), arch.decl.span if arch.decl is not None else None)

    def _warn_explicit_reject(self) -> None:
        for p in self.checked.parsers:
            for st in p.states:
                targets = [st.transition] if isinstance(st.transition, str) else \
                    [c.state for c in st.transition.cases] if st.transition is not None else []
                if "reject" in targets:
                    self.warnings.append(Diagnostic(
                        "warning", "an explicit transition to reject ends parsing like accept on v1model "
                        "(as BMv2 does); use verify(false, error.X) to signal an error", st.transition_span))
                    return

    def _compile_v1model(self, arch: PackageInstance) -> "CompiledProgram":
        globals_ = self.checked.checker.globals
        H = arch.type_bindings.get("H")
        M = arch.type_bindings.get("M")
        std_t = globals_.lookup("standard_metadata_t").type
        state = PlaceBuilder("p")
        roots = {"H": state.build(H, "h", "hdr"), "M": state.build(M, "m", "meta"),
                 "std": state.build(std_t, "s", "standard_metadata")}
        self.state_slots = dict(state.slots)
        self.state_slots.update(HIDDEN_SLOTS)
        self.roots = roots
        em = Emitter()
        self._emit_header(em, state)
        for traced in (False, True):
            self._emit_factory(em, arch, roots, traced)
        source = em.source()
        # Layout constants are discovered while emitting; prepend them.
        field_lists = self._field_lists(M, roots["M"])
        name = re.sub(r"\W", "_", os.path.splitext(os.path.basename(self.checked.path))[0]) or "program"
        program = CompiledProgram(name, self.checked, source, self, field_lists, self.warnings, state.constants)
        program.uses_timestamps, program.uses_queueing = self._metadata_use(std_t)
        return program

    def _metadata_use(self, std_t) -> tuple[bool, bool]:
        """Whether the program reads the timestamps / queueing fields of standard_metadata."""
        timestamps = queueing = False
        for node in self.checked.ast.walk():
            if isinstance(node, A.Member) and getattr(node.expr, "type", None) is std_t:
                if node.member.endswith("_global_timestamp"):
                    timestamps = True
                elif node.member in ("enq_timestamp", "enq_qdepth", "deq_qdepth", "deq_timedelta"):
                    queueing = True
        return timestamps, queueing

    def _emit_header(self, em: Emitter, state: PlaceBuilder) -> None:
        em.line(f"# Generated by dataplane from {self.checked.path}; do not edit.")
        em.line("from dataplane.runtime.helpers import (ExitControl, ParserStop, shl, sar, add_sat, sub_sat, "
                "add_sat_signed, sub_sat_signed, div, mod, hash_value, checksum, format_log)")
        em.line("from dataplane.runtime.trace import (Extract, Select, ParserError, TableApply, ActionRun, "
                "ExternCall, Log, Emit, Exit)")
        em.line("from dataplane.runtime.trace import ParserState as ParserStateEv")
        em.line("from dataplane.runtime.hashing import crc16, crc32")
        em.line("")
        for key, names in state.constants.items():
            em.line(f"{key} = {names!r}")
        em.line("")
        with em.indent("class State:"):
            em.line('"""The per-packet state: flattened headers (h_), metadata (m_), standard metadata (s_)."""')
            for slot, default in self.state_slots.items():
                em.line(f"{slot} = {default}")
            em.line("")
            with em.indent("def copy(self):"):
                em.line("c = State.__new__(State)")
                em.line("c.__dict__.update(self.__dict__)")
                em.line("return c")
        em.line("")

    def _emit_factory(self, em: Emitter, arch: PackageInstance, roots: dict, traced: bool) -> None:
        fname = "make_traced" if traced else "make_fast"
        with em.indent(f"def {fname}(dev, tr=None):"):
            mark = em.mark()
            stage_lines: list[str] = []
            params = arch.package.params
            for param in params:
                block_t = arch.blocks.get(param.name)
                if block_t is None:
                    continue
                decl = block_t.decl
                role = V1MODEL_ROLES[params.index(param)]
                stage = V1MODEL_STAGES[role]
                bc = FullBlockCompiler(self, em, traced, decl.name)
                self._bind_block_params(bc, decl, param.type)
                sig = "(p, data)" if role == "p" else "(p)"
                with em.indent(f"def {stage}{sig}:"):
                    if role == "p":
                        bc.compile_parser(decl, bc.env)
                    else:
                        if role == "dep":
                            em.line("out = []")
                        _emit_control_body(bc, em, decl)
                        if role == "dep":
                            em.line("return out")
                stage_lines.append(stage)
            if not traced:
                self._emit_fused(em, arch)
                stage_lines.append("fast")
            # Bind the device's tables and externs (discovered while compiling) at the top of the factory.
            binds = []
            for info in self.tables.values():
                binds.append(f"{info.pyname} = dev.tables[{info.name!r}]")
            for info in self.externs.values():
                binds.append(f"{info.pyname} = dev.externs[{info.name!r}]")
                if info.pyname in self.register_cell_lists:
                    binds.append(f"{info.pyname}_cells = {info.pyname}.cells")
            for name in self.layouts:
                binds.append(f"{name} = dev.layouts[{name!r}]")
            binds.append("ERROR_NAMES = dev.error_names")
            if not traced:
                binds.append("AFTER_INGRESS = dev.runner.continue_after_ingress")
                binds.append("AFTER_EGRESS = dev.runner.continue_after_egress")
                binds.append("DROP_MARK = dev.runner.DROPPED_AT_INGRESS")
                binds.append("DROP_EGRESS = dev.runner.DROPPED_AT_EGRESS")
                binds.append("NO_DROPS = ()")
                binds.append("TIMESTAMPS = dev.runner.uses_timestamps")
                binds.append("QUEUEING = dev.runner.uses_queueing")
            em.lines[mark:mark] = ["    " * em.level + b for b in binds]
            em.line("return {" + ", ".join(f"{s!r}: {s}" for s in stage_lines) + "}")
        em.line("")

    def _emit_fused(self, em: Emitter, arch: PackageInstance) -> None:
        """`fast(port, data)`: the whole v1model pipeline of one packet in one function.

        It covers a packet that is forwarded or dropped; as soon as the packet is
        cloned, resubmitted, multicast, recirculated or fails an assertion, it
        hands the state to the general machinery in dataplane.arch.v1model."""
        params = arch.package.params
        blocks = {V1MODEL_ROLES[i]: arch.blocks[p.name].decl for i, p in enumerate(params)}
        declared = {V1MODEL_ROLES[i]: p.type for i, p in enumerate(params)}
        uses = set(self.state_slots)
        with em.indent("def fast(port, data):"):
            em.line("p = State()")
            em.line("p.s_ingress_port = port")
            em.line("p.s_packet_length = len(data)")
            em.line("if TIMESTAMPS: p.s_ingress_global_timestamp = int(dev.now_us) & 0xffffffffffff")

            def stage(role: str) -> None:
                decl = blocks[role]
                bc = FullBlockCompiler(self, em, False, decl.name)
                self._bind_block_params(bc, decl, declared[role])
                if role == "p":
                    bc.compile_parser(decl, bc.env, inline=True)
                    em.line("p._payload = data[off:]")
                    return
                if role == "dep":
                    em.line("out = []")
                _emit_control_body(bc, em, decl)

            stage("p")
            stage("vr")
            stage("ig")
            mcast = " or p.s_mcast_grp" if "s_mcast_grp" in uses else ""
            with em.indent(f"if p._special{mcast}:"):
                em.line("return AFTER_INGRESS(p, port, data)")
            em.line("spec = p.s_egress_spec")
            em.line("if spec == 511: return DROP_MARK")
            em.line("p.s_egress_port = spec")
            em.line("p.s_egress_spec = 0")
            em.line("if TIMESTAMPS: p.s_egress_global_timestamp = int(dev.now_us) & 0xffffffffffff")
            with em.indent("if QUEUEING:"):
                em.line("p.s_enq_timestamp = int(dev.now_us) & 0xffffffff")
                em.line("p.s_enq_qdepth = p.s_deq_qdepth = dev.queue_depth(spec) & 0x7ffff")
            stage("eg")
            with em.indent("if p._special:"):
                em.line("return AFTER_EGRESS(p, spec)")
            em.line("if p.s_egress_spec == 511: return DROP_EGRESS")
            stage("ck")
            stage("dep")
            em.line("pkt = b''.join(out) + p._payload")
            with em.indent("if p._truncate:"):
                em.line("pkt = pkt[:p._truncate]")
                em.line("if not pkt: return dev.runner.DROPPED_TRUNCATED")
            em.line("return [(spec, pkt)], NO_DROPS")

    def _bind_block_params(self, bc: FullBlockCompiler, decl, declared: BlockType) -> None:
        """Bind a top-level block's parameters to the state roots, by the architecture's declared types."""
        for p, dp in zip(decl.params, declared.params):
            t = dp.type
            if isinstance(t, TypeVar):
                bc.env.bind(p.symbol, self.roots[t.name])
            elif isinstance(t, ExternType) and t.name in ("packet_in", "packet_out"):
                bc.env.bind(p.symbol, Binding(t.name))
            elif isinstance(t, StructLikeType) and t.name == "standard_metadata_t":
                bc.env.bind(p.symbol, self.roots["std"])
            else:
                raise error(f"cannot bind parameter '{p.name}' of type {t}", p.span)
        for local in getattr(decl, "locals", []) if isinstance(decl, A.ParserDeclaration) else []:
            pass

    def _field_lists(self, M, m_place) -> dict[int, tuple[str, ...]]:
        """@field_list(N, ...) annotations on metadata fields: list index -> attribute names to preserve."""
        lists: dict[int, list[str]] = {}

        def walk(t, place):
            st = strip_newtype(t)
            if not isinstance(st, StructLikeType) or not isinstance(place, StructPlace):
                return
            for f in st.decl.fields:
                sub = place.fields.get(f.name)
                ann = A.find_annotation(f.annotations, "field_list")
                if ann is not None:
                    from ..frontend.build_ast import parse_annotation_args
                    for arg in parse_annotation_args(ann):
                        idx = self._annotation_int(arg.value)
                        if idx is not None:
                            lists.setdefault(idx, []).extend(l.name for l in leaves(sub))
                walk(st.fields[f.name], sub)

        walk(M, m_place)
        return {k: tuple(v) for k, v in lists.items()}

    def _annotation_int(self, e):
        if isinstance(e, A.IntLiteral):
            return e.value
        if isinstance(e, A.Name):
            sym = self.checked.checker.globals.lookup(e.name)
            if sym is not None and sym.kind == "const" and isinstance(sym.value, int):
                return sym.value
        return None


class CompiledProgram:
    """The result of compiling: the generated module plus what devices need to instantiate it."""

    def __init__(self, name: str, checked: CheckedProgram, source: str, compiler: ProgramCompiler,
                 field_lists: dict, warnings: list, constants: dict):
        self.name = name
        self.checked = checked
        self.source = source
        self.tables = list(compiler.tables.values())
        self.externs = list(compiler.externs.values())
        self.layouts = dict(compiler.layouts)
        self.field_lists = field_lists
        self.warnings = warnings
        self.error_names = {i: n for i, n in enumerate(compiler.error_names)}
        self.state_slots = compiler.state_slots
        filename = f"<dataplane:{name}>"
        dump = os.environ.get("DATAPLANE_DUMP")
        if dump:
            os.makedirs(dump, exist_ok=True)
            filename = os.path.join(dump, f"{name}.py")
            with open(filename, "w") as f:
                f.write(source)
        namespace: dict = {"__name__": f"dataplane_generated_{name}"}
        exec(compile(source, filename, "exec"), namespace)
        self.namespace = namespace
        self.State = namespace["State"]
        self.make_fast = namespace["make_fast"]
        self.make_traced = namespace["make_traced"]

    def table(self, name: str) -> TableInfo | None:
        for t in self.tables:
            if t.name == name:
                return t
        return None


def compile_program(checked: CheckedProgram) -> CompiledProgram:
    return ProgramCompiler(checked).compile()


def _emit_control_body(bc, em, decl) -> None:
    """A control's locals and apply block; `exit` (ExitControl) ends the block, not the pipeline."""
    bc.setup_control_locals(decl, bc.env, decl.name)
    with em.indent("try:"):
        bc.block(decl.body)
    with em.indent("except ExitControl:"):
        em.line("pass")
