"""Checking of tables: keys and match kinds, action lists, default actions, entries, properties.

Results are recorded on the TableDeclaration for the compiler:
``keys`` (list of TableKey), ``action_refs`` (the ActionRefs of the action
list, each with ``.decl``), ``default`` (ActionRef or None, with
``default_is_const``), ``const_entries`` (the TableEntry list of the
``entries`` property, each with ``.action.decl``; ``entries_are_const`` says
whether the control plane may change them), ``size`` and ``direct_counter`` / ``direct_meter``
(instance names), ``implementation`` (a TableImplementation: the action profile
or action selector of an indirect table, or None) and ``selector_keys`` (the
keys of match kind ``selector``, which are not part of the match: an action
selector hashes them to choose a member of a group, as in BMv2).
"""

from __future__ import annotations

from dataclasses import dataclass

from ...diagnostics import DiagnosticError
from .. import ast as A
from ..scope import Scope
from ..types import BitsType, BoolType, EnumType, ErrorType, ExternType, NewType, Type, bit_width, strip_newtype
from .base import CheckerBase, Callable, decl_span

KNOWN_PROPERTIES = {"key", "actions", "default_action", "entries", "size", "counters", "meters",
                    "implementation", "support_timeout", "idle_timeout", "psa_direct_counter",
                    "psa_direct_meter", "largest_priority_wins", "priority_delta", "pna_direct_counter"}
SUPPORTED_MATCH_KINDS = {"exact", "ternary", "lpm", "range", "optional", "selector"}
DEFAULT_TABLE_SIZE = 1024
# v1model's table implementations: indirect tables whose entries point to members (and groups) of these.
IMPLEMENTATION_EXTERNS = ("action_profile", "action_selector")
# Annotations of an action selector that P4Runtime reads; on a plain action profile they mean nothing.
SELECTOR_ANNOTATIONS = ("max_group_size", "selector_size_semantics", "max_member_weight")


@dataclass
class TableKey:
    expr: A.Expression
    match_kind: str
    name: str          # the control-plane name: @name or the expression as written
    type: Type
    width: int


@dataclass
class TableImplementation:
    """The `implementation` of an indirect table: an action_profile or action_selector.

    `instance` is the declared instance the property names (shared by every
    table naming it), or None for a constructor call written in the property,
    which makes a profile of the table's own, named by the property's @name
    (else after the table, as BMv2 names the profile of an old-style indirect
    table)."""
    kind: str                                 # "action_profile" or "action_selector"
    instance: A.Instantiation | None
    name: str | None                          # the property's @name, for a constructor call
    size: int
    algorithm: str | None = None              # the HashAlgorithm member of a selector
    max_group_size: int | None = None         # @max_group_size: members a group may have

    @property
    def with_selector(self) -> bool:
        return self.kind == "action_selector"


