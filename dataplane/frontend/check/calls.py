"""Resolution and checking of calls: methods, externs, actions, functions, apply.

A checked call gets ``callee`` (a :class:`~.base.Callable` whose parameter
types have their type arguments substituted) and ``bound`` (one argument
expression per parameter, in parameter order; None where an optional
parameter was left out), so later stages never re-match arguments.
"""

from __future__ import annotations

from .. import ast as A
from ..scope import Scope
from ..types import (BOOL, INT, VOID, ApplyResultType, BlockType, DontCareType, ExternType, IntType, ListType, StackType,
                     StringType, StructInitType, StructLikeType, TableType, TupleType, Type, TypeVar, VarbitType,
                     contains_type_var, same_type, strip_newtype)
from .base import Callable, CheckerBase, ParamInfo
from .declarations import substitute


def type_variables(t: Type | None) -> list[str]:
    """The names of the type variables in t, in order."""
    if isinstance(t, TypeVar):
        return [t.name]
    if isinstance(t, StackType):
        return type_variables(t.element)
    if isinstance(t, TupleType):
        return [v for e in t.elements for v in type_variables(e)]
    if isinstance(t, ExternType):
        return [v for a in t.type_args for v in type_variables(a)]
    return []


def _holds_untyped_int(t: Type) -> bool:
    if isinstance(t, IntType):
        return True
    if isinstance(t, (TupleType, ListType)):
        return any(_holds_untyped_int(e) for e in t.elements)
    return False


