"""Checking of annotations whose meaning the compiler relies on."""

from __future__ import annotations

from .. import ast as A
from .base import CheckerBase


class AnnotationsMixin(CheckerBase):
    # ------------------------------------------------------------------ pass: check annotations

    def check_annotations(self) -> None:
        """Every @name, wherever it is, must give a name a control plane can use.

        The compiler reads @name only on tables, actions and keys, but a bad
        one elsewhere (on a field, a control, an extern instance) is as wrong
        and would surface later in a control-plane tool, so all are checked."""
        for node in self.program.walk():
            if isinstance(node, A.Annotation) and node.name == "name":
                self.control_plane_name([node])
