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
        return inst

    # ------------------------------------------------------------------ pass: check architecture

    def check_architecture(self) -> None:
        main = self.globals.lookup_local("main")
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
