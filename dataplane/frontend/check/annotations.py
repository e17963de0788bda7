"""Checking of annotations whose meaning the compiler relies on."""

from __future__ import annotations

import re

from ...diagnostics import DiagnosticError
from .. import ast as A
from ..build_ast import parse_annotation_args
from ..types import BitsType, BoolType, IntType, StringType, strip_newtype
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
        checked_lists: set[int] = set()      # an extern function shares its annotations with its prototype
        for node in self.program.walk():
            annotations = getattr(node, "annotations", None)
            if annotations and id(annotations) not in checked_lists:
                checked_lists.add(id(annotations))
                self._check_structured_names_unique(annotations)
                self._check_no_type_parameters_in_values(annotations, getattr(node, "type_params", None) or [])
            if not isinstance(node, A.Annotation):
                continue
            if node.structured:
                self._check_structured_annotation(node)
            elif node.name in self._ANNOTATION_BODY_CHECKS:
                getattr(self, self._ANNOTATION_BODY_CHECKS[node.name])(node)

    # Annotations of the P4 specification whose body has a fixed form.
    _ANNOTATION_BODY_CHECKS = {
        "name": "_check_name_annotation",
        "p4runtime_translation": "_check_p4runtime_translation",
        "deprecated": "_check_deprecated",
        "match": "_check_match_annotation",
        "pkginfo": "_check_pkginfo",
    }

    def _check_name_annotation(self, ann: A.Annotation) -> None:
        self.control_plane_name([ann])

    def _check_structured_names_unique(self, annotations: list[A.Annotation]) -> None:
        """A structured annotation gives its name one value: no other annotation of the element may have
        that name (P4_16 18.3)."""
        by_name: dict[str, list[A.Annotation]] = {}
        for ann in annotations:
            by_name.setdefault(ann.name, []).append(ann)
        for name, same in by_name.items():
            if len(same) > 1 and any(a.structured for a in same):
                culprit = next((a for a in same[1:] if a.structured), same[1])
                self.error(f"@{name} is given more than once, and one of them is a structured annotation",
                           culprit.span, "a structured annotation's name may appear only once on an element")

    def check_annotation_values(self) -> None:
        """The values of a structured annotation are compile-time constants of type int, bit<W>, int<W>, bool or
        string (P4_16 18.3). Checked on top-level declarations, whose annotations see the program's
        top-level names, once all of them are declared; string concatenations are left as they are."""
        for decl in self.program.declarations:
            if getattr(decl, "type_params", None):
                continue        # a use of a type parameter is reported by check_annotations
            for ann in getattr(decl, "annotations", None) or ():
                if not ann.structured:
                    continue
                try:
                    args = parse_annotation_args(ann)
                except DiagnosticError:
                    continue    # reported by check_annotations
                for arg in args:
                    if not _holds_aggregate(arg.value) and not _is_string_concatenation(arg.value) and \
                            self._names_declared(arg.value):
                        self._check_annotation_value(ann, arg.value)

    def _names_declared(self, value: A.Expression) -> bool:
        """Whether every name in value is declared: annotation bodies are not macro-expanded here, so an
        unknown name may be a macro that the annotation's consumer expands; it is left unchecked."""
        return all(self.globals.lookup(n.name) is not None for n in value.walk() if isinstance(n, A.Name))

    def _check_annotation_value(self, ann: A.Annotation, value: A.Expression) -> None:
        span = getattr(ann, "body_span", ann.span)
        t = self.check_expression(value, self.globals)
        if t is None:
            return
        if not isinstance(strip_newtype(t), (IntType, BitsType, BoolType, StringType)):
            self.error(f"a value of structured annotation @{ann.name} has type {t}; it must be an int, bit<W>, "
                       f"int<W>, bool or string", span)
        elif getattr(value, "const", None) is None:
            self.error(f"a value of structured annotation @{ann.name} must be a compile-time constant", span)

    def _check_no_type_parameters_in_values(self, annotations: list[A.Annotation], type_params: list[str]) -> None:
        """The values of a structured annotation are compile-time constants: a type parameter of the annotated
        declaration, which names a type, cannot be one."""
        if not type_params:
            return
        for ann in annotations:
            if not ann.structured:
                continue
            try:
                args = parse_annotation_args(ann)
            except DiagnosticError:
                continue        # reported where the annotation itself is checked
            for arg in args:
                for n in arg.value.walk() if arg.value is not None else ():
                    if isinstance(n, A.Name) and n.name in type_params:
                        self.error(f"'{n.name}' is a type parameter, so it cannot be used as a value of "
                                   f"structured annotation @{ann.name}", getattr(ann, "body_span", ann.span))

    def _annotation_args(self, ann: A.Annotation) -> list[A.Argument] | None:
        body = (ann.body or "").rstrip()
        if ann.structured and body.endswith(","):
            # A structured annotation's list may end with a comma, as other lists of P4 may.
            ann = A.Annotation(ann.name, body[:-1], True, span=ann.span)
        try:
            return parse_annotation_args(ann)
        except DiagnosticError as exc:
            self.diags.extend(exc.diagnostics)
            return None

    def _check_structured_annotation(self, ann: A.Annotation) -> None:
        """@name[...] holds either expressions or key=value pairs with distinct keys; each value is an
        int, string or bool (P4_16 18.3)."""
        args = self._annotation_args(ann)
        if not args:
            return
        span = getattr(ann, "body_span", ann.span)
        named = [a.name is not None for a in args]
        if any(named) and not all(named):
            self.error(f"@{ann.name} mixes key=value pairs with plain expressions", span,
                       "a structured annotation holds either expressions or key=value pairs")
            return
        keys: set[str] = set()
        for arg in args:
            if arg.name is not None:
                if arg.name in keys:
                    self.error(f"@{ann.name} gives the key '{arg.name}' twice", span)
                keys.add(arg.name)
            if _holds_aggregate(arg.value):
                self.error(f"a value of structured annotation @{ann.name} must be an int, string or bool "
                           "expression", span)

    def _check_deprecated(self, ann: A.Annotation) -> None:
        args = self._annotation_args(ann)
        if args is None:
            return
        if len(args) != 1 or args[0].name is not None or not _may_be_string(args[0].value):
            self.error("@deprecated needs a string: the message shown where the declaration is used",
                       getattr(ann, "body_span", ann.span), '@deprecated("use f2 instead")')

    def _check_match_annotation(self, ann: A.Annotation) -> None:
        """@match on a value-set field names the match kind of that field."""
        args = self._annotation_args(ann)
        if args is None:
            return
        if len(args) != 1 or args[0].name is not None or not isinstance(args[0].value, A.Name):
            self.error("@match needs the name of a match kind, such as @match(ternary)",
                       getattr(ann, "body_span", ann.span))

    def _check_pkginfo(self, ann: A.Annotation) -> None:
        args = self._annotation_args(ann) if ann.body is not None else []
        if args is None:
            return
        if not args or any(a.name is None for a in args):
            self.error("@pkginfo needs key=value pairs, such as @pkginfo(version=\"1.0\")",
                       getattr(ann, "body_span", ann.span))

    def _check_p4runtime_translation(self, ann: A.Annotation) -> None:
        m = _TRANSLATION.fullmatch(ann.body or "") if not ann.structured else None
        if m is not None and _TRANSLATED_TYPE.fullmatch(m.group("type")):
            return
        shown = m.group("type") if m is not None else None
        what = f"not '{shown}'" if shown else "as its second argument"
        self.error(f"@p4runtime_translation needs a URI string and then bit<W>, string or a width, {what}",
                   getattr(ann, "body_span", ann.span),
                   'for example @p4runtime_translation("example.org/v1/PortId_t", bit<32>)')


def _may_be_string(e: A.Expression | None) -> bool:
    """Whether e can be a string: a literal, a concatenation of such, or a name whose value is not known
    before declarations are resolved."""
    if isinstance(e, A.Binary):
        return e.op == "++" and _may_be_string(e.left) and _may_be_string(e.right)
    return isinstance(e, (A.StringLiteral, A.Name, A.Call, A.Member))


def _is_string_concatenation(e: A.Expression) -> bool:
    return isinstance(e, A.Binary) and e.op == "++" and _may_be_string(e)


def _holds_aggregate(value: A.Expression | None) -> bool:
    """Whether a structured annotation's value is '_' or holds a list or struct expression."""
    return value is None or any(isinstance(n, (A.ListExpression, A.StructExpression, A.DontCare))
                                for n in value.walk())
