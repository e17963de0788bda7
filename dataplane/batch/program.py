"""Compile a checked v1model program into its columnar form, or say which construct keeps it out.

The columnar form runs a whole pcap at once: every header field is a numpy
column (one row per packet), every statement runs on all rows under a mask
(the rows for which it is reached), an `if` splits the mask, a table applies
to a column of keys. Compiling walks the same checked AST as the scalar
compiler and turns every statement and expression into a small Python
closure over columns. Whatever it meets that it does not handle exactly as
the scalar engine does raises :class:`Unsupported` with the construct and
its source span: then the program does not qualify, and replay uses the
scalar engine (never a different answer).

Qualifying programs have no state passed from one packet to the next and
stay within: a parser that extracts fixed-size headers along an acyclic
graph of states with select on header fields, with its own variables and
constants; controls with assignments (of fields, or of whole headers),
if/else, switch on action_run, table applies (exact, lpm, ternary, range),
action calls (with in, out and inout arguments), exit and return in an
apply block, setValid and setInvalid, mark_to_drop, verify_checksum and
update_checksum with csum16 over one header's fields; a deparser that
emits headers; unsigned values of at most 64 bits, and of up to 128 bits
(IPv6 addresses) where they are copied, compared for equality, sliced,
cast or looked up (exact fields, or one lpm field); bool, enums and errors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..frontend import ast as A
from ..frontend.check.parsers import state_successors
from ..frontend.types import BitsType, BoolType, EnumType, ErrorType, StructLikeType, strip_newtype
from ..compiler.carried_state import NamedConstruct
from ..compiler.layout import LayoutError, header_layout

U64 = np.uint64
# Values of 65 to WIDE bits (IPv6 addresses) are n x 2 columns of uint64: the bits above 64, the low 64.
WIDE = 128

# standard_metadata fields the columnar form keeps; any other one keeps a program out.
STD_READ = {"ingress_port", "egress_spec", "egress_port", "packet_length", "checksum_error", "parser_error"}
# Enum members (their index, or their value in a serializable enum) and errors (their codes) are
# numbers in the scalar engine too; a column of CODE_WIDTH bits holds them.
CODE_WIDTH = 32
STD_WRITE = {"egress_spec"}

# The roles of V1Switch's parameters, in order, and the block parameters that are state roots.
ROLES = ("parse", "verify", "ingress", "egress", "compute", "deparse")


class Unsupported(NamedConstruct, Exception):
    """A construct the batch engine does not run; `what` names it for a sentence."""

    def __init__(self, what: str, node=None):
        super().__init__(what)
        self.what = what
        self.span = getattr(node, "span", None)


def _mask(width: int) -> int:
    return (1 << width) - 1


@dataclass
class HeaderInfo:
    """A header instance of the headers struct: where its fields live in the wire layout."""
    name: str                     # path inside the headers struct, e.g. "ipv4" or "outer.ipv4"
    size: int                     # bytes
    # (field name, first bit from the header's start, width)
    fields: list[tuple[str, int, int]] = field(default_factory=list)

    def valid_key(self):
        return ("v", self.name)

    def extracted_key(self):
        """Rows where the parser extracted it (valid_key: where it is valid now, after setValid and
        setInvalid)."""
        return ("x", self.name)

    def field_key(self, f: str):
        return ("h", self.name, f)


@dataclass
class Place:
    """Storage of one scalar: its column key, width (0 for bool) and the header whose validity guards
    writes (None for metadata and locals)."""
    key: tuple
    width: int                    # 0: a bool column
    header: HeaderInfo | None = None


@dataclass
class TableUse:
    name: str                     # control-plane name
    decl: A.TableDeclaration
    keys: list                    # [(value fn, width)] in declaration order
    actions: list                 # per action id: (ActionDeclaration, [param Place], body fn)


class Ctx:
    """The columns of one batch of packets while the pipeline runs."""

    def __init__(self, n: int):
        self.n = n
        self.cols: dict = {}
        self.tables: dict = {}        # table name -> its lookup structure (batch/tables.py)
        # Header fields are decoded from the packet bytes when first used (decode(key) or None), and a
        # header's current wire bytes are header_bytes(header); both are set by the engine.
        self.decode = None
        self.header_bytes = None
        self.versions: dict = {}       # header name -> how many writes its fields have had
        self.stopped = None            # rows that left the control block (exit), while it runs

    def col(self, key, width: int):
        c = self.cols.get(key)
        if c is None:
            c = self.decode(key) if key[0] == "h" and self.decode is not None else None
            if c is None:
                c = np.zeros(self.n, dtype=bool) if width == 0 else \
                    np.zeros((self.n, 2) if width > 64 else self.n, dtype=U64)
            self.cols[key] = c
        return c


def _width_of(t, node) -> int:
    """The column width of a P4 type: bits of at most 64 (0 for bool)."""
    st = strip_newtype(t)
    if isinstance(st, BoolType):
        return 0
    if isinstance(st, EnumType):
        return _width_of(st.underlying, node) if st.underlying is not None else CODE_WIDTH
    if isinstance(st, ErrorType):
        return CODE_WIDTH
    if isinstance(st, BitsType):
        if st.signed:
            raise Unsupported("signed integers (int<W>)", node)
        if st.width > WIDE:
            raise Unsupported(f"values wider than {WIDE} bits (bit<{st.width}>)", node)
        return st.width
    raise Unsupported(f"values of type {st}", node)


class BatchCompiler:
    """Builds the closures of a columnar pipeline from a CompiledProgram (its checked AST and tables)."""

    def __init__(self, compiled):
        self.compiled = compiled
        self.checked = compiled.checked
        self.error_codes = {name: code for code, name in compiled.error_names.items()}
        self.roots: dict = {}          # symbol -> "H" | "M" | "std" | "packet_in" | "packet_out"
        self.env: dict = {}            # symbol -> Place | ("const", value, width)
        self.headers: dict[str, HeaderInfo] = {}
        self.tables: dict[int, TableUse] = {}
        self.written: set = set()      # the column keys of header fields some statement writes
        self.set_valid: set = set()    # the headers some statement makes valid or invalid
        self._in_action = 0            # compiling an action's body (return ends the action, not the block)

    # ------------------------------------------------------------------ the program

    def compile(self) -> "BatchProgram":
        arch = self.checked.architecture
        if arch is None or arch.name != "V1Switch":
            raise Unsupported("an architecture other than V1Switch")
        params = arch.package.params
        blocks = {}
        for role, p in zip(ROLES, params):
            bt = arch.blocks.get(p.name)
            if bt is None:
                raise Unsupported(f"a V1Switch without its {role} block", arch.decl)
            if arch.block_args.get(p.name) or getattr(bt.decl, "constructor_params", None):
                raise Unsupported("blocks with constructor parameters", bt.decl)
            blocks[role] = bt.decl
        self.H = arch.type_bindings.get("H")
        self.M = arch.type_bindings.get("M")
        self._collect_headers(strip_newtype(self.H), "", arch.decl)
        self._check_metadata(strip_newtype(self.M), arch.decl)
        for role, decl in blocks.items():
            self._bind_roots(role, decl)
        parser = self._compile_parser(blocks["parse"])
        stages = {}
        for role in ("verify", "ingress", "egress", "compute"):
            stages[role] = self._compile_control(blocks[role])
        emits = self._compile_deparser(blocks["deparse"])
        return BatchProgram(self.compiled, self.headers, parser, stages, emits, self.tables, self.error_codes,
                            self.max_parse_bytes, frozenset(self.written), self._written_spans(), frozenset(self.set_valid))

    def _written_spans(self) -> dict:
        """header name -> its written byte runs: [(first byte, end byte, [(field, first bit, width)])],
        the bytes covered by fields some statement writes, adjacent fields in one run."""
        spans = {}
        for h in self.headers.values():
            runs = []
            for f, first, width in sorted((x for x in h.fields if h.field_key(x[0]) in self.written),
                                          key=lambda x: x[1]):
                b0, b1 = first // 8, (first + width + 7) // 8
                if runs and b0 <= runs[-1][1]:
                    runs[-1] = (runs[-1][0], max(runs[-1][1], b1), runs[-1][2] + [(f, first, width)])
                else:
                    runs.append((b0, b1, [(f, first, width)]))
            if runs:
                spans[h.name] = runs
        return spans

    def _collect_headers(self, st, prefix: str, where) -> None:
        if not isinstance(st, StructLikeType) or not st.is_struct:
            raise Unsupported("a headers type that is not a struct", where)
        for name, ft in st.fields.items():
            t = strip_newtype(ft)
            path = f"{prefix}{name}"
            if isinstance(t, StructLikeType) and t.kind == "header":
                try:
                    layout = header_layout(t)
                except LayoutError as exc:
                    raise Unsupported(str(exc), where) from None
                if layout.varbit is not None:
                    raise Unsupported(f"varbit fields (header {t.name})", getattr(t, "decl", where))
                if layout.fixed_width % 8:
                    raise Unsupported(f"a header that is not whole bytes ({t.name})", getattr(t, "decl", where))
                info = HeaderInfo(path, layout.fixed_width // 8)
                for fname in layout.order or list(layout.fields):
                    fl = layout.fields[fname]
                    if fl.members is not None or fl.elements is not None:
                        raise Unsupported(f"struct or array fields in headers ({t.name}.{fname})",
                                          getattr(t, "decl", where))
                    _width_of(fl.type, getattr(t, "decl", where))
                    first = layout.fixed_width - fl.offset - fl.width
                    if fl.width > 64 and (first % 8 or fl.width % 8):
                        raise Unsupported(f"a header field wider than 64 bits that is not whole bytes "
                                          f"({t.name}.{fname})", getattr(t, "decl", where))
                    if fl.width <= 64 and (first + fl.width - 1) // 8 - first // 8 >= 8:
                        raise Unsupported(f"a header field spread over nine bytes ({t.name}.{fname})",
                                          getattr(t, "decl", where))
                    info.fields.append((fname, first, fl.width))
                self.headers[path] = info
            elif isinstance(t, StructLikeType) and t.is_struct:
                self._collect_headers(t, path + ".", where)
            else:
                raise Unsupported(f"{t} in the headers struct (header stacks, unions)", where)

    def _check_metadata(self, st, where) -> None:
        if not isinstance(st, StructLikeType) or not st.is_struct:
            raise Unsupported("a metadata type that is not a struct", where)
        for name, ft in st.fields.items():
            t = strip_newtype(ft)
            if isinstance(t, StructLikeType) and t.is_struct:
                self._check_metadata(t, where)
            else:
                _width_of(t, getattr(st, "decl", where))

    def _bind_roots(self, role: str, decl) -> None:
        """Each block parameter names one root of the packet state, told apart by its type."""
        H, M = strip_newtype(self.H), strip_newtype(self.M)
        for p in decl.params:
            sym = p.symbol
            t = strip_newtype(sym.type if sym.type is not None else p.type)
            name = getattr(t, "name", None)
            if t is H or t == H:
                self.roots[sym] = "H"
            elif t is M or t == M:
                self.roots[sym] = "M"
            elif name in ("standard_metadata_t", "packet_in", "packet_out"):
                self.roots[sym] = "std" if name == "standard_metadata_t" else name
            else:
                raise Unsupported(f"a {role} parameter of type {t}", p)

    # ------------------------------------------------------------------ places

    def place(self, e) -> Place:
        """The storage an l-value (or a readable path) names."""
        node, path = A.member_chain(e)
        if isinstance(node, A.Call):
            raise Unsupported(f"the call {getattr(getattr(node, 'callee', None), 'name', '')}() here", node)
        if not isinstance(node, A.Name):
            raise Unsupported(f"this expression ({type(node).__name__})", e)
        sym = getattr(node, "ref", None)
        root = self.roots.get(sym)
        if root is None:
            b = self.env.get(sym)
            if isinstance(b, Place) and not path:
                return b
            raise Unsupported(f"'{node.name}' here", e)
        if root == "std":
            if len(path) != 1:
                raise Unsupported("this use of standard_metadata", e)
            return Place(("s", path[0]), _width_of(e.type, e))
        if root == "M":
            if not path:
                raise Unsupported("copying the whole metadata struct", e)
            return Place(("m",) + tuple(path), _width_of(e.type, e))
        if root == "H":
            for i in range(len(path)):
                h = self.headers.get(".".join(path[:i + 1]))
                if h is not None:
                    rest = path[i + 1:]
                    if len(rest) != 1:
                        raise Unsupported("using a whole header as a value", e)
                    return Place(h.field_key(rest[0]), _width_of(e.type, e), h)
            raise Unsupported("using a whole header or struct of headers as a value", e)
        raise Unsupported(f"'{node.name}' here", e)

    def header_of(self, e) -> HeaderInfo:
        node, path = A.member_chain(e)
        if isinstance(node, A.Name) and self.roots.get(getattr(node, "ref", None)) == "H":
            h = self.headers.get(".".join(path))
            if h is not None:
                return h
        raise Unsupported("this header expression", e)

    def headers_in(self, e) -> list[HeaderInfo]:
        """The headers a deparser's emit argument stands for, in order (a header or a struct of them)."""
        node, path = A.member_chain(e)
        if not (isinstance(node, A.Name) and self.roots.get(getattr(node, "ref", None)) == "H"):
            raise Unsupported("emitting this expression", e)
        prefix = ".".join(path)
        if prefix in self.headers:
            return [self.headers[prefix]]
        return [h for name, h in self.headers.items() if not prefix or name.startswith(prefix + ".")]

    # ------------------------------------------------------------------ expressions

    def expr(self, e):
        """(fn(ctx, mask) -> value, width); width 0 is bool. Values are numpy columns or Python constants."""
        t = getattr(e, "type", None)
        c = getattr(e, "const", None)
        if c is not None and not isinstance(c, (tuple, dict, list)):
            w = _width_of(t, e)
            v = bool(c) if w == 0 else int(c) & _mask(w)
            return (lambda ctx, m, v=v: v), w
        handler = getattr(self, "_e_" + type(e).__name__, None)
        if handler is None:
            raise Unsupported(f"this expression ({type(e).__name__})", e)
        return handler(e)

    def _e_BoolLiteral(self, e):
        v = bool(e.value)
        return (lambda ctx, m: v), 0

    def _e_IntLiteral(self, e):
        w = _width_of(e.type, e)
        v = e.value & _mask(w)
        return (lambda ctx, m: v), w

    def _e_Name(self, e):
        sym = getattr(e, "ref", None)
        b = self.env.get(sym)
        if isinstance(b, Place):
            return self._read(b), b.width
        if sym is not None and sym.kind == "const" and isinstance(sym.value, (int, bool)):
            w = _width_of(e.type, e)
            v = bool(sym.value) if w == 0 else int(sym.value) & _mask(w)
            return (lambda ctx, m: v), w
        raise Unsupported(f"the name '{e.name}' here", e)

    def _read(self, p: Place):
        key, w = p.key, p.width
        return lambda ctx, m: ctx.col(key, w)

    def _e_Member(self, e):
        if isinstance(e.expr, A.Call) and e.member in ("hit", "miss"):
            fn = self.table_apply(e.expr)
            if e.member == "hit":
                return (lambda ctx, m: fn(ctx, m)[0]), 0
            return (lambda ctx, m: ~fn(ctx, m)[0]), 0
        p = self.place(e)
        if p.key[0] == "s" and p.key[1] not in STD_READ:
            raise Unsupported(f"reading standard_metadata.{p.key[1]}", e)
        return self._read(p), p.width

    def _e_Call(self, e):
        c = getattr(e, "callee", None)
        if c is not None and c.kind == "header_method" and c.name == "isValid":
            key = self.header_of(c.receiver).valid_key()
            return (lambda ctx, m: ctx.col(key, 0)), 0
        raise Unsupported(f"calling '{getattr(c, 'name', '?')}' in an expression", e)

    def _e_Unary(self, e):
        fn, w = self.expr(e.expr)
        _narrow(w, e, f"the operator {e.op}")
        if e.op == "!":
            return (lambda ctx, m: np.logical_not(fn(ctx, m))), 0
        if e.op == "~":
            mk = U64(_mask(w))
            return (lambda ctx, m: ~_u(fn(ctx, m)) & mk), w
        if e.op == "-":
            mk = U64(_mask(w))
            return (lambda ctx, m: (U64(0) - _u(fn(ctx, m))) & mk), w
        if e.op == "+":
            return fn, w
        raise Unsupported(f"the operator {e.op}", e)

    def _e_Binary(self, e):
        op = e.op
        lf, lw = self.expr(e.left)
        if op in ("==", "!=") and lw > 64:
            rf, _ = self.expr(e.right)
            same = op == "=="
            return (lambda ctx, m: _wide_equal(lf(ctx, m), rf(ctx, m), ctx.n) == same), 0
        _narrow(lw, e, f"the operator {op}")
        if op in ("<<", ">>"):
            amount = getattr(e.right, "const", None)
            if not isinstance(amount, int):
                raise Unsupported("a shift by a run-time amount", e)
            w = _width_of(e.type, e)
            mk = U64(_mask(w))
            if amount >= w:
                return (lambda ctx, m: U64(0)), w
            if op == "<<":
                return (lambda ctx, m: (_u(lf(ctx, m)) << U64(amount)) & mk), w
            return (lambda ctx, m: _u(lf(ctx, m)) >> U64(amount)), w
        rf, rw = self.expr(e.right)
        _narrow(rw, e, f"the operator {op}")
        if op in ("&&", "||"):
            if _has_apply(e.right):
                raise Unsupported("a table applied inside a condition with && or ||", e)
            f = np.logical_and if op == "&&" else np.logical_or
            return (lambda ctx, m: f(lf(ctx, m), rf(ctx, m))), 0
        if op in ("==", "!=", "<", "<=", ">", ">="):
            f = {"==": np.equal, "!=": np.not_equal, "<": np.less, "<=": np.less_equal, ">": np.greater,
                 ">=": np.greater_equal}[op]
            if lw == 0:
                return (lambda ctx, m: f(lf(ctx, m), rf(ctx, m))), 0
            return (lambda ctx, m: f(_u(lf(ctx, m)), _u(rf(ctx, m)))), 0
        if op == "++":
            w = lw + rw
            if w > 64 or lw == 0 or rw == 0:
                raise Unsupported("this concatenation", e)
            return (lambda ctx, m: (_u(lf(ctx, m)) << U64(rw)) | _u(rf(ctx, m))), w
        w = _width_of(e.type, e)
        _narrow(w, e, f"the operator {op}")
        mk = U64(_mask(w))
        if op in ("&", "|", "^"):
            f = {"&": np.bitwise_and, "|": np.bitwise_or, "^": np.bitwise_xor}[op]
            if w == 0:
                return (lambda ctx, m: f(lf(ctx, m), rf(ctx, m))), 0
            return (lambda ctx, m: f(_u(lf(ctx, m)), _u(rf(ctx, m)))), w
        if op in ("+", "-", "*"):
            f = {"+": np.add, "-": np.subtract, "*": np.multiply}[op]
            return (lambda ctx, m: f(_u(lf(ctx, m)), _u(rf(ctx, m))) & mk), w
        raise Unsupported(f"the operator {op}", e)

    def _e_Cast(self, e):
        fn, w0 = self.expr(e.expr)
        w = _width_of(e.type, e)
        if w > 64 or w0 > 64:
            if w0 == w:
                return fn, w
            if w > 64 and 0 < w0 <= 64:
                return (lambda ctx, m: _widen(fn(ctx, m), ctx.n)), w
            if 0 < w <= 64 < w0:
                mk = U64(_mask(w))
                return (lambda ctx, m: _wide_cols(fn(ctx, m), ctx.n)[:, 1] & mk), w
            raise Unsupported("this cast", e)
        if w == 0:
            if w0 != 1 and w0 != 0:
                raise Unsupported("this cast to bool", e)
            return (lambda ctx, m: _u(fn(ctx, m)) != U64(0)) if w0 else fn, 0
        if w0 == 0:
            return (lambda ctx, m: _u(np.asarray(fn(ctx, m)).astype(U64))), w
        mk = U64(_mask(w))
        return (lambda ctx, m: _u(fn(ctx, m)) & mk), w

    def _e_Slice(self, e):
        fn, w0 = self.expr(e.expr)
        hi, lo = getattr(e.hi, "const", None), getattr(e.lo, "const", None)
        if not isinstance(hi, int) or not isinstance(lo, int) or w0 == 0:
            raise Unsupported("this slice", e)
        mk = U64(_mask(hi - lo + 1))
        if w0 > 64:
            return (lambda ctx, m: _wide_slice(_wide_cols(fn(ctx, m), ctx.n), hi, lo) & mk), hi - lo + 1
        return (lambda ctx, m: (_u(fn(ctx, m)) >> U64(lo)) & mk), hi - lo + 1

    def _e_Ternary(self, e):
        cf, _ = self.expr(e.cond)
        tf, w = self.expr(e.then)
        of, _ = self.expr(e.otherwise)
        _narrow(w, e, "?:")
        if _has_apply(e.then) or _has_apply(e.otherwise) or _has_apply(e.cond):
            raise Unsupported("a table applied inside ?:", e)
        return (lambda ctx, m: np.where(cf(ctx, m), tf(ctx, m), of(ctx, m))), w

    # ------------------------------------------------------------------ statements

    def block(self, stmts) -> list:
        return [self.stmt(s) for s in stmts]

    def stmt(self, s):
        handler = getattr(self, "_s_" + type(s).__name__, None)
        if handler is None:
            raise Unsupported(_statement_name(s), s)
        return handler(s)

    def _s_BlockStatement(self, s):
        fns = self.block(s.statements)
        return lambda ctx, m: _run(fns, ctx, m)

    def _s_ExitStatement(self, s):
        """exit (and return in a control's apply block) ends the control block for these rows, as the
        scalar engine's ExitControl does; the statements after it run for the others."""
        return _stop

    def _s_ReturnStatement(self, s):
        if self._in_action or s.value is not None:
            raise Unsupported("a return statement in an action or function", s)
        return _stop

    def _s_EmptyStatement(self, s):
        return lambda ctx, m: None

    def _s_VariableDeclaration(self, s):
        w = _width_of(s.symbol.type if getattr(s, "symbol", None) is not None else s.type, s)
        p = Place(("l", id(s)), w)
        self.env[s.symbol] = p
        init = self.expr(s.init)[0] if s.init is not None else (lambda ctx, m: False if w == 0 else 0)
        return lambda ctx, m: _assign(ctx, p, m, init(ctx, m))

    def _s_ConstantDeclaration(self, s):
        v = getattr(s, "symbol", None)
        if v is None or not isinstance(getattr(v, "value", None), (int, bool)):
            raise Unsupported("this constant", s)
        return lambda ctx, m: None

    def _s_Assignment(self, s):
        if isinstance(s.target, A.Slice):
            return self._slice_assignment(s)
        t = strip_newtype(getattr(s.target, "type", None))
        if isinstance(t, StructLikeType) and t.kind == "header" and s.op == "=":
            return self._header_copy(s)
        p = self.place(s.target)
        if p.key[0] == "s" and p.key[1] not in STD_WRITE:
            raise Unsupported(f"writing standard_metadata.{p.key[1]}", s)
        if s.op != "=":
            raise Unsupported(f"the compound assignment {s.op}", s)
        if _has_apply(s.value):
            raise Unsupported("a table applied inside an assignment", s)
        fn, _ = self.expr(s.value)
        self.written.add(p.key)
        return lambda ctx, m: _assign(ctx, p, m, fn(ctx, m))

    def _header_copy(self, s):
        """hdr.a = hdr.b: the validity and every field, whether b is valid or not (as the scalar engine
        copies a header's flag and bits)."""
        dst, src = self.header_of(s.target), self.header_of(s.value)
        if [(w) for _, _, w in dst.fields] != [(w) for _, _, w in src.fields]:
            raise Unsupported("copying a header of another layout", s)
        self.set_valid.add(dst.name)
        pairs = [(dst.field_key(f), src.field_key(g), w) for (f, _, w), (g, _, _) in zip(dst.fields, src.fields)]
        self.written.update(d for d, _, _ in pairs)

        def run(ctx, m):
            values = [(d, ctx.col(sk, w), w) for d, sk, w in pairs] + \
                [(dst.valid_key(), ctx.col(src.valid_key(), 0), 0)]
            for key, value, w in values:             # read all before writing (hdr.a = hdr.a)
                old = ctx.col(key, w)
                ctx.cols[key] = np.where(m[:, None] if old.ndim == 2 else m, value, old)
            ctx.versions[dst.name] = ctx.versions.get(dst.name, 0) + 1
        return run

    def _slice_assignment(self, s):
        """x[hi:lo] = v: the other bits of x are kept."""
        t = s.target
        hi, lo = getattr(t.hi, "const", None), getattr(t.lo, "const", None)
        if s.op != "=" or not isinstance(hi, int) or not isinstance(lo, int) or isinstance(t.expr, A.Slice):
            raise Unsupported("this slice assignment", s)
        p = self.place(t.expr)
        if p.width == 0 or p.width > 64 or (p.key[0] == "s" and p.key[1] not in STD_WRITE):
            raise Unsupported("this slice assignment", s)
        fn, _ = self.expr(s.value)
        self.written.add(p.key)
        bits = U64(_mask(hi - lo + 1) << lo)
        keep = U64(_mask(p.width) & ~int(bits))
        shift = U64(lo)

        def run(ctx, m):
            old = ctx.col(p.key, p.width)
            _assign(ctx, p, m, (old & keep) | ((_u(fn(ctx, m)) << shift) & bits))
        return run

    def _s_IfStatement(self, s):
        cond, _ = self.expr(s.cond)
        then = self.stmt(s.then)
        other = self.stmt(s.otherwise) if s.otherwise is not None else None

        def run(ctx, m):
            c = cond(ctx, m)
            if not isinstance(c, np.ndarray):
                c = np.full(ctx.n, bool(c))
            if ctx.stopped is not None:           # a table applied in the condition may have exited
                m = m & ~ctx.stopped
            mt = m & c
            if mt.any():
                then(ctx, mt)
            if other is not None:
                mo = m & ~c
                if mo.any():
                    other(ctx, mo)
        return run

    def _s_MethodCallStatement(self, s):
        e = s.call
        c = getattr(e, "callee", None)
        if c is None:
            raise Unsupported("this call", s)
        if c.kind == "table_apply":
            fn = self.table_apply(e)
            return lambda ctx, m: fn(ctx, m) and None
        if c.kind == "action":
            return self.action_call(e, c)
        if c.kind == "extern_function":
            if c.name == "mark_to_drop":
                p = Place(("s", "egress_spec"), 9)
                return lambda ctx, m: _assign(ctx, p, m, 511)
            if c.name in ("verify_checksum", "update_checksum"):
                return self.checksum(e, c)
            raise Unsupported(f"the extern function {c.name}()", s)
        if c.kind == "extern_method" and self.roots.get(getattr(c.receiver, "ref", None)) == "packet_in":
            raise Unsupported(f"packet_in.{c.name}() outside a parser state's extracts", s)
        if c.kind == "header_method" and c.name in ("setValid", "setInvalid"):
            return self._set_validity(c, c.name == "setValid")
        if c.kind == "header_method":
            raise Unsupported(f"{c.name}() on a header", s)
        raise Unsupported(f"calling {c.kind.replace('_', ' ')} '{c.name}'", s)

    def _set_validity(self, c, valid: bool):
        """setValid()/setInvalid(): only the flag changes, as in the scalar engine (a header made valid
        keeps the field values it had: zeros if it was never extracted)."""
        h = self.header_of(c.receiver)
        self.set_valid.add(h.name)
        key = h.valid_key()

        def run(ctx, m):
            ctx.cols[key] = np.where(m, valid, ctx.col(key, 0))
            ctx.versions[h.name] = ctx.versions.get(h.name, 0) + 1
        return run

    def _s_SwitchStatement(self, s):
        """switch on a table's action_run (labels are its actions) or on a value (labels are constants);
        cases without a body fall through to the next one with a body."""
        if isinstance(s.expr, A.Member) and s.expr.member == "action_run" and isinstance(s.expr.expr, A.Call):
            apply = self.table_apply(s.expr.expr)
            use = self.tables[id(s.expr.expr.callee.decl)]
            names = [decl.name for decl, _, _ in use.actions]

            def label_of(case):
                label = case.label.name if isinstance(case.label, A.Name) else None
                if label not in names:
                    raise Unsupported("this switch label", case)
                return names.index(label)

            def value(ctx, m):
                return apply(ctx, m)[1]
        else:
            fn, w = self.expr(s.expr)
            _narrow(w, s, "switch")
            if w == 0:
                raise Unsupported("a switch on a bool", s)

            def label_of(case):
                c = getattr(case.label, "const", None)
                if not isinstance(c, int) or isinstance(c, bool):
                    raise Unsupported("this switch label", case)
                return c & _mask(w)

            def value(ctx, m):
                return np.broadcast_to(_u(fn(ctx, m)), (ctx.n,))
        cases = []
        pending = []
        for case in s.cases:
            pending.append(None if case.label is None or isinstance(case.label, A.DefaultKeyset)
                           else [label_of(case)])
            if case.body is None:
                continue
            body = self.stmt(case.body)
            merged = None if any(p is None for p in pending) else [i for p in pending for i in p]
            cases.append((merged, body))
            pending = []

        def run(ctx, m):
            v = value(ctx, m)
            left = m.copy() if ctx.stopped is None else m & ~ctx.stopped
            for ids, body in cases:
                sel = left if ids is None else left & np.isin(v, ids)
                left = left & ~sel
                if sel.any():
                    body(ctx, sel)
        return run

    # ------------------------------------------------------------------ calls

    def action_call(self, e, c):
        decl = c.decl
        if any(a is None for a in e.bound[:len(c.params)]):
            raise Unsupported("an action call without all its arguments", e)
        body = self.action_body(decl, directions=True)
        return self._bound(decl, list(zip(decl.params, e.bound)), body)

    def _bound(self, decl, pairs, body):
        """Run body with these (parameter, argument) pairs: copied in (out ones start at 0), copied out in
        order after the body, as the scalar engine's `finally` does (also for the packets that left the
        block with exit inside the action). A whole standard_metadata, headers or metadata struct is the
        parameter itself (see action_body)."""
        params = []
        copy_out = []
        for p, a in pairs:
            sym = p.symbol
            if sym in self.roots:
                node, path = A.member_chain(a)
                if path or self.roots.get(getattr(node, "ref", None)) != self.roots[sym]:
                    raise Unsupported("this struct argument", a)
                continue
            place = self.env[sym]
            w = place.width
            if p.direction == "out":
                params.append((place, lambda ctx, m, w=w: False if w == 0 else 0))
            else:
                params.append((place, self.expr(a)[0]))
            if p.direction in ("out", "inout"):
                target = self.place(a)
                if target.key[0] == "s" and target.key[1] not in STD_WRITE:
                    raise Unsupported(f"writing standard_metadata.{target.key[1]}", a)
                self.written.add(target.key)
                copy_out.append((target, place))

        def run(ctx, m):
            for place, fn in params:
                _assign(ctx, place, m, fn(ctx, m))
            body(ctx, m)
            for target, place in copy_out:
                _assign(ctx, target, m, ctx.col(place.key, place.width))
        return run

    def _param_place(self, decl, p, w) -> Place:
        sym = next(q.symbol for q in decl.params if q.name == p.name)
        place = Place(("a", id(decl), p.name), w)
        self.env[sym] = place
        return place

    def action_body(self, decl, directions: bool = False):
        """The body of an action; its parameters may have directions only when called directly."""
        cache = self.__dict__.setdefault("_bodies", {})
        if not directions and any(q.direction not in ("", "in") for q in decl.params):
            raise Unsupported("an action with out or inout parameters in a table", decl)
        if id(decl) not in cache:
            for q in decl.params:
                t = strip_newtype(q.symbol.type if q.symbol.type is not None else q.type)
                root = self._root_of_type(t)
                if root is not None and q.direction == "inout":
                    # The struct itself (its fields are the same columns): the same as copying it in and
                    # out as long as the body reaches the struct through this parameter only.
                    for node in decl.body.walk():
                        ref = getattr(node, "ref", None)
                        if isinstance(node, A.Name) and ref is not q.symbol and self.roots.get(ref) == root:
                            raise Unsupported("an action that reaches a struct both through an inout "
                                              "parameter and directly", node)
                    self.roots[q.symbol] = root
                    continue
                self._param_place(decl, q, _width_of(t, q))
            self._in_action += 1
            try:
                fns = self.block(decl.body.statements)
            finally:
                self._in_action -= 1
            cache[id(decl)] = lambda ctx, m: _run(fns, ctx, m)
        return cache[id(decl)]

    def _root_of_type(self, t):
        if t is strip_newtype(self.H) or t == strip_newtype(self.H):
            return "H"
        if t is strip_newtype(self.M) or t == strip_newtype(self.M):
            return "M"
        if getattr(t, "name", None) == "standard_metadata_t":
            return "std"
        return None

    def table_apply(self, e):
        """fn(ctx, mask) -> (hit column, action id column): looks the table up for the masked rows and runs
        the chosen actions."""
        c = e.callee
        decl = c.decl
        use = self.tables.get(id(decl))
        if use is None:
            info = next((t for t in self.compiled.tables if t.decl is decl), None)
            if info is None:
                raise Unsupported("a table in a control instantiated more than once or nested", e)
            if info.direct_counter or info.direct_meter:
                raise Unsupported("a table with a direct counter or meter", decl)
            if info.profile is not None:
                raise Unsupported("a table with an action profile or selector", decl)
            keys = []
            for k in decl.keys:
                if k.match_kind not in ("exact", "lpm", "ternary", "range", "optional"):
                    raise Unsupported(f"match kind {k.match_kind}", k)
                kt = strip_newtype(k.expr.type)
                if isinstance(kt, ErrorType) or (isinstance(kt, EnumType) and kt.underlying is None):
                    raise Unsupported("a table key of an enum or error type", k)
                fn, w = self.expr(k.expr)
                keys.append((fn, max(w, 1)))
            kinds = [k.match_kind for k in decl.keys]
            if sum(w for _, w in keys) > 64 and not (set(kinds) <= {"exact"} or kinds == ["lpm"]):
                raise Unsupported("a table key wider than 64 bits but exact fields or one lpm field", decl)
            actions = []
            for ref in decl.action_refs:
                adecl = ref.decl
                bound = len(ref.args or ())
                body = self.action_body(adecl, directions=bool(bound))
                if bound:
                    if any(a.name is not None or a.value is None for a in ref.args):
                        raise Unsupported("named or don't-care arguments in a table's action list", ref)
                    body = self._bound(adecl, list(zip(adecl.params, [a.value for a in ref.args])), body)
                places = [self.env[q.symbol] for q in adecl.params[bound:]]
                actions.append((adecl, places, body))
            use = self.tables[id(decl)] = TableUse(info.name, decl, keys, actions)
        name, keys, actions = use.name, use.keys, use.actions

        wide = sum(w for _, w in keys) > 64

        def run(ctx, m):
            if wide:
                parts = [key_bytes(fn(ctx, m), w, ctx.n) for fn, w in keys]
                joined = np.ascontiguousarray(np.concatenate(parts, axis=1))
                key = joined.view(np.dtype((np.void, joined.shape[1])))[:, 0]
            else:
                key = _narrow_key(keys, ctx, m)
            hit, aid, args = ctx.tables[name].lookup(key, m)
            for i, (_adecl, places, body) in enumerate(actions):
                sel = m & (aid == i)
                if not sel.any():
                    continue
                for place, col in zip(places, args[i]):
                    ctx.cols[place.key] = col        # action data: read only in the rows of sel
                body(ctx, sel)
            return hit, aid
        return run

    def checksum(self, e, c):
        args = e.bound
        algo = args[3]
        t = strip_newtype(algo.type)
        members = getattr(t, "members", None)
        name = members[algo.const] if members is not None and isinstance(algo.const, int) else None
        if name != "csum16":
            raise Unsupported(f"{c.name}() with an algorithm other than csum16", e)
        cond, _ = self.expr(args[0])
        items = self._field_list(args[1])
        for _, w, _, _ in items:
            _narrow(w, e, f"{c.name}()")
        headers = {h.name for _, _, h, _ in items if h is not None}
        if len(headers) > 1:
            raise Unsupported(f"{c.name}() over fields of more than one header", e)
        guard = self.headers[headers.pop()].valid_key() if headers else None
        total = sum(w for _, w, _, _ in items)
        pad = (16 - total % 16) % 16
        target = self.place(args[2])
        if c.name == "update_checksum":
            self.written.add(target.key)
        if target.width != 16:
            raise Unsupported(f"{c.name}() into a field that is not 16 bits", e)
        shifts = []
        pos = pad
        for fn, w, _, _ in reversed(items):
            shifts.append((fn, w, pos % 16))
            pos += w
        left_out = _words_left_out(items, self.headers[guard[1]]) if guard is not None else None

        def compute(ctx, m):
            if left_out is not None:
                # The list is the header's fields but some 16-bit words: sum the header's own words.
                acc = _header_word_sum(ctx.header_bytes(self.headers[guard[1]]), left_out)
                acc = np.where(ctx.col(guard, 0), acc, U64(0))
                ck = acc % U64(0xFFFF)
                ck[(ck == 0) & (acc != 0)] = 0xFFFF
                return U64(0xFFFF) ^ ck

            # cx, the field list's bits, is sum(v * 2**pos); modulo 0xFFFF, 2**16 is 1, so each value counts
            # as the sum of its 16-bit words shifted by pos % 16. acc stays below 2**40 and is 0 only when
            # every field is 0 (cx == 0), which the ones' complement sum tells apart from a multiple of 0xFFFF.
            acc = np.zeros(ctx.n, dtype=U64)
            for fn, w, sh in shifts:
                v = fn(ctx, m)
                v = np.asarray(v).astype(U64) if w == 0 else _u(v)
                if w > 16:
                    v = _words(v, w)
                acc += (v << U64(sh)) if sh else v
            if guard is not None:
                acc = np.where(ctx.col(guard, 0), acc, U64(0))
            ck = acc % U64(0xFFFF)
            ck[(ck == 0) & (acc != 0)] = 0xFFFF
            return U64(0xFFFF) ^ ck

        if c.name == "verify_checksum":
            field_fn, _ = self.expr(args[2])
            err = Place(("s", "checksum_error"), 1)

            def verify(ctx, m):
                cm = cond(ctx, m)
                sel = m & cm if isinstance(cm, np.ndarray) else (m if cm else None)
                if sel is None or not sel.any():
                    return
                bad = sel & (compute(ctx, sel) != _u(field_fn(ctx, sel)))
                _assign(ctx, err, bad, 1)
            return verify

        def update(ctx, m):
            cm = cond(ctx, m)
            sel = m & cm if isinstance(cm, np.ndarray) else (m if cm else None)
            if sel is None or not sel.any():
                return
            _assign(ctx, target, sel, compute(ctx, sel))
        return update

    def _field_list(self, e) -> list:
        """[(value fn, width, header or None)] of a checksum's field list, in order."""
        if isinstance(e, A.ListExpression):
            out = []
            for x in e.elements:
                out.extend(self._field_list(x))
            return out
        t = strip_newtype(e.type)
        if isinstance(t, StructLikeType) and t.kind == "header":
            h = self.header_of(e)
            return [((lambda ctx, m, k=h.field_key(f), w=w: ctx.col(k, w)), w, h, h.field_key(f))
                    for f, _, w in h.fields]
        if isinstance(e, A.Member) and not isinstance(t, StructLikeType):
            p = self.place(e)
            fn, w = self._read(p), p.width
            return [(fn, w if w else 1, p.header, p.key) if w else
                    ((lambda ctx, m, fn=fn: fn(ctx, m).astype(U64)), 1, p.header, None)]
        c = getattr(e, "const", None)
        if isinstance(c, int) and not isinstance(c, bool):
            w = _width_of(e.type, e)
            return [((lambda ctx, m, v=c & _mask(w): v), w, None, None)]
        raise Unsupported("this value in a checksum's field list", e)

    # ------------------------------------------------------------------ blocks

    def _compile_control(self, decl):
        pre = []
        for local in decl.locals:
            if isinstance(local, A.VariableDeclaration):
                pre.append(self._s_VariableDeclaration(local))
            elif isinstance(local, A.ConstantDeclaration):
                pre.append(self._s_ConstantDeclaration(local))
            elif isinstance(local, (A.ActionDeclaration, A.TableDeclaration)):
                continue
            elif isinstance(local, A.Instantiation):
                kind = getattr(getattr(local, "type", None), "name", None) or \
                    getattr(getattr(local.type, "base", None), "name", "instance")
                raise Unsupported(f"the {kind} '{local.name}'",
                                  local)
            else:
                raise Unsupported(f"this declaration in control {decl.name}", local)
        body = pre + self.block(decl.body.statements)
        return lambda ctx, m: _run_control(body, ctx, m)

    def _compile_deparser(self, decl) -> list[HeaderInfo]:
        if decl.locals:
            raise Unsupported("declarations in the deparser", decl.locals[0])
        emits = []
        for s in decl.body.statements:
            call = s.call if isinstance(s, A.MethodCallStatement) else None
            c = getattr(call, "callee", None)
            if c is None or c.kind != "extern_method" or c.name != "emit":
                raise Unsupported(f"{_statement_name(s)} in the deparser (only emit is run)", s)
            emits.extend(self.headers_in(call.bound[0]))
        return emits

    def _compile_parser(self, decl):
        # Variables and constants of the parser start in the start state, which every packet enters.
        local_inits = []
        for local in decl.locals:
            if isinstance(local, A.VariableDeclaration):
                local_inits.append(("stmt", self._s_VariableDeclaration(local)))
            elif isinstance(local, A.ConstantDeclaration):
                self._s_ConstantDeclaration(local)
            else:
                raise Unsupported("this declaration in the parser", local)
        states = {st.name: st for st in decl.states}
        order = _topological(states, decl)
        compiled = []
        longest = {name: 0 for name in states}
        for name in order:
            st = states[name]
            stmts = list(local_inits) if name == "start" else []
            size_here = 0
            for s in st.statements:
                call = s.call if isinstance(s, A.MethodCallStatement) else None
                c = getattr(call, "callee", None)
                if c is not None and c.kind == "extern_method" and c.name == "extract" and len(call.bound) == 1 \
                        and call.bound[0] is not None:
                    h = self.header_of(call.bound[0])
                    stmts.append(("extract", h))
                    size_here += h.size
                elif isinstance(s, A.Assignment):
                    stmts.append(("stmt", self._s_Assignment(s)))
                elif isinstance(s, (A.VariableDeclaration, A.ConstantDeclaration, A.EmptyStatement)):
                    stmts.append(("stmt", self.stmt(s)))
                else:
                    raise Unsupported(f"{_statement_name(s)} in a parser state", s)
            tr = st.transition
            if tr is None or isinstance(tr, str):
                targets = [(None, tr)]
                keys = []
            else:
                keys = [self.expr(x) for x in tr.exprs]
                for x, (_, w) in zip(tr.exprs, keys):
                    _narrow(w, x, "select")
                targets = [(self._keyset(case.keyset, keys, case), case.state) for case in tr.cases]
            compiled.append((name, stmts, keys, targets))
            for _, target in targets:
                if target in longest:
                    longest[target] = max(longest[target], longest[name] + size_here)
            longest[name + "#end"] = longest[name] + size_here
        self.max_parse_bytes = max([v for k, v in longest.items() if k.endswith("#end")] + [0])
        return compiled

    def _keyset(self, ks, keys, case):
        """fn(key values) -> bool column or True, for one select case."""
        if isinstance(ks, (A.DefaultKeyset, A.DontCare)):
            return None
        elements = ks.elements if isinstance(ks, A.TupleKeyset) else [ks]
        if len(elements) != len(keys):
            raise Unsupported("this select case", case)
        tests = []
        for el, (_, w) in zip(elements, keys):
            if isinstance(el, (A.DefaultKeyset, A.DontCare)):
                continue
            if isinstance(el, A.MaskKeyset):
                v, mk = getattr(el.value, "const", None), getattr(el.mask, "const", None)
                if not isinstance(v, int) or not isinstance(mk, int):
                    raise Unsupported("a select case that is not a constant", el)
                tests.append(("mask", int(v) & int(mk), int(mk)))
            elif isinstance(el, A.RangeKeyset):
                lo, hi = getattr(el.lo, "const", None), getattr(el.hi, "const", None)
                if not isinstance(lo, int) or not isinstance(hi, int):
                    raise Unsupported("a select case that is not a constant", el)
                tests.append(("range", int(lo), int(hi)))
            else:
                v = getattr(el, "const", None)
                if not isinstance(v, (int, bool)):
                    raise Unsupported("a select case that is not a constant (value sets)", el)
                tests.append(("eq", int(v), None))
        tests_by_key = []
        j = 0
        for el in elements:
            if isinstance(el, (A.DefaultKeyset, A.DontCare)):
                tests_by_key.append(None)
            else:
                tests_by_key.append(tests[j])
                j += 1
        return tests_by_key


