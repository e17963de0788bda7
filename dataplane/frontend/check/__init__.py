"""The checker: an ordered list of passes over the AST.

Each pass has one job and a verb for a name; they share state through the
:class:`Checker` (scopes, diagnostics, what earlier passes found). After a
pass that reports errors, later passes still run where they can, so that a
user sees every independent error at once; passes that need a sound result
from an earlier one (the architecture check needs the blocks) skip what is
already broken.
"""

from __future__ import annotations

from ...diagnostics import DiagnosticBag
from .. import ast as A
from .annotations import AnnotationsMixin
from .architecture import ArchitectureMixin, PackageInstance
from .base import Callable, ParamInfo
from .calls import CallsMixin
from .declarations import DeclarationsMixin
from .expressions import ExpressionsMixin
from .parsers import ParsersMixin
from .statements import StatementsMixin
from .tables import TableKey, TablesMixin


class Checker(DeclarationsMixin, ExpressionsMixin, CallsMixin, StatementsMixin, ParsersMixin, TablesMixin,
              ArchitectureMixin, AnnotationsMixin):
    def __init__(self, program: A.Program, diags: DiagnosticBag | None = None, source=None):
        super().__init__(program, diags, source)
        self.top_level_actions: list[A.ActionDeclaration] = []
        self.functions: list[A.FunctionDeclaration] = []

    # The passes, in order. Each is a method of this class.
    PASSES = (
        "check_annotations",      # @name gives a string a control plane can address
        "collect_declarations",   # register top-level names; resolve types; evaluate constants
        "check_annotation_values",  # structured annotations of top-level declarations hold constants
        "check_parsers",          # states, transitions, select keysets, reachability
        "check_controls",         # locals, actions, tables, apply blocks, functions
        "check_architecture",     # main: the package instance and the blocks that fill it
        "check_control_plane_names",  # no two actions, no two table instances share a control-plane name
    )

    def run(self) -> "Checker":
        for name in self.PASSES:
            getattr(self, name)()
        return self


__all__ = ["Checker", "Callable", "ParamInfo", "PackageInstance", "TableKey"]
