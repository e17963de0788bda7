"""Checking of package instantiations (such as V1Switch(...) main) against the architecture."""

from __future__ import annotations

from dataclasses import dataclass, field

from ...diagnostics import Span
from .. import ast as A
from ..scope import Scope
from ..types import BlockType, Type, TypeVar, same_type, strip_newtype
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


NO_MAIN = "the program has no 'main' instance"
NO_MAIN_HINT = ("end a v1model program with: V1Switch(MyParser(), MyVerifyChecksum(), MyIngress(), MyEgress(), "
                "MyComputeChecksum(), MyDeparser()) main;")


class ArchitectureMixin(CheckerBase):

    def check_package_arguments(self, pkg: BlockType, args: list[A.Argument], span, scope: Scope):
        inst = PackageInstance(pkg)
        mapping: dict[str, Type] = {}
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
            if not isinstance(given, BlockType) or given.is_declaration_only:
                self.error(f"{role} must be a {expected.kind}, not {given}", arg.value.span)
                continue
            if given.kind != expected.kind:
                self.error(f"{role} must be a {expected.kind} like {_signature(expected)}, but "
                           f"'{given.name}' is a {given.kind}", arg.value.span)
                continue
            if len(given.params) != len(expected.params):
                self.error(f"{role} must be a {expected.kind} with {len(expected.params)} parameters like "
                           f"{_signature(expected)}, but '{given.name}' has {len(given.params)}",
                           arg.value.span, f"'{given.name}' is declared as {_signature(given)}")
                continue
            for gp, ep in zip(given.params, expected.params):
                if gp.direction != ep.direction:
                    self.error(f"parameter '{gp.name}' of '{given.name}' must be "
                               f"{_direction(ep.direction)} to match {_signature(expected)}",
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


def _signature(t: BlockType) -> str:
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