def _statement_name(s) -> str:
    names = {"ExitStatement": "an exit statement", "ReturnStatement": "a return statement",
             "ForStatement": "for loops",
             "ForInStatement": "for loops", "SwitchStatement": "this switch", "DirectApplication":
             "applying a sub-block"}
    name = names.get(type(s).__name__)
    if name is not None:
        return name
    call = getattr(s, "call", None)
    c = getattr(call, "callee", None)
    if c is not None:
        return f"the call {c.name}()"
    return f"this statement ({type(s).__name__})"


def _has_apply(e) -> bool:
    return any(isinstance(n, A.Call) and getattr(getattr(n, "callee", None), "kind", "") == "table_apply"
               for n in e.walk())


def _topological(states: dict, decl) -> list[str]:
    """The parser's states from start, each after every state that reaches it; a loop keeps a program out."""
    order: list[str] = []
    mark: dict[str, int] = {}

    def visit(name: str, via) -> None:
        if name in ("accept", "reject"):
            if name == "reject":
                raise Unsupported("a transition to reject", via)
            return
        st = states.get(name)
        if st is None:
            raise Unsupported(f"the parser state '{name}'", via)
        if mark.get(name) == 1:
            raise Unsupported(f"a parser loop (state {name} is reached again)", st)
        if mark.get(name) == 2:
            return
        mark[name] = 1
        for t in state_successors(st):
            visit(t, st)
        mark[name] = 2
        order.append(name)

    visit("start", decl)
    order.reverse()
    return order


