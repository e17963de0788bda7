"""State shared by the checker passes, and small helpers for diagnostics."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field

from ...diagnostics import Diagnostic, DiagnosticBag, DiagnosticError, Span
from .. import ast as A
from ..build_ast import name_annotation_value
from ..scope import Scope, Symbol
from ..types import Type


@dataclass
class ParamInfo:
    """A parameter of something callable, after substituting type arguments."""
    name: str
    direction: str
    type: Type
    default: A.Expression | None = None
    optional: bool = False
    span: Span | None = None


@dataclass
class Callable:
    """The resolved target of a call.

    kind: extern_method, extern_function, action, function, table_apply,
    block_apply (a parser or control instance), header_method, stack_method,
    union_method.
    receiver: the expression the method is called on (methods only)."""
    kind: str
    name: str
    params: list[ParamInfo]
    return_type: Type
    decl: object = None
    receiver: A.Expression | None = None
    type_params: list[str] = field(default_factory=list)
    owner: object = None        # ExternType, TableType, BlockType, StructLikeType ...


class CheckerBase:
    """Holds the program, the global scope and the diagnostics of one check."""

    def __init__(self, program: A.Program, diags: DiagnosticBag | None = None, source=None):
        self.program = program
        self.source = source      # the main SourceFile, for errors about the program as a whole
        self.diags = diags if diags is not None else DiagnosticBag()
        self.globals = Scope(kind="global")
        self.error_members: dict[str, Span] = {}
        self.match_kinds: dict[str, Span] = {}
        self.main: Symbol | None = None
        # Filled by the passes, read by later stages (the compiler).
        self.parsers: list[A.ParserDeclaration] = []
        self.controls: list[A.ControlDeclaration] = []
        self.tables: list[A.TableDeclaration] = []
        self.architecture = None
        # id(struct-like type) -> its nesting (see DeclarationsMixin.type_nesting)
        self._struct_nesting: dict[int, int] = {}

    # -- diagnostics -----------------------------------------------------------------------------

    def error(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diags.error(message, span, hint)

    def warning(self, message: str, span: Span | None, hint: str | None = None) -> None:
        self.diags.warning(message, span, hint)

    def error_with_note(self, message: str, span: Span | None, note: str, note_span: Span | None,
                        hint: str | None = None) -> None:
        d = Diagnostic("error", message, span, hint)
        if note_span is not None and note_span.source is not None:
            d.notes.append(Diagnostic("note", note, note_span))
        self.diags._add(d)

    def control_plane_name(self, annotations: list[A.Annotation] | None) -> str | None:
        """The name that an @name among annotations gives, or None without a usable one.

        A bad @name is reported (once, however many passes ask) and then
        treated as absent, so that checking goes on with the declared name."""
        ann = A.find_annotation(annotations, "name")
        if ann is None:
            return None
        try:
            return name_annotation_value(ann)
        except DiagnosticError as exc:
            self.diags.extend(exc.diagnostics)
            return None

    @staticmethod
    def did_you_mean(name: str, candidates) -> str | None:
        matches = difflib.get_close_matches(name, list(candidates), n=1, cutoff=0.7)
        return f"did you mean '{matches[0]}'?" if matches else None

    def declare(self, scope: Scope, sym: Symbol) -> bool:
        """Add a symbol; report a duplicate (with the earlier declaration) and return False."""
        old = scope.lookup_local(sym.name)
        if old is not None:
            self.error_with_note(f"'{sym.name}' is already declared in this scope", sym.span,
                                 f"'{sym.name}' was declared here", old.span)
            return False
        shadowed = scope.parent.lookup(sym.name) if scope.parent is not None else None
        if shadowed is not None and shadowed.kind == "param" and sym.kind in ("var", "const", "instance"):
            # A parameter hidden by a local would make every later use of the name ambiguous to a reader;
            # p4c refuses it too (a local hiding anything else is allowed).
            self.error_with_note(f"the declaration of '{sym.name}' hides the parameter '{sym.name}'", sym.span,
                                 f"parameter '{sym.name}' is declared here", shadowed.span,
                                 "give the local declaration another name")
        scope.symbols[sym.name] = sym
        return True


def decl_span(decl, fallback: Span | None = None) -> Span | None:
    """The span of a declaration's name where we know it, else of the declaration."""
    return getattr(decl, "name_span", None) or getattr(decl, "span", None) or fallback
