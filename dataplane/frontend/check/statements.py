"""Checking of statements, local declarations, instantiations, actions, functions and controls."""

from __future__ import annotations

from .. import ast as A
from ..scope import Scope, Symbol
from ..types import (VOID, ActionRunType, BitsType, BlockType, BoolType, EnumType, ErrorType, ExternType, IntType,
                     StackType, StringType, TableType, Type, TypeVar, VoidType, same_type, strip_newtype)
from .architecture import fits_block, signature
from .base import CheckerBase, ParamInfo, decl_span


class StatementsMixin(CheckerBase):

    # ------------------------------------------------------------------ pass: check controls

    def check_controls(self) -> None:
        for decl in self.controls:
            self.check_control(decl)
        for decl in self.top_level_actions:
            self.check_action(decl, self.globals)
        for decl in self.functions:
            self.check_function(decl)
        self.check_recursion()

    def check_recursion(self) -> None:
        """P4 has no recursion: report an action or function that calls itself, directly or not."""
        callables = list(self.functions) + list(self.top_level_actions) + \
            [a for c in self.controls for a in getattr(c, "actions", [])]
        calls: dict[int, list[tuple[object, A.Call]]] = {}
        for decl in callables:
            out = []
            for node in decl.body.walk():
                if isinstance(node, A.Call):
                    callee = getattr(node, "callee", None)
                    if callee is not None and callee.kind in ("action", "function") and callee.decl is not None:
                        out.append((callee.decl, node))
            calls[id(decl)] = out
        reported: set[int] = set()
        for decl in callables:
            # Depth-first search for a path back to decl.
            stack = [(c, call) for c, call in calls.get(id(decl), [])]
            seen: set[int] = set()
            while stack:
                target, first_call = stack.pop()
                if target is decl:
                    if id(decl) not in reported:
                        kind = "function" if isinstance(decl, A.FunctionDeclaration) else "action"
                        self.error(f"{kind} '{decl.name}' calls itself (directly or through other calls)",
                                   first_call.span, "P4 does not allow recursion")
                        reported.add(id(decl))
                    break
                if id(target) in seen:
                    continue
                seen.add(id(target))
                stack.extend((c, first_call) for c, _ in calls.get(id(target), []))

    def param_scope(self, parent: Scope, kind: str, owner, params: list[A.Parameter],
                    infos: list[ParamInfo]) -> Scope:
        scope = Scope(parent, kind, owner)
        for p, info in zip(params, infos):
            if p.name in scope.symbols:
                continue    # reported by resolve_params
            p.symbol = scope.symbols[p.name] = Symbol(p.name, "param", p, info.type, direction=p.direction,
                                                      span=getattr(p, "name_span", p.span), owner=owner)
        return scope

    def check_control(self, decl: A.ControlDeclaration) -> None:
        bt: BlockType = decl.resolved
        scope = self.param_scope(self.globals, "control", decl, decl.params, bt.params)
        for p, info in zip(decl.constructor_params, bt.constructor_params):
            p.symbol = Symbol(p.name, "param", p, info.type, direction="", span=p.span, owner=decl)
            p.is_constructor_param = True
            self.declare(scope, p.symbol)
        decl.scope = scope
        decl.tables = []
        decl.actions = []
        decl.instances = []
        decl.variables = []
        for local in decl.locals:
            self.check_local_declaration(local, scope, decl)
        self.check_block(decl.body, Scope(scope, "apply", decl))

    def check_local_declaration(self, local, scope: Scope, owner) -> None:
        if isinstance(local, A.ConstantDeclaration):
            self._declare_ConstantDeclaration(local, scope)
        elif isinstance(local, A.VariableDeclaration):
            self.check_variable(local, scope)
            if hasattr(owner, "variables"):
                owner.variables.append(local)
        elif isinstance(local, A.Instantiation):
            self.check_instantiation(local, scope)
            if hasattr(owner, "instances"):
                owner.instances.append(local)
        elif isinstance(local, A.ActionDeclaration):
            local.symbol = Symbol(local.name, "action", local, span=decl_span(local), owner=owner)
            self.declare(scope, local.symbol)
            self.check_action(local, scope)
            owner.actions.append(local)
        elif isinstance(local, A.TableDeclaration):
            local.control = owner
            t = TableType(local.name, local)
            local.symbol = Symbol(local.name, "table", local, t, span=decl_span(local), owner=owner)
            self.declare(scope, local.symbol)
            self.check_table(local, scope)
            owner.tables.append(local)
            self.tables.append(local)
        elif isinstance(local, A.ValueSetDeclaration):
            self.check_value_set(local, scope)
        else:  # pragma: no cover - the grammar allows nothing else
            self.error("this declaration is not allowed here", local.span)

    def check_action(self, decl: A.ActionDeclaration, scope: Scope) -> None:
        infos = self.action_callable(decl).params
        seen_directionless = None
        for p, info in zip(decl.params, infos):
            if isinstance(info.type, (ExternType, BlockType)):
                self.error(f"parameter '{p.name}' of action '{decl.name}' has type {info.type}; action parameters "
                           f"cannot be extern, parser or control instances", p.span)
            if p.direction == "" and seen_directionless is None:
                seen_directionless = p
            elif p.direction and seen_directionless is not None:
                self.error(f"parameter '{p.name}' has a direction but follows the directionless parameter "
                           f"'{seen_directionless.name}'", p.span,
                           "directional parameters must come before action data (directionless) parameters")
        for p, info in zip(decl.params, infos):
            if not p.direction and isinstance(info.type, IntType):
                self.error(f"parameter '{p.name}' of action '{decl.name}' has type int, which actions cannot take",
                           getattr(p, "name_span", p.span), "give it a width, for example bit<32>")
        ascope = self.param_scope(scope, "action", decl, decl.params, infos)
        decl.scope = ascope
        self.check_block(decl.body, ascope)

    def check_function(self, decl: A.FunctionDeclaration) -> None:
        # A directionless parameter of a function is read-only and bound like an `in` one (as p4c does).
        callee = self.function_callable(decl)
        for p in decl.params:
            optional = A.find_annotation(p.annotations, "optional")
            if optional is not None:
                self.error(f"parameter '{p.name}' of function '{decl.name}' cannot be @optional", optional.span,
                           "only parameters of extern functions and methods can be optional; give it a default "
                           "value instead")
        fscope = self.param_scope(self.globals, "function", decl, decl.params, callee.params)
        fscope.return_type = callee.return_type
        decl.scope = fscope
        self.check_block(decl.body, fscope)
        if not isinstance(callee.return_type, VoidType) and not _always_returns(decl.body):
            self.error(f"function '{decl.name}' does not return a value on every path", decl.span,
                       f"end it with 'return <{callee.return_type} value>;'")

    def check_variable(self, decl: A.VariableDeclaration, scope: Scope) -> None:
        t = self.resolve_type(decl.type, scope)
        if t is not None and isinstance(strip_newtype(t), (ExternType, BlockType)):
            self.error(f"'{decl.name}' has type {t}: extern and block instances are declared as "
                       f"{t}(args) {decl.name};", decl.type.span)
            t = None
        if t is not None and isinstance(t, (VoidType, StringType, IntType)):
            self.error(f"a variable cannot have type {t}", decl.type.span,
                       {StringType: "strings are compile-time constants only",
                        IntType: "give it a width, for example bit<32>; or declare a constant"}.get(type(t)))
            t = None
        if decl.init is not None:
            self.check_expression(decl.init, scope, t)
            if t is not None:
                self.coerce(decl.init, t, f"the initial value of '{decl.name}'")
        decl.symbol = Symbol(decl.name, "var", decl, t, span=decl_span(decl))
        self.declare(scope, decl.symbol)

    def check_instantiation(self, decl: A.Instantiation, scope: Scope) -> None:
        t = self.resolve_type(decl.type, scope, allow_generic=True)
        sym = decl.symbol = Symbol(decl.name, "instance", decl, None, span=decl_span(decl))
        self.declare(scope, sym)
        if t is None:
            return
        if isinstance(t, BlockType) and self._inside_declaration(scope, t.decl):
            self.error(f"{t.kind} '{t.name}' cannot instantiate itself", decl.type.span,
                       "P4 has no recursion: a block's instances are made when the program is compiled")
            return
        inst = self.construct(t, decl.args, decl.span, scope, decl.type.span)
        sym.type = inst
        decl.instance_type = inst

    @staticmethod
    def _inside_declaration(scope: Scope, decl) -> bool:
        s = scope
        while s is not None:
            if s.owner is decl:
                return True
            s = s.parent
        return False

    def construct(self, t: Type, args: list[A.Argument], span, scope: Scope, type_span) -> Type | None:
        """Check a constructor call T(args) and return the type of the instance."""
        if isinstance(t, ExternType):
            ctors = [m for m in t.decl.methods if m.is_constructor]
            if not ctors:
                self.error(f"extern '{t.name}' cannot be instantiated (it has no constructor)", type_span)
                return None
            fitting = [c for c in ctors if sum(1 for p in c.params if p.default is None and not
                                               A.find_annotation(p.annotations, "optional")) <= len(args) <= len(c.params)]
            if not fitting:
                counts = " or ".join(sorted({str(len(c.params)) for c in ctors}))
                self.error(f"the constructor of '{t.name}' takes {counts} argument(s) but {len(args)} were given",
                           span)
                return None
            proto = fitting[0]
            if t.decl.type_params and not t.type_args:
                self.error(f"extern '{t.name}' needs type arguments: {t.name}<{', '.join(t.decl.type_params)}>(...)",
                           type_span)
                return None
            callee = self.prototype_callable(proto, "constructor", t.bindings, owner=t)
            fake = A.Call(A.Name(t.name, span=type_span), [], args, span=span)
            self.bind_call(fake, callee, scope, None)
            t.constructor_args = getattr(fake, "bound", None)
            inst = ExternType(t.name, t.decl, t.type_args, t.bindings)
            inst.constructor_args = getattr(fake, "bound", None)
            return inst
        if isinstance(t, BlockType):
            if t.is_declaration_only and t.kind != "package":
                self.error(f"'{t.name}' is a {t.kind} type declaration; instantiate a {t.kind} that implements it",
                           type_span)
                return None
            if t.kind == "package":
                return self.check_package_arguments(t, args, span, scope)
            ctor = t.constructor_params
            if len(args) != len(ctor):
                self.error(f"{t.kind} '{t.name}' takes {len(ctor)} constructor argument(s) but {len(args)} "
                           f"were given", span)
                return None
            for a, p in zip(args, ctor):
                if a.value is not None:
                    self.check_expression(a.value, scope, p.type)
                    if isinstance(p.type, BlockType):
                        self.check_instance_argument(a.value, p.type, f"constructor argument '{p.name}'")
                    elif self.coerce(a.value, p.type, f"constructor argument '{p.name}'") and \
                            not self.is_compile_time_known(a.value):
                        self.error(f"constructor argument '{p.name}' must be a compile-time constant", a.value.span,
                                   "instances are made when the program is compiled, before any packet")
            return t
        self.error(f"type {t} cannot be instantiated", type_span)
        return None

    def check_instance_argument(self, e: A.Expression, expected: BlockType, what: str) -> None:
        """A parser, control or package instance passed where a parser, control or package type is expected."""
        given = getattr(e, "type", None)
        if given is None or fits_block(expected, given, {}):
            return
        hint = None
        if isinstance(given, BlockType) and given.kind == expected.kind and not given.is_declaration_only:
            hint = f"'{given.name}' is declared as {signature(given)}, but {expected.name} is {signature(expected)}"
        self.error(f"{what} has type {given} but {expected} is expected", e.span, hint)

    def is_compile_time_known(self, e: A.Expression) -> bool:
        """Whether e is known when the program is compiled: a constant, an instance, a constructor call or
        a parameter of the enclosing block's constructor, or built from them."""
        if getattr(e, "const", None) is not None or isinstance(e, A.ConstructorCall):
            return True
        if isinstance(e, A.Name):
            sym = getattr(e, "ref", None)
            return sym is None or sym.kind in ("const", "instance") or \
                (sym.kind == "param" and getattr(sym.decl, "is_constructor_param", False))
        if isinstance(e, (A.Member, A.Cast, A.Unary)):
            return self.is_compile_time_known(e.expr)
        if isinstance(e, A.Binary):
            return self.is_compile_time_known(e.left) and self.is_compile_time_known(e.right)
        if isinstance(e, A.Ternary):
            return all(self.is_compile_time_known(x) for x in (e.cond, e.then, e.otherwise))
        if isinstance(e, A.ListExpression):
            return all(self.is_compile_time_known(x) for x in e.elements)
        if isinstance(e, A.StructExpression):
            return all(self.is_compile_time_known(x) for _, x in e.fields)
        return False

    def _expr_ConstructorCall(self, e: A.ConstructorCall, scope: Scope, expected) -> Type | None:
        t = self.resolve_type(e.type, scope, allow_generic=True)
        if t is None:
            return None
        return self.construct(t, e.args, e.span, scope, e.type.span)

    # ------------------------------------------------------------------ statements

    def check_block(self, block: A.BlockStatement, scope: Scope) -> None:
        inner = Scope(scope, scope.kind if scope.kind in ("block",) else "block", scope.owner)
        # A block inside an action/function/parser state must still find its enclosing kind.
        inner.kind = "block"
        for stmt in block.statements:
            self.check_statement(stmt, inner)

    def check_statement(self, s, scope: Scope) -> None:
        method = getattr(self, "_stmt_" + type(s).__name__, None)
        if method is None:
            self.error("this statement is not allowed here", s.span)
            return
        method(s, scope)

    def _stmt_BlockStatement(self, s, scope):
        self.check_block(s, scope)

    def _stmt_EmptyStatement(self, s, scope):
        pass

    def _stmt_VariableDeclaration(self, s, scope):
        self.check_variable(s, scope)

    def _stmt_ConstantDeclaration(self, s, scope):
        self._declare_ConstantDeclaration(s, scope)

    def _stmt_Instantiation(self, s, scope):
        self.error("instances cannot be declared inside a block", s.span,
                   "declare them among the control's or parser's local declarations")

    def _stmt_Assignment(self, s: A.Assignment, scope):
        tt = self.check_expression(s.target, scope)
        if tt is None:
            self.check_expression(s.value, scope)
            return
        self.check_lvalue(s.target, scope)
        if s.op == "=":
            self.check_expression(s.value, scope, tt)
            self.coerce(s.value, tt, "the assigned value")
            return
        op = s.op[:-1]
        fake = A.Binary(op, s.target, s.value, span=s.span)
        fake.op_span = s.span
        self.check_expression(fake, scope)
        s.desugared = fake
        if fake.type is not None:
            self.coerce(fake, tt, "the assigned value")

    def _stmt_MethodCallStatement(self, s: A.MethodCallStatement, scope):
        t = self.check_expression(s.call, scope)
        callee = getattr(s.call, "callee", None)
        if callee is not None and callee.kind == "function" and t is not None and not isinstance(t, VoidType):
            pass  # P4 allows discarding a function's result

    def _stmt_DirectApplication(self, s: A.DirectApplication, scope):
        t = self.resolve_type(s.type, scope)
        if t is None:
            return
        if not isinstance(t, BlockType) or t.is_declaration_only:
            self.error(f"'{t}' is not a parser or control that can be applied", s.type.span)
            return
        if t.constructor_params:
            self.error(f"{t.kind} '{t.name}' has constructor parameters; instantiate it first", s.span)
            return
        call = A.Call(A.Member(A.Name(t.name, span=s.type.span), "apply", span=s.type.span), [], s.args, span=s.span)
        from .base import Callable
        callee = Callable("block_apply", "apply", list(t.params), VOID, decl=t.decl, owner=t)
        self.bind_call(call, callee, scope, None)
        s.call = call

    def _stmt_IfStatement(self, s: A.IfStatement, scope):
        t = self.check_expression(s.cond, scope)
        if t is not None and not isinstance(t, BoolType):
            hint = "compare with 0, e.g. (x != 0)" if isinstance(strip_newtype(t), (BitsType, IntType)) else None
            self.error(f"the condition of 'if' must be bool, not {t}", s.cond.span, hint)
        self.check_statement(s.then, Scope(scope, "block", scope.owner))
        if s.otherwise is not None:
            self.check_statement(s.otherwise, Scope(scope, "block", scope.owner))

    def _stmt_SwitchStatement(self, s: A.SwitchStatement, scope):
        t = self.check_expression(s.expr, scope)
        if t is None:
            for c in s.cases:
                if c.body is not None:
                    self.check_block(c.body, scope)
            return
        seen: dict = {}
        if isinstance(t, ActionRunType):
            actions = {a.name: a for a in getattr(t.table.decl, "action_refs", [])}
            for i, c in enumerate(s.cases):
                if c.label is None:
                    if i != len(s.cases) - 1:
                        self.error("'default' must be the last case of a switch", c.span)
                    key = "default"
                elif isinstance(c.label, A.Name):
                    key = c.label.name
                    if key not in actions:
                        self.error(f"'{key}' is not an action of table '{t.table.name}'", c.label.span,
                                   self.did_you_mean(key, actions) or
                                   f"the table's actions are {', '.join(actions) or 'none'}")
                    else:
                        c.label.ref = actions[key]
                else:
                    self.error("switch on action_run needs action names as labels", c.label.span)
                    key = None
                if key is not None and key in seen:
                    self.error(f"switch label '{key}' appears twice", c.span)
                seen[key] = c
                if c.body is not None:
                    self.check_block(c.body, scope)
            s.kind = "action_run"
            return
        st = strip_newtype(t)
        if not isinstance(st, (BitsType, EnumType, ErrorType)):
            self.error(f"cannot switch on a value of type {t}", s.expr.span,
                       "switch works on t.apply().action_run, bit<W>, int<W>, enums and error")
            return
        if isinstance(st, IntType):
            self.error("switch needs a value with a width", s.expr.span)
            return
        for i, c in enumerate(s.cases):
            if c.label is None:
                if i != len(s.cases) - 1:
                    self.error("'default' must be the last case of a switch", c.span)
            else:
                self.check_expression(c.label, scope, t)
                if self.coerce(c.label, t, "this switch label") and c.label.const is None:
                    self.error("switch labels must be compile-time constants", c.label.span)
                key = c.label.const
                if key is not None and key in seen:
                    self.error("this switch label appears twice", c.label.span)
                seen[key] = c
            if c.body is not None:
                self.check_block(c.body, scope)
        s.kind = "value"

    def _stmt_ReturnStatement(self, s: A.ReturnStatement, scope):
        fscope = scope.enclosing("function")
        if fscope is not None:
            rt = fscope.return_type
            if s.value is None:
                if not isinstance(rt, VoidType):
                    self.error(f"this function must return a value of type {rt}", s.span)
                return
            if isinstance(rt, VoidType):
                self.error("a void function cannot return a value", s.value.span)
                return
            vt = self.check_expression(s.value, scope, rt)
            if isinstance(rt, TypeVar):
                # Whatever T is bound to at a call, only a value of type T is sure to have that type.
                if vt is not None and not (isinstance(vt, TypeVar) and vt.name == rt.name):
                    self.error(f"the returned value has type {vt}, but the function returns a value of its type "
                               f"parameter {rt}", s.value.span)
                return
            self.coerce(s.value, rt, "the returned value")
            return
        if scope.enclosing("parser") is not None:
            self.error("'return' is not allowed in a parser", s.span, "use 'transition accept;' or 'transition reject;'")
            return
        if s.value is not None:
            self.error("only functions return values; actions and controls use a plain 'return;'", s.value.span)

    # P4_16 v1.2.5 loops. The loop's own scope holds what its header declares; the body's scope is marked
    # "loop", which `break` and `continue` look for (an action or function body starts a scope chain of
    # its own, so a loop around a call does not count).

    def _loop_allowed(self, s, scope) -> bool:
        if scope.enclosing("parser") is not None:
            self.error("for loops are not allowed in a parser", s.span,
                       "a parser loops through its states: use a transition back to an earlier state")
            return False
        return True

    def _stmt_ForStatement(self, s: A.ForStatement, scope):
        if not self._loop_allowed(s, scope):
            return
        header = Scope(scope, "block", scope.owner)
        for st in s.init:
            self.check_statement(st, header)
        t = self.check_expression(s.cond, header)
        if t is not None and not isinstance(t, BoolType):
            hint = "compare with 0, e.g. (x != 0)" if isinstance(strip_newtype(t), (BitsType, IntType)) else None
            self.error(f"the condition of 'for' must be bool, not {t}", s.cond.span, hint)
        self.check_statement(s.body, Scope(header, "loop", scope.owner))
        for st in s.update:
            self.check_statement(st, header)

    def _stmt_ForInStatement(self, s: A.ForInStatement, scope):
        if not self._loop_allowed(s, scope):
            return
        header = Scope(scope, "block", scope.owner)
        self.check_variable(s.var, header)
        var_t = s.var.symbol.type
        if s.range_end is not None:
            for end in (s.collection, s.range_end):
                self.check_expression(end, header, var_t)
                if var_t is not None:
                    self.coerce(end, var_t, "the end of the range")
            if var_t is not None and not isinstance(strip_newtype(var_t), BitsType):
                self.error(f"a range gives bit<W> or int<W> values, not {var_t}", s.var.type.span)
        else:
            t = self.check_expression(s.collection, header)
            st = strip_newtype(t) if t is not None else None
            if st is not None and not isinstance(st, StackType):
                self.error(f"a for loop goes through a header stack or a range 'a .. b', not {t}",
                           s.collection.span)
            elif st is not None and var_t is not None and not same_type(st.element, var_t):
                self.error(f"the loop variable has type {var_t} but the elements of the stack are {st.element}",
                           s.var.type.span)
        self.check_statement(s.body, Scope(header, "loop", scope.owner))

    def _stmt_BreakStatement(self, s: A.BreakStatement, scope):
        if scope.enclosing("loop") is None:
            self.error("'break' is only allowed inside a for loop", s.span)

    def _stmt_ContinueStatement(self, s: A.ContinueStatement, scope):
        if scope.enclosing("loop") is None:
            self.error("'continue' is only allowed inside a for loop", s.span)

    def _stmt_ExitStatement(self, s: A.ExitStatement, scope):
        if scope.enclosing("parser") is not None:
            self.error("'exit' is not allowed in a parser", s.span, "use 'transition reject;'")
        elif scope.enclosing("function") is not None:
            self.error("'exit' is not allowed in a function", s.span)


def _always_returns(stmt) -> bool:
    if isinstance(stmt, A.ReturnStatement):
        return True
    if isinstance(stmt, A.ExitStatement):
        return True
    if isinstance(stmt, A.BlockStatement):
        return any(_always_returns(s) for s in stmt.statements)
    if isinstance(stmt, A.IfStatement):
        return stmt.otherwise is not None and _always_returns(stmt.then) and _always_returns(stmt.otherwise)
    if isinstance(stmt, A.SwitchStatement):
        has_default = any(c.label is None for c in stmt.cases)
        return has_default and all(c.body is None or _always_returns(c.body) for c in stmt.cases)
    return False