def _narrow_key(keys, ctx, m) -> np.ndarray:
    """A table key of at most 64 bits: its fields' values concatenated into one uint64 column."""
    key = np.zeros(ctx.n, dtype=U64)
    for fn, w in keys:
        v = fn(ctx, m)
        v = np.asarray(v).astype(U64) if w == 1 and np.asarray(v).dtype == bool else _u(v)
        key = (key << U64(w)) | v
    return key


def _narrow(width: int, node, what: str) -> None:
    """Values wider than 64 bits are copied, compared for equality, sliced, cast and looked up; any
    other use keeps the program out."""
    if width > 64:
        raise Unsupported(f"{what} on values wider than 64 bits", node)


def _wide_cols(v, n: int) -> np.ndarray:
    """A value as n x 2 (or 1 x 2) uint64 columns: the bits above 64, the low 64."""
    if isinstance(v, np.ndarray):
        if v.ndim == 2:
            return v
        return np.stack([np.zeros(len(v), dtype=U64), _u(v)], axis=1)
    v = int(v)
    return np.array([[v >> 64, v & 0xFFFFFFFFFFFFFFFF]], dtype=U64)


def _widen(v, n: int) -> np.ndarray:
    return np.broadcast_to(_wide_cols(v, n), (n, 2))


def _wide_equal(a, b, n: int):
    return (_wide_cols(a, n) == _wide_cols(b, n)).all(axis=1)


