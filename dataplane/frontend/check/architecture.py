"""Checking of package instantiations (such as V1Switch(...) main) against the architecture."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...diagnostics import Span
from .. import ast as A
from ..scope import Scope
from ..types import BlockType, DontCareType, Type, TypeVar, same_type, strip_newtype
from .base import CheckerBase, decl_span
from .declarations import substitute


@dataclass
class PackageInstance:
    """A checked package instantiation: which block fills which role."""
    package: BlockType
    blocks: dict[str, BlockType] = field(default_factory=dict)     # parameter name -> the block given
    type_bindings: dict[str, Type] = field(default_factory=dict)   # H -> headers, M -> metadata
    decl: A.Instantiation | None = None
    # The constructor arguments each block was instantiated with (for its constructor parameters).
    block_args: dict[str, list] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.package.name

    def __str__(self) -> str:
        return f"an instance of package '{self.package.name}'"


NO_MAIN = "the program has no 'main' instance"
NO_MAIN_HINT = ("end a v1model program with: V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), "
                "MyComputeChecksum(), MyDeparser()) main;")


class ArchitectureMixin(CheckerBase):

    def check_package_arguments(self, pkg: BlockType, args: list[A.Argument], span, scope: Scope):
        pkg, mapping = _generic_package(pkg)
        inst = PackageInstance(pkg)
        if len(args) > len(pkg.params):
            self.error(f"package '{pkg.name}' takes {len(pkg.params)} argument(s) but {len(args)} were given", span,
                       f"{pkg.name}({', '.join(f'{p.type} {p.name}' for p in pkg.params)})")
            return None
        bound = self.match_arguments(args, pkg.params, span, f"package '{pkg.name}'")
        if bound is None:
            return None
        for i, (param, arg) in enumerate(zip(pkg.params, bound)):
            if arg is None or arg.value is None:
                continue
            given = self.check_expression(arg.value, scope)
            if given is None:
                continue
            expected = param.type
            role = f"argument {i + 1} of {pkg.name} ('{param.name}')"
            if not isinstance(expected, BlockType):
                self.coerce(arg.value, expected, role)
                continue
            if isinstance(given, PackageInstance):
                if not fits_block(expected, given, mapping):
                    if given.package.decl is expected.decl:
                        self.error(f"{role} is a {_package_text(given)} but {_expected_text(expected, mapping)} "
                                   f"is expected", arg.value.span)
                    else:
                        self.error(f"{role} must be {_described(expected)}, not {given}", arg.value.span)
                    continue
                inst.blocks[param.name] = given
                continue
            if not isinstance(given, BlockType) or given.is_declaration_only:
                self.error(f"{role} must be a {expected.kind}, not {given}", arg.value.span)
                continue
            if given.kind != expected.kind:
                self.error(f"{role} must be a {expected.kind} like {signature(expected)}, but "
                           f"'{given.name}' is a {given.kind}", arg.value.span)
                continue
            if len(given.params) != len(expected.params):
                self.error(f"{role} must be a {expected.kind} with {len(expected.params)} parameters like "
                           f"{signature(expected)}, but '{given.name}' has {len(given.params)}",
                           arg.value.span, f"'{given.name}' is declared as {signature(given)}")
                continue
            for gp, ep in zip(given.params, expected.params):
                if gp.direction != ep.direction:
                    self.error(f"parameter '{gp.name}' of '{given.name}' must be "
                               f"{_direction(ep.direction)} to match {signature(expected)}",
                               gp.span or arg.value.span)
                    continue
                if not _unify(ep.type, gp.type, mapping):
                    et = substitute(ep.type, mapping)
                    self.error(f"parameter '{gp.name}' of '{given.name}' has type {gp.type} but {role} needs "
                               f"{et}", gp.span or arg.value.span,
                               "all blocks of a pipeline must use the same header and metadata types")
            inst.blocks[param.name] = given
            inst.block_args[param.name] = _constructor_arguments(arg.value)
        inst.type_bindings = mapping
        # Type parameters of the parameters that were given (an @optional one left out, as in
        # Switch(p0) of a package with an optional p1, leaves its own types unbound, and p4c accepts that).
        given = list(bound) + [None] * (len(pkg.params) - len(bound))
        needed = {v for param, a in zip(pkg.params, given)
                  if a is not None or param.default is not None or not param.optional
                  for v in _type_variable_names(param.type)}
        missing = [n for n in pkg.type_params if n not in mapping and n in needed]
        if missing and all(a is None or a.value is None or getattr(a.value, "type", None) is not None
                           for a in bound):
            # Every argument was given and checked, yet none fixed these types (a default value cannot).
            self.error(f"cannot infer the type {missing[0]} of package '{pkg.name}' from its arguments", span,
                       f"give it explicitly: {pkg.name}<{', '.join(pkg.type_params)}>(...)")
            return None
        return inst

    # ------------------------------------------------------------------ pass: check architecture

    def check_architecture(self) -> None:
        main = self.globals.lookup_local("main")
        if main is not None and main.kind == "type":
            # The name belongs to the package instance a target runs: a type of that name would hide it.
            self.error("'main' names the program's package instance, so a type cannot be named 'main'", main.span,
                       "give the type another name")
            return
        if main is None or main.kind != "instance":
            # As in p4c's front end, a program without a pipeline is valid, only not runnable: the
            # compiler refuses it (ProgramCompiler.compile).
            self.warning(f"{NO_MAIN}, so there is nothing to run", self.end_of_program(), NO_MAIN_HINT)
            return
        inst = main.type
        if inst is None:
            return
        if not isinstance(inst, PackageInstance):
            self.error(f"'main' must be an instance of a package such as V1Switch, not {inst}", decl_span(main.decl))
            return
        inst.decl = main.decl
        self.architecture = inst

    # ------------------------------------------------------------------ pass: control-plane names

    def check_control_plane_names(self) -> None:
        """A controller addresses actions and tables by name (P4Runtime's P4Info): two of them with one name
        could not be told apart."""
        self._check_action_names()
        if self.architecture is not None:
            self._check_table_names()

    def _action_control_plane_name(self, decl: A.ActionDeclaration, control: str | None) -> str:
        """The absolute name (with a leading '.') of an action declaration, as p4c computes it before
        instantiation: an @name starting with '.' is global, any other is relative to the enclosing control."""
        local = self.control_plane_name(decl.annotations) or decl.name
        if local.startswith("."):
            return local
        return f".{local}" if control is None else f".{control}.{local}"

    def _check_action_names(self) -> None:
        seen: dict[str, A.ActionDeclaration] = {}
        for d in self.program.declarations:
            if isinstance(d, A.ActionDeclaration):
                actions = [(d, None)]
            elif isinstance(d, A.ControlDeclaration):
                actions = [(a, d.name) for a in d.locals if isinstance(a, A.ActionDeclaration)]
            else:
                continue
            for action, control in actions:
                name = self._action_control_plane_name(action, control)
                other = seen.setdefault(name, action)
                if other is not action and _renamed(action, other):     # else a duplicate declaration
                    self.error_with_note(f"action '{action.name}' has the control-plane name '{name[1:]}', which "
                                         f"action '{other.name}' already has", decl_span(action),
                                         f"'{other.name}' is declared here", decl_span(other),
                                         "give one of them another @name")

    def _check_table_names(self) -> None:
        seen: dict[str, tuple[A.TableDeclaration, str]] = {}
        packages = [self.architecture]
        while packages:             # a package's blocks, and those of the packages passed to it
            for block in packages.pop(0).blocks.values():
                if isinstance(block, PackageInstance):
                    packages.append(block)
                elif block.kind == "control" and isinstance(block.decl, A.ControlDeclaration):
                    self._claim_table_names(block.decl, block.name, seen, depth=0)

    def _claim_table_names(self, control: A.ControlDeclaration, path: str, seen: dict, depth: int) -> None:
        if depth > 100:     # instances cannot nest in a cycle; this only bounds a pathological program
            return
        for local in control.locals:
            if isinstance(local, A.TableDeclaration):
                cp = self.control_plane_name(local.annotations) or local.name
                name = cp[1:] if cp.startswith(".") else f"{path}.{cp}"
                where = f"{path}.{local.name}"
                other = seen.setdefault(name, (local, where))
                if other[0] is local and other[1] != where:
                    self.error(f"table '{local.name}' has the global control-plane name '{cp}', but control "
                               f"'{control.name}' is instantiated more than once, so {other[1]} and {where} "
                               f"would both be named '{name}'", decl_span(local),
                               f"give the table a name relative to its control: @name(\"{cp.lstrip('.')}\")")
                elif other[0] is not local and _renamed(local, other[0]):
                    self.error_with_note(f"table '{local.name}' ({where}) has the control-plane name '{name}', which "
                                         f"table '{other[0].name}' ({other[1]}) already has", decl_span(local),
                                         f"'{other[0].name}' is declared here", decl_span(other[0]))
            elif isinstance(local, A.Instantiation):
                t = getattr(local, "instance_type", None)
                if isinstance(t, BlockType) and t.kind == "control" and isinstance(t.decl, A.ControlDeclaration):
                    self._claim_table_names(t.decl, f"{path}.{local.name}", seen, depth + 1)

    def end_of_program(self) -> Span | None:
        """Where to report something missing from the program: after its last declaration."""
        src = self.source
        if src is None:
            return None
        for d in reversed(self.program.declarations):
            if d.span.source is src:
                return Span(src, d.span.end_line, d.span.end_col, d.span.end_line, d.span.end_col + 1)
        last = src.line_count
        while last > 1 and not src.line_text(last).strip():
            last -= 1
        col = len(src.line_text(last)) + 1
        return Span(src, last, col, last, col + 1)


def _generic_package(pkg: BlockType) -> tuple[BlockType, dict[str, Type]]:
    """The generic package type of `V1Switch<H, M>` and its explicit type arguments as bindings.

    Blocks are matched against the generic parameters (Parser<H, M> ...), so explicit type arguments
    and inferred ones end up in the same bindings, and a block whose types differ is reported the same way."""
    type_args = getattr(pkg, "type_args", None)
    generic = getattr(pkg.decl, "resolved", None)
    if not type_args or not isinstance(generic, BlockType):
        return pkg, {}
    # `_` as a type argument leaves that type to be inferred from the arguments.
    return generic, {n: a for n, a in zip(generic.type_params, type_args) if not isinstance(a, DontCareType)}


def fits_block(expected: BlockType, given, mapping: dict) -> bool:
    """Whether `given` (the type of a parser, control or package instance) can fill a parameter of type
    `expected`; expected's type variables are bound in mapping (left as it was when it does not fit).

    A parser or control fits a parser or control type when its apply parameters have the same directions
    and types; a package instance fits its own package type when its type arguments agree."""
    trial = dict(mapping)
    if isinstance(given, PackageInstance):
        if expected.kind != "package" or given.package.decl is not expected.decl:
            return False
        for name, arg in zip(getattr(expected.decl, "type_params", []), getattr(expected, "type_args", None) or []):
            bound = given.type_bindings.get(name)
            if bound is not None and not _unify(arg, bound, trial):
                return False
    else:
        if not isinstance(given, BlockType) or given.is_declaration_only or given.kind != expected.kind:
            return False
        if len(given.params) != len(expected.params):
            return False
        for gp, ep in zip(given.params, expected.params):
            if gp.direction != ep.direction or not _unify(ep.type, gp.type, trial):
                return False
    mapping.update(trial)
    return True


def _described(t: BlockType) -> str:
    if t.kind == "package":
        return f"an instance of package '{t.name}'"
    return f"a {t.kind} like {signature(t)}"


def _package_text(given: PackageInstance) -> str:
    """A package instance's type with its type arguments: Pipeline<headers_t, meta_t>."""
    args = [str(given.type_bindings.get(n, "_")) for n in given.package.type_params]
    return f"{given.name}<{', '.join(args)}>" if args else given.name


def _expected_text(expected: BlockType, mapping: dict) -> str:
    args = getattr(expected, "type_args", None) or []
    return f"{expected.name}<{', '.join(str(substitute(a, mapping)) for a in args)}>" if args else expected.name


def _type_variable_names(t) -> set[str]:
    """The type variables a package parameter's type mentions (a block type's through its type arguments
    or the types of its apply parameters)."""
    if isinstance(t, TypeVar):
        return {t.name}
    out = set()
    for a in getattr(t, "type_args", None) or ():
        out |= _type_variable_names(a)
    if isinstance(t, BlockType):
        for p in t.params:
            out |= _type_variable_names(p.type)
    return out


def _renamed(a, b) -> bool:
    """Whether either declaration has an @name: without, equal names are a duplicate declaration, reported
    as such."""
    return A.find_annotation(a.annotations, "name") is not None or A.find_annotation(b.annotations, "name") is not None


def _unify(expected: Type, given: Type, mapping: dict) -> bool:
    if isinstance(expected, TypeVar):
        bound = mapping.get(expected.name)
        if bound is None:
            mapping[expected.name] = given
            return True
        return same_type(bound, given)
    return same_type(strip_newtype(expected), strip_newtype(given)) or same_type(expected, given)


def _direction(d: str) -> str:
    return f"'{d}'" if d else "directionless"


def signature(t: BlockType) -> str:
    """A parser or control type as it is declared: Name(dir type name, ...)."""
    params = ", ".join(f"{(p.direction + ' ') if p.direction else ''}{p.type} {p.name}" for p in t.params)
    return f"{t.name}({params})"


def _constructor_arguments(e: A.Expression) -> list:
    """The arguments a block given to a package was constructed with: `P(args)` or a named instance's."""
    if isinstance(e, A.ConstructorCall):
        return list(e.args)
    sym = getattr(e, "ref", None)
    decl = getattr(sym, "decl", None)
    if isinstance(decl, A.Instantiation):
        return list(decl.args)
    return []
