"""The front end as one call: a P4 file in, a checked program (or diagnostics) out.

    preprocess -> tokenize and parse -> build the AST -> check (Checker.PASSES)

``load_program`` raises :class:`~dataplane.diagnostics.DiagnosticError` with
every error found; warnings travel with the result.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from ..diagnostics import Diagnostic, DiagnosticBag, DiagnosticError, SourceFile
from . import ast as A
from .build_ast import build_ast
from .check import Checker, PackageInstance
from .parser import parse_tree
from .preprocess import preprocess, read_source
from .types import bit_width


@dataclass
class CheckedProgram:
    path: str
    ast: A.Program
    checker: Checker
    warnings: list[Diagnostic] = field(default_factory=list)

    @property
    def architecture(self) -> PackageInstance | None:
        return self.checker.architecture

    @property
    def parsers(self) -> list[A.ParserDeclaration]:
        return self.checker.parsers

    @property
    def controls(self) -> list[A.ControlDeclaration]:
        return self.checker.controls

    @property
    def tables(self) -> list[A.TableDeclaration]:
        return self.checker.tables

    def user_declarations(self) -> list:
        """Declarations written in the program's own files (not in the architecture includes)."""
        from .preprocess import system_include_dir
        sysdir = os.path.realpath(system_include_dir())
        out = []
        for d in self.ast.declarations:
            src = d.span.source
            if src is None or not os.path.realpath(src.path).startswith(sysdir + os.sep):
                out.append(d)
        return out

    def headers(self) -> list[A.HeaderDeclaration]:
        return [d for d in self.user_declarations() if isinstance(d, (A.HeaderDeclaration, A.HeaderUnionDeclaration))]

    def externs_used(self) -> list[tuple[str, str, str]]:
        """(block, instance, extern type) for every extern instance of the program."""
        out = []
        for block in list(self.controls) + list(self.parsers):
            for inst in getattr(block, "instances", []):
                t = getattr(inst, "instance_type", None)
                out.append((block.name, inst.name, str(t) if t is not None else "?"))
        return out


def check_source(source: SourceFile, include_dirs: list[str] | None = None,
                 defines: dict[str, str] | None = None, library: bool = False) -> CheckedProgram:
    """Check a program; a `library` (such as inet.p4) is checked without requiring a main package."""
    pre = preprocess(source, include_dirs, defines)
    tree, _ = parse_tree(pre)
    program = build_ast(tree, pre)
    diags = DiagnosticBag()
    diags.extend(pre.warnings)
    checker = Checker(program, diags, source)
    if library:
        checker.PASSES = tuple(p for p in checker.PASSES if p != "check_architecture")
    checker.run()
    if diags.has_errors:
        raise DiagnosticError(diags.items)
    return CheckedProgram(source.path, program, checker, diags.warnings())


def load_program(path: str, include_dirs: list[str] | None = None,
                 defines: dict[str, str] | None = None) -> CheckedProgram:
    """Preprocess, parse and check a P4 program file."""
    return check_source(read_source(path), include_dirs, defines)


def summary(prog: CheckedProgram) -> str:
    """The short description `dataplane check` prints for a valid program."""
    lines = [f"{prog.path}: ok"]
    arch = prog.architecture
    if arch is not None:
        roles = ", ".join(f"{role}={b.name}" for role, b in arch.blocks.items())
        lines.append(f"architecture: {arch.name}({roles})")
    headers = prog.headers()
    if headers:
        lines.append(f"headers ({len(headers)}):")
        for h in headers:
            t = getattr(h, "resolved", None)
            w = bit_width(t) if t is not None else None
            kind = "header_union" if isinstance(h, A.HeaderUnionDeclaration) else "header"
            size = f"{w // 8} bytes" if w is not None and w % 8 == 0 else (f"{w} bits" if w is not None else "variable size")
            lines.append(f"  {kind} {h.name}: {len(h.fields)} fields, {size}")
    for p in prog.parsers:
        reachable = getattr(p, "reachable_states", p.states)
        lines.append(f"parser {p.name}: {len(p.states)} states ({', '.join(s.name for s in reachable)})")
    for c in prog.controls:
        tables = getattr(c, "tables", [])
        actions = getattr(c, "actions", [])
        lines.append(f"control {c.name}: {len(tables)} tables, {len(actions)} actions")
        for t in tables:
            keys = ", ".join(f"{k.name}:{k.match_kind}" for k in t.keys + getattr(t, "selector_keys", [])) \
                or "no key"
            acts = ", ".join(r.name for r in t.action_refs)
            default = t.default.name if t.default is not None else "NoAction"
            impl = getattr(t, "implementation", None)
            lines.append(f"  table {t.name}: key {{{keys}}} actions {{{acts}}} default {default}"
                         + (f" size {t.size}" if t.size else "") + (f" via {impl.kind}" if impl else ""))
    externs = prog.externs_used()
    if externs:
        lines.append("externs: " + ", ".join(f"{b}.{i}: {t}" for b, i, t in externs))
    return "\n".join(lines)