class TablesMixin(CheckerBase):

    def check_table(self, decl: A.TableDeclaration, scope: Scope) -> None:
        decl.keys = []
        decl.action_refs = []
        decl.default = None
        decl.default_is_const = False
        decl.const_entries = None
        decl.size = None
        decl.direct_counter = None
        decl.direct_meter = None
        decl.implementation = None
        decl.selector_keys = []
        seen: dict[str, A.TableProperty] = {}
        for prop in decl.properties:
            if prop.name in seen:
                self.error(f"table '{decl.name}' has two '{prop.name}' properties", prop.span)
                continue
            seen[prop.name] = prop
            if prop.name not in KNOWN_PROPERTIES:
                self.warning(f"unknown table property '{prop.name}' is ignored", getattr(prop, "name_span", prop.span),
                             self.did_you_mean(prop.name, KNOWN_PROPERTIES))
        if "actions" not in seen:
            self.error(f"table '{decl.name}' has no 'actions' property", decl.span,
                       "every table lists the actions it may run: actions = { ... }")
        if "key" in seen:
            self._check_keys(decl, seen["key"], scope)
        if "actions" in seen:
            self._check_action_list(decl, seen["actions"], scope)
        if "default_action" in seen and "actions" in seen and \
                decl.properties.index(seen["default_action"]) < decl.properties.index(seen["actions"]):
            # As for entries and key: the default action is one of the list, which must be known before it.
            self.error(f"the default_action of table '{decl.name}' must come after its actions",
                       getattr(seen["default_action"], "name_span", seen["default_action"].span))
        elif "default_action" in seen:
            self._check_default_action(decl, seen["default_action"], scope)
        else:
            self._check_implicit_default_action(decl)
        if "entries" in seen and "key" in seen and \
                decl.properties.index(seen["entries"]) < decl.properties.index(seen["key"]):
            # The entries are read in the order of the keys, so that order must be known before them.
            self.error(f"the entries of table '{decl.name}' must come after its key", 
                       getattr(seen["entries"], "name_span", seen["entries"].span))
        elif "entries" in seen:
            self._check_entries(decl, seen["entries"], scope)
        if "size" in seen:
            v = self.constant_value(seen["size"].value, scope)
            if v is not None:
                if not isinstance(v, int) or isinstance(v, bool) or v < 1:
                    self.error("the size of a table must be a positive integer", seen["size"].value.span)
                else:
                    decl.size = v
        for prop_name, extern_name, attr in (("counters", "direct_counter", "direct_counter"),
                                             ("meters", "direct_meter", "direct_meter")):
            if prop_name in seen:
                setattr(decl, attr, self._check_direct_resource(decl, seen[prop_name], scope, extern_name))
        if "implementation" in seen:
            decl.implementation = self._check_implementation(decl, seen["implementation"], scope)
        self._check_selector_use(decl, seen)
        for prop_name in ("support_timeout",):
            if prop_name in seen:
                t = self.check_expression(seen[prop_name].value, scope)
                if t is not None and not isinstance(t, BoolType):
                    self.error(f"'{prop_name}' must be true or false", seen[prop_name].value.span)

    # ------------------------------------------------------------------ keys

    def _check_keys(self, decl: A.TableDeclaration, prop: A.TableProperty, scope: Scope) -> None:
        lpm = 0
        for ke in prop.value:
            t = self.check_expression(ke.expr, scope)
            mk_span = getattr(ke, "match_kind_span", ke.span)
            if ke.match_kind not in self.match_kinds:
                self.error(f"unknown match kind '{ke.match_kind}'", mk_span,
                           self.did_you_mean(ke.match_kind, self.match_kinds) or
                           f"the match kinds are {', '.join(sorted(self.match_kinds))}")
                continue
            if ke.match_kind not in SUPPORTED_MATCH_KINDS:
                self.error(f"match kind '{ke.match_kind}' is not supported", mk_span,
                           "dataplane supports exact, ternary, lpm, range, optional and selector")
                continue
            if t is None:
                continue
            st = strip_newtype(t)
            if ke.match_kind == "selector":
                self._check_selector_key(decl, ke, t)
                continue
            if not isinstance(st, (BitsType, BoolType, EnumType, ErrorType)) or (
                    isinstance(st, EnumType) and not st.is_serializable and ke.match_kind != "exact"):
                self.error(f"a table key cannot have type {t}", ke.expr.span,
                           "keys must be bit<W>, int<W>, bool, enums or error")
                continue
            if ke.match_kind in ("lpm", "range") and not isinstance(st, (BitsType, EnumType)):
                self.error(f"an {ke.match_kind} key must be bit<W>, not {t}", ke.expr.span)
                continue
            if ke.match_kind == "lpm":
                lpm += 1
                if lpm > 1:
                    self.error(f"table '{decl.name}' has more than one lpm key", ke.span)
            width = bit_width(st) if not isinstance(st, (ErrorType, EnumType)) or bit_width(st) else 32
            if isinstance(st, EnumType) and not st.is_serializable or isinstance(st, ErrorType):
                width = 32
            name = self.control_plane_name(ke.annotations)
            if name is None:
                from ..printer import expression_text
                name = expression_text(ke.expr)
                complex_part = _unnameable_key_part(ke.expr)
                if complex_part is not None:
                    self.error("this key needs a @name annotation: the control plane names a key after a "
                               "field, slice, index, mask or isValid() of it", complex_part.span,
                               f'for example @name("{decl.name}_key{len(decl.keys)}")')
            decl.keys.append(TableKey(ke.expr, ke.match_kind, name, t, width or 0))
        if lpm and any(k.match_kind in ("ternary", "range", "optional") for k in decl.keys):
            decl.lpm_with_priority = True

    def _check_selector_key(self, decl: A.TableDeclaration, ke, t: Type) -> None:
        """A key an action selector hashes: any value that has bits (hashed as they are laid out)."""
        st = strip_newtype(t)
        if not isinstance(st, (BitsType, BoolType)) and not (isinstance(st, EnumType) and st.is_serializable):
            self.error(f"a selector key cannot have type {t}", ke.expr.span,
                       "an action selector hashes bit<W>, int<W>, bool or serializable enum values")
            return
        from ..printer import expression_text
        name = self.control_plane_name(ke.annotations) or expression_text(ke.expr)
        decl.selector_keys.append(TableKey(ke.expr, "selector", name, t, bit_width(st) or 1))

    # ------------------------------------------------------------------ implementations

    def _check_implementation(self, decl: A.TableDeclaration, prop: A.TableProperty,
                              scope: Scope) -> TableImplementation | None:
        """`implementation = ap` (a declared instance) or `implementation = action_selector(...)`."""
        e = prop.value
        t = self.check_expression(e, scope) if isinstance(e, A.Expression) else None
        if t is None:
            if not isinstance(e, A.Expression):
                self.error("'implementation' must be an action_profile or action_selector", prop.span)
            return None
        if not (isinstance(t, ExternType) and t.name in IMPLEMENTATION_EXTERNS):
            self.error(f"'implementation' must be an action_profile or action_selector, not {t}", e.span,
                       "write implementation = action_profile(32w128) or name such an instance")
            return None
        if isinstance(e, A.ConstructorCall):
            instance, annotations, name = None, prop.annotations, self.control_plane_name(prop.annotations)
        elif isinstance(e, A.Name) and isinstance(getattr(e.ref, "decl", None), A.Instantiation):
            instance = e.ref.decl
            annotations, name = instance.annotations, None
        else:
            self.error("'implementation' must name an action_profile or action_selector instance, or construct "
                       "one", e.span)
            return None
        args = getattr(t, "constructor_args", None) or []
        if len(args) != (3 if t.name == "action_selector" else 1) or any(a is None for a in args):
            return None       # the constructor call was reported already
        size_arg = args[1] if t.name == "action_selector" else args[0]
        size = size_arg.const
        where = size_arg.span or e.span
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            self.error(f"the size of an {t.name} must be a positive constant", where)
            return None
        impl = TableImplementation(t.name, instance, name, size)
        if t.name == "action_selector":
            impl.algorithm = self._hash_algorithm(args[0], e)
        if instance is not None and hasattr(instance, "max_group_size"):
            impl.max_group_size = instance.max_group_size     # checked (and warned about) once
        else:
            impl.max_group_size = self._selector_annotations(impl, annotations)
            if instance is not None:
                instance.max_group_size = impl.max_group_size
        if instance is not None:
            self._share_implementation(decl, impl, instance)
        return impl

    def _hash_algorithm(self, arg, e: A.Expression) -> str | None:
        st = strip_newtype(getattr(arg, "type", None))
        if isinstance(st, EnumType) and not st.is_serializable and isinstance(arg.const, int):
            return st.members[arg.const]
        self.error("the hash algorithm of an action selector must be a constant HashAlgorithm member",
                   arg.span or e.span)
        return None

    def _selector_annotations(self, impl: TableImplementation, annotations) -> int | None:
        """@max_group_size (and its companions, which a plain action profile ignores, as p4c warns)."""
        from ..build_ast import parse_annotation_args
        found = [a for a in annotations or () if a.name in SELECTOR_ANNOTATIONS]
        if found and not impl.with_selector:
            self.warning(f"@{found[0].name} means nothing on an action profile without a selector; it is ignored",
                         found[0].span)
            return None
        semantics = A.find_annotation(annotations, "selector_size_semantics")
        weight = A.find_annotation(annotations, "max_member_weight")
        if semantics is not None and weight is not None and "sum_of_weights" in (semantics.body or ""):
            self.warning("@max_member_weight means nothing with @selector_size_semantics(\"sum_of_weights\"); "
                         "it is ignored", weight.span)
        ann = A.find_annotation(annotations, "max_group_size")
        if ann is None:
            return None
        try:
            args = parse_annotation_args(ann)
        except DiagnosticError:
            args = []
        value = self._annotation_constant(args[0].value) if len(args) == 1 and args[0].name is None else None
        if value is None:
            # Annotation bodies are not macro-expanded (see the lexer), so a #define'd size lands here.
            self.warning("@max_group_size is not a number dataplane can read; groups are not limited", ann.span,
                         "write the number, as in @max_group_size(16), or name a constant")
            return None
        if isinstance(value, bool) or value < 1:
            self.error("@max_group_size takes a positive integer: the members a group may have", ann.span)
            return None
        return value

    def _annotation_constant(self, e: A.Expression) -> int | None:
        """An integer literal, or the name of a top-level constant, in an annotation's arguments."""
        if isinstance(e, A.IntLiteral):
            return e.value
        if isinstance(e, A.Name):
            sym = self.globals.lookup(e.name)
            if sym is not None and sym.kind == "const" and isinstance(getattr(sym, "value", None), int):
                return sym.value
        return None

    def _share_implementation(self, decl: A.TableDeclaration, impl: TableImplementation,
                              instance: A.Instantiation) -> None:
        """Tables sharing an action selector must hash the same keys: BMv2 (and p4c) keep the
        selector's input with the selector, not with each table. Tables sharing a profile should list
        the same actions: a member runs its action in every one of them."""
        actions = {id(ref.decl) for ref in decl.action_refs}
        first_user = getattr(instance, "first_user", None)
        if first_user is None:
            instance.first_user = (decl, actions)
        elif first_user[1] != actions:
            self.warning(f"table '{decl.name}' shares {impl.kind} '{instance.name}' with table '{first_user[0].name}' "
                         f"but lists other actions", decl.span,
                         "a member's action must be an action of every table sharing the profile")
        if not impl.with_selector:
            return
        from ..printer import expression_text
        keys = tuple(expression_text(k.expr) for k in decl.selector_keys)
        first = getattr(instance, "selector_input", None)
        if first is None:
            instance.selector_input = (keys, decl)
        elif first[0] != keys:
            self.error_with_note(
                f"action selector '{instance.name}' is shared by tables with different selector keys: "
                f"'{decl.name}' hashes ({', '.join(keys)}) but '{first[1].name}' hashes ({', '.join(first[0])})",
                decl.span, f"table '{first[1].name}' is declared here", first[1].span,
                "tables sharing an action selector must list the same selector keys in the same order")

    def _check_selector_use(self, decl: A.TableDeclaration, seen: dict) -> None:
        impl = decl.implementation
        if decl.selector_keys and (impl is None or not impl.with_selector):
            what = "no action selector" if impl is None else "an action profile without a selector"
            self.warning(f"table '{decl.name}' has {what}, so its selector keys are ignored (as in BMv2)",
                         decl.selector_keys[0].expr.span, "give it implementation = action_selector(...)")
            decl.selector_keys = []
        if impl is not None and "entries" in seen and seen["entries"].value:
            self.error(f"table '{decl.name}' is indirect (it has an {impl.kind}): entries from the program are not "
                       f"supported", seen["entries"].span,
                       "its entries point to members and groups, which the control plane creates")

    # ------------------------------------------------------------------ actions

    def resolve_action_ref(self, ref: A.ActionRef, scope: Scope) -> Callable | None:
        sym = (self.globals if ref.top_level else scope).lookup(ref.name)
        span = getattr(ref, "name_span", ref.span)
        if sym is None:
            self.error(f"unknown action '{ref.name}'", span, self.did_you_mean(
                ref.name, [n for n in scope.all_names() if (s := scope.lookup(n)) and s.kind == "action"]))
            return None
        if sym.kind != "action":
            self.error(f"'{ref.name}' is a {sym.describe()}, not an action", span)
            return None
        ref.decl = sym.decl
        return self.action_callable(sym.decl)

    def _check_action_list(self, decl: A.TableDeclaration, prop: A.TableProperty, scope: Scope) -> None:
        names: dict[str, A.ActionRef] = {}
        for ref in prop.value:
            callee = self.resolve_action_ref(ref, scope)
            if callee is None:
                continue
            if ref.name in names:
                self.error(f"action '{ref.name}' is listed twice in table '{decl.name}'", ref.span)
                continue
            names[ref.name] = ref
            self._check_action_data_types(ref.decl, callee)
            directional = [p for p in callee.params if p.direction]
            given = ref.args or []
            if len(given) != len(directional):
                if directional:
                    self.error(f"action '{ref.name}' has {len(directional)} directional parameter(s) that the "
                               f"actions list must give, but {len(given)} were given", ref.span)
                else:
                    self.error(f"action '{ref.name}' takes its parameters from the control plane; do not give "
                               f"arguments in the actions list", ref.span)
                continue
            if directional:
                fake = A.Call(A.Name(ref.name, span=ref.span), [], given, span=ref.span)
                c = Callable("action", ref.name, directional, callee.return_type, decl=ref.decl)
                self.bind_call(fake, c, scope, None)
                ref.bound = getattr(fake, "bound", None)
            decl.action_refs.append(ref)
        decl.action_names = names

    def _check_action_data_types(self, action: A.ActionDeclaration, callee: Callable) -> None:
        """The control plane fills the directionless parameters of a table's actions, so they must have
        types it can write (P4Runtime's action parameters): bit<W>, int<W>, bool, a 'type' or an enum."""
        if getattr(action, "action_data_checked", False):
            return
        action.action_data_checked = True
        for p, info in zip(action.params, callee.params):
            t = info.type
            if p.direction or t is None or isinstance(t, (BitsType, BoolType, EnumType, NewType)):
                continue
            self.error(f"parameter '{p.name}' of action '{action.name}' has type {t}, but the control plane can "
                       f"only give action data of type bit<W>, int<W>, bool, a 'type' or an enum",
                       getattr(p, "name_span", p.span), "pass the fields as separate parameters")

    def _action_call_from_expression(self, e: A.Expression, scope: Scope) -> A.ActionRef | None:
        if isinstance(e, A.Name):
            return A.ActionRef(e.name, None, top_level=e.top_level, span=e.span)
        if isinstance(e, A.Call) and isinstance(e.func, A.Name) and not e.type_args:
            return A.ActionRef(e.func.name, e.args, top_level=e.func.top_level, span=e.span)
        self.error("expected an action call such as a(1, 2) or NoAction()", e.span)
        return None

    def _check_action_data(self, decl: A.TableDeclaration, ref: A.ActionRef, scope: Scope, what: str) -> bool:
        """Check the arguments of an action used as a default action or an entry: all parameters bound."""
        callee = self.resolve_action_ref(ref, scope)
        if callee is None:
            return False
        listed = getattr(decl, "action_names", {})
        if ref.name in listed and getattr(listed[ref.name], "decl", None) is not ref.decl:
            self.error_with_note(f"{what} '{ref.name}' is not the action '{ref.name}' of the actions list",
                                 ref.span, "the actions list names this one", listed[ref.name].span,
                                 "a leading '.' names the top-level action")
            return False
        if ref.name not in listed:
            self.error(f"{what} '{ref.name}' is not in the actions of table '{decl.name}'", ref.span,
                       f"add it to the actions list of '{decl.name}'")
            return False
        args = ref.args or []
        if ref.args is None and callee.params:
            self.error(f"{what} '{ref.name}' needs arguments for all its parameters", ref.span)
            return False
        fake = A.Call(A.Name(ref.name, span=ref.span), [], args, span=ref.span)
        if self.bind_call(fake, Callable("action", ref.name, callee.params, callee.return_type, decl=ref.decl),
                          scope, None) is None and getattr(fake, "callee", None) is None:
            return False
        ref.bound = fake.bound
        # Directional arguments must agree with the action list; action data must be constant.
        for p, a in zip(callee.params, fake.bound):
            if not p.direction and a is not None and a.const is None:
                self.error(f"the value for action parameter '{p.name}' must be a compile-time constant", a.span)
                return False
        return self._directional_arguments_agree(listed[ref.name], callee, fake.bound)

    def _directional_arguments_agree(self, listed: A.ActionRef, callee: Callable, bound: list) -> bool:
        """The actions list binds an action's directional parameters once for the table; a default action
        or an entry that gives them again must give the same arguments."""
        listed_args = getattr(listed, "bound", None) or []
        directional = [(p, a) for p, a in zip(callee.params, bound) if p.direction]
        for (p, a), la in zip(directional, listed_args):
            if a is None or la is None or _same_argument(a, la):
                continue
            from ..printer import expression_text
            self.error_with_note(f"the argument for '{p.direction}' parameter '{p.name}' differs from the one in "
                                 f"the actions list ({expression_text(la)})", a.span,
                                 "the actions list gives it here", la.span)
            return False
        return True

    def _check_default_action(self, decl: A.TableDeclaration, prop: A.TableProperty, scope: Scope) -> None:
        ref = self._action_call_from_expression(prop.value, scope)
        if ref is None:
            return
        if self._check_action_data(decl, ref, scope, "default action"):
            listed = decl.action_names.get(ref.name)
            ann = A.find_annotation(getattr(listed, "annotations", None), "tableonly")
            if ann is not None:
                self.error(f"action '{ref.name}' is marked @tableonly and cannot be the default action", ref.span)
            decl.default = ref
            decl.default_is_const = prop.is_const

    def _check_implicit_default_action(self, decl: A.TableDeclaration) -> None:
        """A table without a default_action runs NoAction on a miss: core.p4's action without parameters."""
        sym = self.globals.lookup_local("NoAction")
        if sym is None:
            self.error(f"table '{decl.name}' has no default_action, so it needs the action NoAction, which is not "
                       f"declared", decl_span(decl), "#include <core.p4>, or give the table a default_action")
        elif sym.kind != "action" or sym.decl.params:
            what = "an action with parameters" if sym.kind == "action" else sym.describe()
            self.error_with_note(f"'NoAction' must be an action without parameters (the default action of tables "
                                 f"without a default_action), but here it is {what}", sym.span,
                                 f"table '{decl.name}' needs it", decl_span(decl), "did you include core.p4?")

    # ------------------------------------------------------------------ entries

    def _check_entries(self, decl: A.TableDeclaration, prop: A.TableProperty, scope: Scope) -> None:
        # `const entries` are fixed; plain `entries` are initial entries the control plane may change.
        decl.entries_are_const = prop.is_const
        if not decl.keys and prop.value:
            self.error(f"table '{decl.name}' has no key, so it cannot have entries", prop.span)
            return
        key_types = [k.type for k in decl.keys]
        seen_keys: dict[tuple, A.TableEntry] = {}
        for entry in prop.value:
            ks = entry.keyset
            elements = ks.elements if isinstance(ks, A.TupleKeyset) else [ks]
            if isinstance(ks, A.ListExpression) and len(ks.elements) == len(key_types):
                elements = ks.elements      # { a, b }: a list of the key values, as p4c reads it
            if isinstance(ks, (A.DefaultKeyset, A.DontCare)) and len(key_types) > 1:
                elements = [ks] * len(key_types)
            if len(elements) != len(key_types):
                self.error(f"this entry has {_count(len(elements), 'key value')} but table '{decl.name}' has "
                           f"{_count(len(key_types), 'key')}", ks.span)
                continue
            ok = True
            for el, key in zip(elements, decl.keys):
                self.check_keyset_element(el, key.type, scope, "entry")
                if not self._keyset_fits_match_kind(el, key):
                    ok = False
            entry.elements = elements
            if ok:
                self._check_duplicate_entry(decl, entry, elements, seen_keys)
            if entry.priority is not None:
                p = self.constant_value(entry.priority, scope)
                if p is not None and (not isinstance(p, int) or p < 0):
                    self.error("an entry priority must be a non-negative integer", entry.priority.span)
                entry.priority_value = p
            if self._check_action_data(decl, entry.action, scope, "the action of this entry") and ok:
                ann = A.find_annotation(getattr(decl.action_names.get(entry.action.name), "annotations", None),
                                        "defaultonly")
                if ann is not None:
                    self.error(f"action '{entry.action.name}' is marked @defaultonly and cannot be used in an entry",
                               entry.action.span)
        decl.const_entries = prop.value
        self._assign_entry_priorities(decl, prop, scope)

    def _check_duplicate_entry(self, decl: A.TableDeclaration, entry: A.TableEntry, elements: list,
                               seen: dict) -> None:
        """Two entries with the same key values: the second could never be matched (p4c refuses it too)."""
        signature = tuple(_keyset_signature(el) for el in elements)
        if any(s is None for s in signature):
            return
        first = seen.setdefault(signature, entry)
        if first is not entry:
            self.error_with_note(f"this entry of table '{decl.name}' has the same keys as an earlier one",
                                 entry.keyset.span, "the earlier entry", first.keyset.span,
                                 "the second entry could never be matched; remove it")

    def _assign_entry_priorities(self, decl: A.TableDeclaration, prop: A.TableProperty, scope: Scope) -> None:
        """Give every entry a priority (entry.priority_value), as the P4 specification says.

        `const entries` cannot have explicit priorities: the earlier entry wins.
        In plain `entries`, either none has one (they are numbered so that the
        earlier wins) or the first has one and later ones without continue from
        it, counting down by priority_delta (or up if largest_priority_wins is
        false)."""
        entries = prop.value
        explicit = [e for e in entries if e.priority is not None]
        largest_wins = True
        delta = 1
        lw = decl.property("largest_priority_wins")
        if lw is not None:
            v = self.constant_value(lw.value, scope)
            largest_wins = bool(v) if v is not None else True
        pd = decl.property("priority_delta")
        if pd is not None:
            v = self.constant_value(pd.value, scope)
            if isinstance(v, int) and v > 0:
                delta = v
            else:
                self.error("priority_delta must be a positive integer", pd.value.span)
        decl.largest_priority_wins = largest_wins
        if self._annotated_priorities(entries):
            return
        if prop.is_const and explicit:
            self.error("a table with 'const entries' cannot give entries priorities", explicit[0].priority.span,
                       "in const entries the earlier entry wins; use plain 'entries' for explicit priorities")
            return
        if not explicit:
            n = len(entries)
            for i, e in enumerate(entries):
                e.priority_value = (n - i) if largest_wins else (i + 1)
            return
        if not any(k.match_kind not in ("exact", "lpm") for k in decl.keys):
            self.error(f"the keys of table '{decl.name}' are exact or lpm, which do not use priorities",
                       explicit[0].priority.span)
            return
        if entries[0].priority is None:
            self.error("the first entry must have a priority when others have one", entries[0].span)
            return
        quiet = A.find_annotation(prop.annotations, "noWarn")
        current = previous = None
        used: dict[int, A.TableEntry] = {}
        for i, e in enumerate(entries):
            if e.priority is not None:
                current = getattr(e, "priority_value", None)
                if current is None:
                    return
            e.priority_value = current
            if current < 0:
                # Priorities count down by priority_delta from the last explicit one; they cannot go below 0.
                self.error_with_note(f"the priorities of the entries of table '{decl.name}' go below zero "
                                     f"(this entry would get {current})", decl_span(decl), "this entry", e.span,
                                     "give the first entry a larger priority, or a smaller priority_delta")
                return
            if current in used:
                self.warning(f"two entries of table '{decl.name}' have priority {current}", e.span)
            used[current] = e
            if previous is not None and quiet is None and (
                    (largest_wins and current > previous) or (not largest_wins and current < previous)):
                self.warning(f"entries of table '{decl.name}' are not in priority order "
                             f"({previous} then {current})", e.span)
            previous = current
            current = current - delta if largest_wins else current + delta

    def _annotated_priorities(self, entries: list) -> bool:
        """p4c's @priority(N) on entries, as BMv2 applies it: the entry with the smallest number wins, an
        entry without one is numbered by its position (1, 2, ...). True if any entry has the annotation."""
        if all(A.find_annotation(e.annotations, "priority") is None for e in entries):
            return False
        numbers = []
        for i, e in enumerate(entries):
            ann = A.find_annotation(e.annotations, "priority")
            if ann is None:
                numbers.append(i + 1)
                continue
            try:
                numbers.append(int((ann.body or "").strip(), 0))
            except ValueError:
                self.error("@priority needs a non-negative integer, as in @priority(3)", ann.span)
                numbers.append(i + 1)
        top = max(numbers) + 1
        for e, n in zip(entries, numbers):
            e.priority_value = top - n      # the run-time tables prefer the larger priority
        return True

    def _keyset_fits_match_kind(self, el: A.Expression, key: TableKey) -> bool:
        mk = key.match_kind
        wildcard = isinstance(el, (A.DontCare, A.DefaultKeyset))
        if mk == "exact" and (wildcard or isinstance(el, (A.MaskKeyset, A.RangeKeyset))):
            self.error(f"key '{key.name}' is matched exactly: give a single value", el.span)
            return False
        if mk == "optional" and isinstance(el, (A.MaskKeyset, A.RangeKeyset)):
            self.error(f"key '{key.name}' is optional: give a value or _", el.span)
            return False
        if mk in ("lpm", "ternary") and isinstance(el, A.RangeKeyset):
            self.error(f"key '{key.name}' is {mk}: a range is not allowed", el.span)
            return False
        if mk == "range" and isinstance(el, A.MaskKeyset):
            self.error(f"key '{key.name}' is a range: use lo .. hi", el.span)
            return False
        if mk == "lpm" and isinstance(el, A.MaskKeyset) and isinstance(el.mask.const, int):
            m = el.mask.const
            w = key.width
            inv = ~m & ((1 << w) - 1)
            if inv & (inv + 1):
                self.error(f"the mask of lpm key '{key.name}' must be a prefix (ones followed by zeros)", el.mask.span)
                return False
        return True

    # ------------------------------------------------------------------ direct counters and meters

    def _check_direct_resource(self, decl, prop: A.TableProperty, scope: Scope, extern_name: str):
        e = prop.value
        t = self.check_expression(e, scope)
        if t is None:
            return None
        if not (isinstance(t, ExternType) and t.name == extern_name):
            self.error(f"'{prop.name}' must name a {extern_name} instance, not {t}", e.span)
            return None
        if isinstance(e, A.Name):
            e.ref.decl.attached_table = decl
            return e.name
        return e