def _wide_slice(c: np.ndarray, hi: int, lo: int) -> np.ndarray:
    """Bits hi..lo (at most 64 of them, unmasked above) of n x 2 columns."""
    if lo >= 64:
        return c[:, 0] >> U64(lo - 64)
    if hi < 64:
        return c[:, 1] >> U64(lo)
    return (c[:, 0] << U64(64 - lo)) | (c[:, 1] >> U64(lo)) if lo else c[:, 1]


def key_bytes(v, width: int, n: int) -> np.ndarray:
    """n x ceil(width / 8): a key field's values as big-endian bytes (a wide table key is the bytes of
    its fields one after the other, compared as byte strings)."""
    nb = (width + 7) // 8
    if width > 64:
        c = _widen(v, n)
        hi = np.ascontiguousarray(c[:, 0]).astype(">u8").view(np.uint8).reshape(n, 8)[:, 16 - nb:]
        lo = np.ascontiguousarray(c[:, 1]).astype(">u8").view(np.uint8).reshape(n, 8)
        return np.concatenate([hi, lo], axis=1)
    col = np.broadcast_to(np.asarray(v).astype(U64), (n,))
    return np.ascontiguousarray(col).astype(">u8").view(np.uint8).reshape(n, 8)[:, 8 - nb:]


