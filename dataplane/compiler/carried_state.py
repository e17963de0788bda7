"""Which constructs carry state from one packet to the next: the one rule for the batch engine and shards.

    why = carried_state(program)        # None, or the first such construct
    why.what, why.span, why.sentence()  # "writing the register 'r'", its call, "... (prog.p4:12)"

A program whose packets are independent gives each packet the same result
whatever came before it: the batch engine may run them as columns, and
`replay --shards` may replay contiguous pieces of a capture on different
workers and join the outputs. Everything else keeps them out, found here
from the checked program, in the pipeline's order (parser, verify, ingress,
egress, compute, deparser; in each, in source order, following calls into
actions, functions and sub-blocks):

- writing a register (its cells hold what earlier packets wrote; reading one
  is fine: its values come from the control plane, set before the replay);
- a meter (execute_meter, or a table's direct meter): its colour depends on
  the packets before;
- random(), hash() with HashAlgorithm.random, an action selector choosing
  with HashAlgorithm.random: one random sequence runs through the packets;
- recirculate, resubmit, clone (every v1model spelling, with field lists or
  not): on a switch the packet comes back, or its copy leaves, among the
  packets that follow; dataplane happens to finish it within its own packet,
  but the rule is the architecture's, not one engine's;
- digest(): messages to the control plane, which learns from them between
  packets.

Counters are fine (P4 cannot read them; shards' counts add up), as are
hash() with the other algorithms, checksums, log_msg, assert and truncate.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from ..frontend import ast as A
from ..frontend.types import EnumType, strip_newtype
from .effects import _callee_nodes

# v1model extern functions, by name, that carry state or send packets among later ones.
STATEFUL_FUNCTIONS = frozenset({
    "random", "digest",
    "recirculate", "recirculate_preserving_field_list",
    "resubmit", "resubmit_preserving_field_list",
    "clone", "clone3", "clone_preserving_field_list",
})


class NamedConstruct:
    """A construct named for a sentence (`what`) at its source (`span`): "the register 'r' (prog.p4:12)".
    Shared by the reasons a program carries state and a construct the batch engine does not run."""
    what: str
    span: object

    def location(self) -> str:
        span = self.span
        if span is None or getattr(span, "source", None) is None:
            return ""
        return f"{os.path.basename(span.path)}:{span.line}"

    def sentence(self) -> str:
        where = self.location()
        return f"{self.what} ({where})" if where else self.what


@dataclass(frozen=True)
class CarriedState(NamedConstruct):
    """A construct that carries state from one packet to the next: what it is, and where."""
    what: str
    span: object = None


def carried_state(program) -> CarriedState | None:
    """The first construct of `program` (a CompiledProgram or a CheckedProgram) that carries state from one
    packet to the next, or None when its packets are independent."""
    for found in _findings(getattr(program, "checked", program)):
        return found
    return None


def _findings(checked):
    arch = checked.architecture
    if arch is None:
        return
    seen: set[int] = set()
    for p in arch.package.params:
        block = arch.blocks.get(p.name)
        if block is not None and getattr(block, "decl", None) is not None:
            yield from _in_declaration(block.decl, seen)


def _in_declaration(decl, seen: set):
    """The findings of one declaration and of everything it calls that is declared elsewhere."""
    if id(decl) in seen:
        return
    seen.add(id(decl))
    for node in decl.walk():
        if isinstance(node, A.Declaration) and node is not decl:
            if id(node) in seen:
                continue
            seen.add(id(node))          # walked here: not again when a call leads to it
        if isinstance(node, A.TableDeclaration):
            yield from _in_table(node)
        elif isinstance(node, A.Call):
            callee = getattr(node, "callee", None)
            if callee is None:
                continue
            found = _in_call(node, callee)
            if found is not None:
                yield found
            for other in _callee_nodes(callee):
                yield from _in_declaration(other, seen)


def _in_table(table: A.TableDeclaration):
    if getattr(table, "direct_meter", None) is not None:
        prop = table.property("meters")
        yield CarriedState(f"the direct meter '{table.direct_meter}' of table '{table.name}'",
                           prop.span if prop is not None else table.span)
    impl = getattr(table, "implementation", None)
    if impl is not None and getattr(impl, "with_selector", False) and impl.algorithm == "random":
        prop = table.property("implementation")
        yield CarriedState(f"the action selector of table '{table.name}' with HashAlgorithm.random",
                           prop.span if prop is not None else table.span)


def _in_call(call: A.Call, callee) -> CarriedState | None:
    if callee.kind == "extern_function":
        if callee.name in STATEFUL_FUNCTIONS:
            return CarriedState(f"{callee.name}()", call.span)
        if callee.name == "hash" and _is_random(call.bound[1] if len(call.bound) > 1 else None):
            return CarriedState("hash() with HashAlgorithm.random", call.span)
        return None
    if callee.kind != "extern_method":
        return None
    extern = getattr(callee.owner, "name", None)
    name = _receiver_name(callee.receiver)
    if extern == "register" and callee.name == "write":
        return CarriedState(f"writing the register{name}", call.span)
    if extern == "meter" and callee.name == "execute_meter":
        return CarriedState(f"the meter{name}", call.span)
    if extern == "direct_meter" and callee.name == "read":
        return CarriedState(f"the direct meter{name}", call.span)
    return None


def _receiver_name(receiver) -> str:
    """" 'name'" of an extern instance named directly, else nothing."""
    return f" '{receiver.name}'" if isinstance(receiver, A.Name) else ""


def _is_random(arg) -> bool:
    """Whether a HashAlgorithm argument is the constant HashAlgorithm.random (as the compiler reads it)."""
    t = strip_newtype(getattr(arg, "type", None))
    const = getattr(arg, "const", None)
    return isinstance(t, EnumType) and t.name == "HashAlgorithm" and isinstance(const, int) and \
        not t.is_serializable and t.members[const] == "random"


__all__ = ["STATEFUL_FUNCTIONS", "CarriedState", "carried_state"]
