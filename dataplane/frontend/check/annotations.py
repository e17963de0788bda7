"""Checking of annotations whose meaning the compiler relies on."""

from __future__ import annotations

import re

from .. import ast as A
from .base import CheckerBase

# @p4runtime_translation("uri", T): T is the type a P4Runtime controller uses for values of the annotated
# type: bit<W> with a literal width, string, or a bare width (P4Runtime's "translated type").
_TRANSLATION = re.compile(r'\s*"(?:[^"\\]|\\.)*"\s*,\s*(?P<type>.*?)\s*', re.S)
_TRANSLATED_TYPE = re.compile(r'bit\s*<\s*(?:\d+|0[xX][0-9a-fA-F]+)\s*>|string|\d+|0[xX][0-9a-fA-F]+')


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
            elif isinstance(node, A.Annotation) and node.name == "p4runtime_translation":
                self._check_p4runtime_translation(node)

    def _check_p4runtime_translation(self, ann: A.Annotation) -> None:
        m = _TRANSLATION.fullmatch(ann.body or "") if not ann.structured else None
        if m is not None and _TRANSLATED_TYPE.fullmatch(m.group("type")):
            return
        shown = m.group("type") if m is not None else None
        what = f"not '{shown}'" if shown else "as its second argument"
        self.error(f"@p4runtime_translation needs a URI string and then bit<W>, string or a width, {what}",
                   getattr(ann, "body_span", ann.span),
                   'for example @p4runtime_translation("example.org/v1/PortId_t", bit<32>)')