def _u(v):
    """A value as uint64 (a Python constant becomes a numpy scalar)."""
    if isinstance(v, np.ndarray):
        return v if v.dtype == U64 else v.astype(U64)
    return U64(int(v))


def _words_left_out(items: list, h: HeaderInfo) -> list[int] | None:
    """If a field list is the fields of header h in order, but for some 16-bit aligned 16-bit fields (a
    header checksum), the indexes of the 16-bit words left out; else None."""
    keys = [k for _, _, _, k in items]
    if h.size % 2 or None in keys:
        return None
    left_out = []
    j = 0
    for fname, first, width in h.fields:
        if j < len(keys) and keys[j] == h.field_key(fname):
            j += 1
        elif width == 16 and first % 16 == 0:
            left_out.append(first // 16)
        else:
            return None
    return left_out if j == len(keys) else None


def _header_word_sum(raw: np.ndarray, left_out: list[int]) -> np.ndarray:
    """A sum of a header's 16-bit words but those left out that is 0 only when they all are, and equal to
    their sum modulo 0xFFFF: read 32 bits at a time (2**16 is 1 modulo 0xFFFF), the words left out taken
    off again."""
    if raw.shape[1] % 4:
        words = raw.view(">u2")
        acc = np.zeros(len(raw), dtype=U64)
        for j in range(words.shape[1]):
            if j not in left_out:
                acc += words[:, j]
        return acc
    quads = raw.view(">u4")
    acc = quads[:, 0].astype(U64)
    for j in range(1, quads.shape[1]):
        acc += quads[:, j]
    if left_out:
        words = raw.view(">u2")
        for j in left_out:
            acc -= (words[:, j].astype(U64) << U64(16)) if j % 2 == 0 else words[:, j]
    return acc


def _words(v, width: int):
    """The sum of the 16-bit words of v (a value of `width` bits)."""
    s = v & U64(0xFFFF)
    for shift in range(16, width, 16):
        s = s + ((v >> U64(shift)) & U64(0xFFFF))
    return s


def _assign(ctx: Ctx, p: Place, m, value) -> None:
    """Write value into p for the rows of mask m (rows whose header is invalid keep their value)."""
    if p.header is not None:
        m = m & ctx.col(p.header.valid_key(), 0)
        ctx.versions[p.header.name] = ctx.versions.get(p.header.name, 0) + 1
    old = ctx.col(p.key, p.width)
    if p.width == 0:
        new = np.where(m, value, old)
    elif p.width > 64:
        keep = np.array([_mask(p.width - 64), _mask(64)], dtype=U64)
        new = np.where(m[:, None], _wide_cols(value, ctx.n) & keep, old)
    else:
        if not isinstance(value, np.ndarray):
            value = U64(int(value) & _mask(p.width))
        elif value.dtype != U64:
            value = value.astype(U64)
        new = np.where(m, value & U64(_mask(p.width)), old)
    ctx.cols[p.key] = new


def _run(fns, ctx, m) -> None:
    for fn in fns:
        if ctx.stopped is not None:
            m = m & ~ctx.stopped
            if not m.any():
                return
        fn(ctx, m)


def _run_control(fns, ctx, m) -> None:
    ctx.stopped = None
    _run(fns, ctx, m)
    ctx.stopped = None


def _stop(ctx, m) -> None:
    ctx.stopped = m.copy() if ctx.stopped is None else ctx.stopped | m


@dataclass
class BatchProgram:
    compiled: object
    headers: dict
    parser: list
    stages: dict
    emits: list
    tables: dict
    error_codes: dict
    max_parse_bytes: int
    written: frozenset
    written_span: dict
    set_valid: frozenset


def compile_batch(compiled) -> BatchProgram:
    """The columnar form of a compiled program; raises Unsupported naming what keeps it out."""
    try:
        return BatchCompiler(compiled).compile()
    except LayoutError as exc:
        raise Unsupported(str(exc), None) from None