class CallsMixin(CheckerBase):

    def _expr_Call(self, e: A.Call, scope: Scope, expected) -> Type | None:
        candidates = self.call_candidates(e, scope)
        if not candidates:
            for a in e.args:
                if a.value is not None and getattr(a.value, "type", "unchecked") == "unchecked":
                    pass
            return None
        callee = self._choose_overload(e, candidates)
        if callee is None:
            return None
        return self.bind_call(e, callee, scope, expected)

    # ------------------------------------------------------------------ what is being called

    def call_candidates(self, e: A.Call, scope: Scope) -> list[Callable]:
        func = e.func
        ft = self.check_expression(func, scope)
        if ft is None:
            return []
        if isinstance(func, A.Member) and getattr(func, "method", None):
            return self._method_candidates(func, scope)
        if isinstance(func, A.Name):
            candidates = self._name_candidates(func.ref)
            if candidates:
                return self._shadowed_overload(func, len(e.args), scope) or candidates
        self.error(f"a value of type {ft} cannot be called", func.span)
        return []

    def _name_candidates(self, sym) -> list[Callable]:
        if sym.kind == "action":
            return [self.action_callable(sym.decl)]
        if sym.kind == "function":
            return [self.function_callable(sym.decl)]
        if sym.kind == "extern_function":
            return [self.prototype_callable(p, "extern_function", {}) for p in sym.overloads]
        return []

    def _shadowed_overload(self, func: A.Name, nargs: int, scope: Scope) -> list[Callable]:
        """As p4c resolves calls: when the innermost callable named so cannot take this many arguments, one
        declared further out under the same name can (an action `hash` calling the extern function hash)."""
        s = scope
        while s is not None:
            sym = s.lookup_local(func.name)
            s = s.parent
            if sym is None:
                continue
            fitting = [c for c in self._name_candidates(sym)
                       if sum(1 for p in c.params if not p.optional) <= nargs <= len(c.params)]
            if fitting:
                func.ref = sym
                return fitting
        return []

    def _method_candidates(self, func: A.Member, scope: Scope) -> list[Callable]:
        base = func.expr
        bt = strip_newtype(base.type)
        m = func.method
        if isinstance(bt, StructLikeType):
            if m == "isValid":
                return [Callable("header_method", m, [], BOOL, receiver=base, owner=bt)]
            if m in ("minSizeInBits", "minSizeInBytes"):
                return [Callable("header_method", m, [], INT, receiver=base, owner=bt)]
            return [Callable("header_method", m, [], VOID, receiver=base, owner=bt)]
        if isinstance(bt, StackType):
            return [Callable("stack_method", m, [ParamInfo("count", "", INT)], VOID, receiver=base, owner=bt)]
        if isinstance(bt, ExternType):
            protos = [p for p in bt.decl.methods if p.name == m and not p.is_constructor]
            return [self.prototype_callable(p, "extern_method", bt.bindings, receiver=base, owner=bt) for p in protos]
        if isinstance(bt, TableType):
            return [Callable("table_apply", "apply", [], ApplyResultType(bt), decl=bt.decl, receiver=base, owner=bt)]
        if isinstance(bt, BlockType):
            return [Callable("block_apply", "apply", list(bt.params), VOID, decl=bt.decl, receiver=base, owner=bt)]
        return []

    def prototype_callable(self, proto: A.MethodPrototype, kind: str, bindings: dict, receiver=None,
                           owner=None) -> Callable:
        """The callable of an extern function or method, with the extern's type arguments applied."""
        cache = getattr(proto, "_callable_cache", None)
        if cache is None:
            tvars = {n: TypeVar(n, proto) for n in proto.type_params}
            ext_decl = getattr(owner, "decl", None)
            for n in getattr(ext_decl, "type_params", []) or []:
                tvars.setdefault(n, TypeVar(n, ext_decl))
            params = self.resolve_params(proto.params, self.globals, tvars)
            ret = self.resolve_type(proto.return_type, self.globals, tvars) if proto.return_type else VOID
            proto._callable_cache = cache = (params, ret)
        params, ret = cache
        mapping = dict(bindings)
        params = [ParamInfo(p.name, p.direction, substitute(p.type, mapping), p.default, p.optional, p.span)
                  for p in params]
        return Callable(kind, proto.name, params, substitute(ret, mapping), decl=proto, receiver=receiver,
                        type_params=list(proto.type_params), owner=owner)

    def action_callable(self, decl: A.ActionDeclaration) -> Callable:
        params = getattr(decl, "param_infos", None)
        if params is None:
            params = decl.param_infos = self.resolve_params(decl.params, self.globals)
        return Callable("action", decl.name, params, VOID, decl=decl)

    def function_callable(self, decl: A.FunctionDeclaration) -> Callable:
        if getattr(decl, "param_infos", None) is None:
            tvars = {n: TypeVar(n, decl) for n in decl.type_params}
            decl.param_infos = self.resolve_params(decl.params, self.globals, tvars)
            decl.return_resolved = self.resolve_type(decl.return_type, self.globals, tvars)
        return Callable("function", decl.name, decl.param_infos, decl.return_resolved or VOID, decl=decl,
                        type_params=list(decl.type_params))

    def _choose_overload(self, e: A.Call, candidates: list[Callable]) -> Callable | None:
        n = len(e.args)
        fitting = [c for c in candidates
                   if sum(1 for p in c.params if not p.optional) <= n <= len(c.params)]
        if len(fitting) == 1:
            return fitting[0]
        if len(fitting) > 1:
            names = {a.name for a in e.args if a.name}
            for c in fitting:
                if len(c.params) == n and (not names or names <= {p.name for p in c.params}):
                    return c
            return fitting[0]
        c = candidates[0]
        what = self._callable_description(c)
        counts = sorted({len(x.params) for x in candidates})
        takes = " or ".join(map(str, counts))
        if len(candidates) == 1:
            required = sum(1 for p in c.params if not p.optional)
            if required != len(c.params):
                takes = f"{required} to {len(c.params)}"
        sig = ", ".join(f"{(p.direction + ' ') if p.direction else ''}{p.type} {p.name}" for p in c.params)
        self.error(f"{what} takes {takes} argument{'s' if takes != '1' else ''} but {n} "
                   f"{'was' if n == 1 else 'were'} given", e.span, f"{c.name}({sig})")
        return None

    @staticmethod
    def _callable_description(c: Callable) -> str:
        return {"action": f"action '{c.name}'", "function": f"function '{c.name}'",
                "extern_function": f"'{c.name}'", "extern_method": f"method '{c.name}'",
                "table_apply": "apply()", "block_apply": "apply()",
                "header_method": f"'{c.name}'", "stack_method": f"'{c.name}'"}.get(c.kind, f"'{c.name}'")

    # ------------------------------------------------------------------ argument binding

    def match_arguments(self, e_args: list[A.Argument], params: list[ParamInfo], span, what: str):
        """Map arguments to parameters by position or name: a list aligned with params."""
        bound: list[A.Argument | None] = [None] * len(params)
        named = [a for a in e_args if a.name is not None]
        if named and len(named) != len(e_args):
            self.error("either all arguments are named or none is", span)
            return None
        if named:
            index = {p.name: i for i, p in enumerate(params)}
            for a in e_args:
                if a.name not in index:
                    self.error(f"{what} has no parameter named '{a.name}'", a.span,
                               self.did_you_mean(a.name, index))
                    return None
                if bound[index[a.name]] is not None:
                    self.error(f"parameter '{a.name}' is given twice", a.span)
                    return None
                bound[index[a.name]] = a
        elif len(e_args) > len(params):
            self.error(f"{what} takes {len(params)} argument(s), but {len(e_args)} were given",
                       e_args[len(params)].span)
            return None
        else:
            for i, a in enumerate(e_args):
                bound[i] = a
        for i, p in enumerate(params):
            if bound[i] is None and not p.optional:
                self.error(f"{what}: missing argument for parameter '{p.name}'", span)
                return None
        return bound

    def bind_call(self, e: A.Call, callee: Callable, scope: Scope, expected: Type | None) -> Type | None:
        what = self._callable_description(callee)
        bound = self.match_arguments(e.args, callee.params, e.span, what)
        if bound is None:
            return None
        # Explicit type arguments: f<T>(...).
        mapping: dict = {}
        if e.type_args:
            if len(e.type_args) != len(callee.type_params):
                self.error(f"{what} takes {len(callee.type_params)} type argument(s), not {len(e.type_args)}", e.span)
                return None
            for name, tref in zip(callee.type_params, e.type_args):
                t = self.resolve_type(tref, scope)
                if t is None:
                    return None
                mapping[name] = t
        ok = True
        args: list[A.Expression | None] = []
        for p, a in zip(callee.params, bound):
            if a is None:
                if p.default is not None and not self._check_default(p, mapping):
                    ok = False
                args.append(p.default)
                continue
            if a.value is None:
                if p.direction != "out":
                    self.error(f"'_' can only be passed to an 'out' parameter ('{p.name}' is "
                               f"{p.direction or 'directionless'})", a.span)
                    ok = False
                args.append(None)
                continue
            pt = substitute(p.type, mapping) if p.type is not None else None
            at = self.check_expression(a.value, scope, None if contains_type_var(pt) else pt)
            if at is None:
                ok = False
                args.append(a.value)
                continue
            if isinstance(p.type, TypeVar) and isinstance(at, (BlockType, TableType)) and \
                    callee.kind != "constructor":
                # Parsers, controls and tables are passed only to constructors, as instances of a declared type.
                self.error(f"a {_kind_of_instance(at)} cannot be the argument for parameter '{p.name}' of "
                           f"generic type {p.type}", a.value.span,
                           "parsers, controls and tables are passed only to constructors")
                ok = False
                args.append(a.value)
                continue
            if contains_type_var(pt):
                if not self._infer(pt, at, a.value, mapping, p):
                    ok = False
                pt = substitute(pt, mapping)
                if p.direction and isinstance(pt, (StringType, ExternType)):
                    # The rule on declared parameter types, for a type only a call supplies.
                    self.error_with_note(f"parameter '{p.name}' of {what} has a direction, so its type cannot be "
                                         f"{pt}", p.span or a.value.span, f"{pt} is inferred from this argument",
                                         a.value.span)
                    ok = False
            if p.direction in ("out", "inout"):
                if not self.check_lvalue(a.value, scope, f"pass {{}} as an '{p.direction}' argument"):
                    ok = False
                elif pt is not None and not same_type(at, pt) and not contains_type_var(pt):
                    self.error(f"argument for '{p.direction}' parameter '{p.name}' has type {at} but must "
                               f"have type {pt} exactly", a.value.span)
                    ok = False
            elif pt is not None and not contains_type_var(pt):
                if not self.coerce(a.value, pt, f"the argument for parameter '{p.name}'"):
                    ok = False
            args.append(a.value)
        if ok and not self._inferred_types_are_complete(e, callee, bound, mapping, what):
            ok = False
        ret = substitute(callee.return_type, mapping)
        if ok and callee.kind == "function" and contains_type_var(callee.return_type) and isinstance(ret, IntType):
            # A function's value has a width (p4c's rule): an int argument does not give one.
            self.error(f"cannot infer a width for the value returned by {what}: its type "
                       f"{callee.return_type} would be int", e.span,
                       f"give the argument a width (such as 8w255), or the type explicitly: {callee.name}<...>(...)")
            return None
        if contains_type_var(ret):
            self.error(f"cannot infer the type {ret} returned by {what}", e.span,
                       f"give it explicitly: {callee.name}<T>(...)")
            return None
        params = [ParamInfo(p.name, p.direction, substitute(p.type, mapping) if p.type else None,
                            p.default, p.optional, p.span) for p in callee.params]
        e.callee = Callable(callee.kind, callee.name, params, ret, callee.decl, callee.receiver,
                            callee.type_params, callee.owner)
        e.bound = args
        e.type_bindings = {n: mapping.get(n) for n in callee.type_params}
        if not ok:
            return None
        self.check_special_call(e, scope)
        return ret

    def _check_default(self, p: ParamInfo, mapping: dict) -> bool:
        """Type a parameter's default value (once: the declaration's expression serves every call)."""
        if hasattr(p.default, "const"):     # set by check_expression
            return True
        pt = substitute(p.type, mapping) if p.type is not None else None
        if pt is None or contains_type_var(pt):
            self.error(f"the type of parameter '{p.name}' must be known to use its default value", p.span)
            return False
        if self.check_expression(p.default, self.globals, pt) is None:
            return False
        if not self.coerce(p.default, pt, f"the default value of parameter '{p.name}'"):
            return False
        if p.default.const is None:
            self.error(f"the default value of parameter '{p.name}' must be a compile-time constant",
                       p.default.span)
            return False
        return True

    def _inferred_types_are_complete(self, e: A.Call, callee: Callable, bound: list, mapping: dict,
                                     what: str) -> bool:
        """After inference, every type a parameter needs is a concrete type with a width: an untyped
        constant, a '_' argument or a '_' type argument gives no type to run with."""
        for p, a in zip(callee.params, bound):
            if a is not None and a.value is not None and isinstance(p.type, DontCareType):
                self.error(f"cannot infer the type of parameter '{p.name}' of {what}: its type is '_'",
                           a.value.span, "instantiate the extern with a concrete type argument")
                return False
            if a is None or not contains_type_var(p.type):
                continue
            if a.value is None:
                unbound = [v for v in type_variables(p.type) if v not in mapping]
                if unbound:
                    self.error(f"cannot infer the type {unbound[0]} of parameter '{p.name}' of {what}: '_' gives "
                               f"no type", a.span, f"pass a variable of the wanted type, or write "
                               f"{callee.name}<...>(...)")
                    return False
                continue
            for v in type_variables(p.type):
                t = mapping.get(v)
                if t is not None and _holds_untyped_int(t):
                    self.error(f"cannot infer a width for the type {v} of parameter '{p.name}' of {what}",
                               a.value.span, "give the constant a width, for example 16w0xFFFF, or cast it")
                    return False
        return True

    def _infer(self, pt: Type, at: Type, arg: A.Expression, mapping: dict, p: ParamInfo) -> bool:
        """Bind the type variables of a parameter type from an argument type."""
        if isinstance(pt, TypeVar):
            if pt.name in mapping:
                bound = mapping[pt.name]
                if same_type(bound, at):
                    return True
                if isinstance(at, IntType) and p.direction in ("", "in"):
                    return self.coerce(arg, bound, f"the argument for parameter '{p.name}'")
                if isinstance(bound, IntType) and p.direction in ("", "in"):
                    mapping[pt.name] = at
                    return True
                self.error(f"the argument for parameter '{p.name}' has type {at} but {bound} was inferred "
                           f"for {pt.name}", arg.span)
                return False
            if isinstance(at, ListType):
                at = TupleType(at.elements)
                arg.type = at
            elif isinstance(at, StructInitType):
                self.error("the type of a struct initializer cannot be inferred here", arg.span,
                           "use a list {a, b} or a typed variable")
                return False
            mapping[pt.name] = at
            return True
        if isinstance(pt, TupleType) and isinstance(at, (TupleType, ListType)) and len(pt.elements) == len(at.elements):
            return all(self._infer(x, y, arg, mapping, p) for x, y in zip(pt.elements, at.elements))
        if isinstance(pt, ExternType) and isinstance(at, ExternType) and pt.decl is at.decl and \
                len(pt.type_args) == len(at.type_args):
            # register<T> given a register<bool>: T is bool, and must agree with what other arguments give T.
            return all(self._infer(x, y, arg, mapping, p) for x, y in zip(pt.type_args, at.type_args))
        return True

    # ------------------------------------------------------------------ calls with extra rules

    def check_special_call(self, e: A.Call, scope: Scope) -> None:
        c: Callable = e.callee
        in_parser = scope.enclosing("parser") is not None
        in_action = scope.enclosing("action") is not None
        in_function = scope.enclosing("function") is not None
        if c.kind in ("header_method", "stack_method") and c.name in ("setValid", "setInvalid", "push_front",
                                                                          "pop_front"):
            self.check_lvalue(c.receiver, scope, f"call {c.name}() on {{}}")
            if c.kind == "stack_method":
                count = e.bound[0]
                if count is not None and (count.const is None or count.const < 0):
                    self.error(f"the argument of {c.name}() must be a non-negative constant", count.span)
        elif c.kind == "table_apply":
            if in_action or in_function:
                self.error("a table cannot be applied inside an action or a function", e.span)
            elif in_parser:
                self.error("a table cannot be applied in a parser", e.span)
        elif c.kind == "block_apply":
            bt: BlockType = c.owner
            if bt.kind == "parser" and not in_parser:
                self.error("a parser can only be applied from another parser", e.span)
            if bt.kind == "control" and (in_parser or in_action):
                self.error("a control can only be applied from the apply block of another control", e.span)
        elif c.kind == "action":
            if in_parser:
                self.error("actions cannot be called from a parser", e.span)
            elif in_function:
                self.error("functions cannot call actions", e.span,
                           "actions run from tables and controls; make the callee a function")
        elif c.kind == "extern_function" and c.name == "static_assert":
            self._check_static_assert(e)
        elif c.kind == "extern_function" and c.name == "verify":
            if not in_parser:
                self.error("verify() can only be called in a parser", e.span)
        elif c.kind == "extern_method" and isinstance(c.owner, ExternType):
            self._check_packet_method(e, c)

    def _check_static_assert(self, e: A.Call) -> None:
        """static_assert(check[, message]) is evaluated here; when it holds, the call is the constant true."""
        check = e.bound[0]
        message = e.bound[1].const if len(e.bound) > 1 and e.bound[1] is not None else None
        if check is None:
            return
        if check.const is None:
            self.error("the condition of static_assert must be a compile-time constant", check.span)
        elif not check.const:
            self.error(f"static assertion failed: {message or 'static_assert failed'}", e.span)
            e.const = False     # reported: a constant initialized from it is not reported again
        else:
            e.const = True

    def _check_packet_method(self, e: A.Call, c: Callable) -> None:
        ext = c.owner.name
        if ext == "packet_in" and c.name == "extract":
            arg = e.bound[0]
            t = strip_newtype(getattr(arg, "type", None)) if arg is not None else None
            if t is not None and not (isinstance(t, StructLikeType) and t.is_header):
                what = f"{t.kind.replace('_', ' ')} '{t.name}'" if isinstance(t, StructLikeType) else str(t)
                self.error(f"extract() needs a header, not {what}", arg.span,
                           "extract each header of a struct separately" if isinstance(t, StructLikeType) else None)
                return
            has_varbit = t is not None and any(isinstance(ft, VarbitType) for ft in t.fields.values())
            if len(e.bound) == 1 and has_varbit:
                self.error(f"header '{t.name}' has a varbit field: use extract(hdr, sizeInBits)", e.span)
            if len(e.bound) == 2 and t is not None and not has_varbit:
                self.error(f"the two-argument extract() is for headers with a varbit field; '{t.name}' has none",
                           e.span)
        elif ext == "packet_in" and c.name == "lookahead":
            t = e.callee.return_type
            from ..types import bit_width
            if bit_width(t) is None:
                self.error(f"lookahead<{t}>() needs a fixed-size type", e.span)
        elif ext == "packet_out" and c.name == "emit":
            arg = e.bound[0]
            t = strip_newtype(getattr(arg, "type", None)) if arg is not None else None
            if t is not None and not _emittable(t):
                self.error(f"emit() needs a header, a header stack or union, or a struct of them, not {t}",
                           arg.span)


def _emittable(t: Type) -> bool:
    if isinstance(t, StructLikeType):
        if t.kind in ("header", "header_union"):
            return True
        return all(_emittable(strip_newtype(ft)) for ft in t.fields.values())
    if isinstance(t, StackType):
        return t.is_header_stack or _emittable(strip_newtype(t.element))
    return False


def _kind_of_instance(t: Type) -> str:
    return "table" if isinstance(t, TableType) else f"{t.kind} instance"