def _keyset_signature(el: A.Expression):
    """A hashable form of one checked keyset element, equal for equal sets of values (None if unknown)."""
    if isinstance(el, (A.DontCare, A.DefaultKeyset)):
        return ("any",)
    if isinstance(el, A.MaskKeyset):
        parts = ("mask", el.value.const, el.mask.const)
    elif isinstance(el, A.RangeKeyset):
        parts = ("range", el.lo.const, el.hi.const)
    else:
        parts = ("value", getattr(el, "const", None))
    return None if any(p is None for p in parts[1:]) else parts


def _same_argument(a: A.Expression, b: A.Expression) -> bool:
    """Whether two checked argument expressions denote the same value: equal constants, or the same text."""
    if a.const is not None and b.const is not None:
        return a.const == b.const
    from ..printer import expression_text
    return expression_text(a) == expression_text(b)


def _unnameable_key_part(e: A.Expression) -> A.Expression | None:
    """The first part of a key expression that gives the key no control-plane name, or None.

    A key is named after what it reads (as P4Runtime does): a name, a field, an index, a slice, a mask
    with &, a constant or isValid(). Any other expression needs an explicit @name."""
    if isinstance(e, (A.Name, A.IntLiteral)):
        return None
    if isinstance(e, A.Member):
        return _unnameable_key_part(e.expr)
    if isinstance(e, A.Index):
        return _unnameable_key_part(e.expr) or _unnameable_key_part(e.index)
    if isinstance(e, A.Slice):
        return _unnameable_key_part(e.expr) or _unnameable_key_part(e.hi) or _unnameable_key_part(e.lo)
    if isinstance(e, A.Binary) and e.op == "&":
        return _unnameable_key_part(e.left) or _unnameable_key_part(e.right)
    if isinstance(e, A.Call) and isinstance(e.func, A.Member) and e.func.member == "isValid" and not e.args:
        return _unnameable_key_part(e.func.expr)
    return e


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" + ("" if n == 1 else "s")
