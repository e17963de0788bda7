"""simple_switch_CLI's commands on a device: one parser, shared by STF files and `dataplane cli`.

    cli = SwitchCli(device)
    lines = cli.execute("table_add MyIngress.ipv4_lpm ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1")

The words and their syntax are BMv2's simple_switch_CLI (runtime_CLI.py):

    table_add <table> <action> <match fields> => <action parameters> [<priority>]
    table_modify <table> <action> <handle> [<action parameters>]
    table_delete <table> <handle>; table_set_default <table> <action> [<action parameters>]
    table_reset_default <table>; table_clear <table>; table_num_entries <table>
    table_dump <table>; table_dump_entry <table> <handle>; table_info <table>; table_show_actions <table>
    show_tables; show_actions
    counter_read <name> <index>; counter_write <name> <index> <packets> <bytes>; counter_reset <name>
    register_read <name> [<index>]; register_write <name> <index> <value>; register_reset <name>
    meter_set_rates <name> <index> <rate>:<burst> <rate>:<burst>; meter_get_rates <name> <index>
    mirroring_add <session> <port>
    mc_mgrp_create <group>; mc_mgrp_destroy <group>; mc_node_create <rid> <port>...;
    mc_node_update <node> <port>...; mc_node_associate <group> <node>; mc_node_dissociate <group> <node>;
    mc_node_destroy <node>; mc_dump
    act_prof_create_member, act_prof_modify_member, act_prof_delete_member, act_prof_create_group,
    act_prof_delete_group, act_prof_add_member_to_group, act_prof_remove_member_from_group,
    table_indirect_add, table_indirect_add_with_group, table_indirect_set_default,
    table_indirect_set_default_with_group, table_indirect_reset_default

Match fields are one per key in order: <value> (exact), <value>/<length> (lpm), <value>&&&<mask>
(ternary) or <lo>-><hi> (range). Values are decimal, 0x hex, MAC (08:00:00:00:01:11), IPv4 or IPv6
notation. As in BMv2, a smaller priority wins (dataplane's tables let the larger win: the priority
is stored as 2^31-1 minus the one given, and shown back as given). Handles (entries, members,
groups) are numbered from 0 in order of creation; a multicast node gets the smallest handle not in
use, so a destroyed node's handle is handed out again, as BMv2's handle manager does.

Errors are CommandError: the message for the user, where it is in the command (a column and a
length, for STF's located diagnostics) and simple_switch_CLI's words for the kind of failure
(`Invalid table operation (DUPLICATE_ENTRY)`, `Invalid match key`, `Error`), which the
interactive shell prints before the message.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Callable

from ..arch.v1model import check_clone_session, check_mcast_group, check_port, check_rid
from ..runtime.device import Device
from ..runtime.errors import ControlPlaneError
from ..runtime.externs import Counter, DirectCounter, DirectMeter, Meter, MeterCell, Register
from ..runtime.profiles import IndirectTable
from ..runtime.tables import KeySpec, MatchValue, Table
from .values import ValueError_, parse_match, parse_scalar

Word = tuple[str, int]             # a word of a command and its column (1-based)

# A number as STF and the CLI write them, optionally negative (the range check after parsing says
# whether a negative value makes sense, so that '-1' gets "out of range" rather than "not a number").
NUMBER = re.compile(r"-?(?:0[xX][0-9a-fA-F]+|0[bB][01]+|0[oO][0-7]+|[0-9]+)")
# A meter rate (units per microsecond, as BMv2's meter_set_rates takes it).
_RATE = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][-+]?[0-9]+)?")
MAX_PRIORITY = (1 << 31) - 1       # BMv2 keeps entry priorities in a signed 32-bit int


class CommandError(Exception):
    """A command that cannot be done. `where` is (column, length) in the command, or None for the
    whole command; `words` are simple_switch_CLI's for the kind of failure."""

    def __init__(self, message: str, where: tuple[int, int] | None = None, hint: str | None = None,
                 words: str = "Error"):
        super().__init__(message)
        self.message, self.where, self.hint, self.words = message, where, hint, words

    def one_line(self) -> str:
        """The error as the interactive shell prints it: simple_switch_CLI's words, then ours."""
        return f"{self.words}: {self.message}"


def words_of(text: str, col: int = 1) -> list[Word]:
    """The words of `text`, each with its column; `col` is the column of text's first character."""
    return [(m.group(0), col + m.start()) for m in re.finditer(r"\S+", text)]


def span(first: Word, last: Word | None = None) -> tuple[int, int]:
    """(column, length) from the start of `first` to the end of `last`."""
    last = last or first
    return first[1], max(1, last[1] + len(last[0]) - first[1])


def number(word: Word, what: str, low: int | None = 0, high: int | None = None) -> int:
    """A number (decimal, 0x, 0b, 0o; ASCII digits) in low..high (None: no bound)."""
    text, col = word
    where = (col, max(1, len(text)))
    if not NUMBER.fullmatch(text):
        raise CommandError(f"{what} must be a number, not '{text}'", where,
                           "numbers are decimal, 0x hex, 0b binary or 0o octal, in ASCII digits")
    body = text.lstrip("-")
    try:
        n = int(body, 0) if body[:2].lower() in ("0x", "0b", "0o") else int(body, 10)
    except ValueError:      # Python refuses to convert thousands of decimal digits
        raise CommandError(f"{what} {text[:20]}... has too many digits", where) from None
    n = -n if text.startswith("-") else n
    if low == 0 and n < 0:
        raise CommandError(f"{what} {text} is negative", where)
    if (low is not None and n < low) or (high is not None and n > high):
        bounds = f"{low}..{high}" if high is not None else f"{low} or more"
        raise CommandError(f"{what} {text} is out of range ({bounds})", where)
    return n


def match_field(key: KeySpec, text: str) -> MatchValue:
    """One match field as simple_switch_CLI writes it (<lo>-><hi> for a range)."""
    return parse_match(key, text.replace("->", ".."))


# BMv2's TableOperationErrorCode for our table errors, found by what the message says (first match wins).
_TABLE_CODES = (("already has an entry", "DUPLICATE_ENTRY"), ("is full", "TABLE_FULL"),
                ("has no entry with handle", "INVALID_HANDLE"), ("are const", "IMMUTABLE_TABLE_ENTRIES"),
                ("default action of table", "DEFAULT_ACTION_IS_CONST"), ("has no action", "INVALID_ACTION_NAME"),
                ("has no member", "INVALID_MBR_HANDLE"), ("has no group", "INVALID_GRP_HANDLE"),
                ("member", "MBR_STILL_USED", "still used"), ("group", "GRP_STILL_USED", "still used"),
                ("is already in group", "MBR_ALREADY_IN_GRP"), ("is not in group", "MBR_NOT_IN_GRP"),
                ("is empty", "EMPTY_GRP"), ("has no key", "NO_TABLE_KEY"), ("indirect", "WRONG_TABLE_TYPE"),
                ("has no selector", "NO_ACTION_PROFILE_SELECTION"), ("parameter", "BAD_ACTION_DATA"),
                ("argument", "BAD_ACTION_DATA"), ("key", "BAD_MATCH_KEY"), ("prefix length", "BAD_MATCH_KEY"),
                ("range", "BAD_MATCH_KEY"), ("priority", "BAD_MATCH_KEY"))


def table_error_code(message: str) -> str:
    for first, code, *also in _TABLE_CODES:
        if first in message and all(a in message for a in also):
            return code
    return "ERROR"


# What each kind of operation is called in simple_switch_CLI's errors, and its code for a bad index.
_OPERATIONS = {"table": "Invalid table operation", "register": "Invalid register operation",
               "counter": "Invalid counter operation", "meter": "Invalid meter operation",
               "PRE": "Invalid PRE operation"}


def operation_words(op: str, message: str) -> str:
    if op == "table":
        code = table_error_code(message)
    elif op == "PRE":
        code = "INVALID_MGID" if "group" in message else "INVALID_L1_HANDLE" if "node" in message else "ERROR"
    elif op == "meter" and "rate" in message:
        code = "BAD_RATES_LIST"
    else:
        code = "INVALID_INDEX" if "index" in message or "handle" in message else "ERROR"
    return f"{_OPERATIONS[op]} ({code})"


@dataclass
class McNode:
    """A node of mc_node_create: its replication id, its ports, and the group it joined."""
    rid: int
    ports: list[int]
    group: int | None = None


def port_map(ports: list[int]) -> str:
    """BMv2's port map of a node as its CLI prints it: one digit per port, port 0 rightmost."""
    return "".join("1" if p in ports else "0" for p in range(max(ports, default=-1), -1, -1))


@dataclass(frozen=True)
class CommandInfo:
    usage: str
    summary: str


def _info(usage: str, summary: str) -> CommandInfo:
    return CommandInfo(usage, summary)


# Every command: its usage line and what it does, for `help` and for completion.
COMMANDS: dict[str, CommandInfo] = {
    "show_tables": _info("show_tables", "list the tables with their key fields"),
    "show_actions": _info("show_actions", "list the actions with their parameters"),
    "table_info": _info("table_info <table>", "a table's key fields and actions"),
    "table_show_actions": _info("table_show_actions <table>", "a table's actions"),
    "table_num_entries": _info("table_num_entries <table>", "the number of entries of a table"),
    "table_dump": _info("table_dump <table>", "a table's entries and default action"),
    "table_dump_entry": _info("table_dump_entry <table> <handle>", "one entry of a table"),
    "table_add": _info("table_add <table> <action> <match fields> => <action parameters> [<priority>]",
                       "add an entry (match fields: v, v/len, v&&&mask, lo->hi; the smaller priority wins)"),
    "table_modify": _info("table_modify <table> <action> <handle> [<action parameters>]",
                          "change the action of an entry"),
    "table_delete": _info("table_delete <table> <handle>", "delete an entry"),
    "table_set_default": _info("table_set_default <table> <action> [<action parameters>]",
                               "set a table's default action"),
    "table_reset_default": _info("table_reset_default <table>", "back to the program's default action"),
    "table_clear": _info("table_clear <table>", "delete all entries of a table (the default action stays)"),
    "counter_read": _info("counter_read <counter> <index>", "a counter cell (for a direct counter: entry handle)"),
    "counter_write": _info("counter_write <counter> <index> <packets> <bytes>", "set a counter cell"),
    "counter_reset": _info("counter_reset <counter>", "set all cells of a counter to 0"),
    "register_read": _info("register_read <register> [<index>]", "a register cell, or all of them"),
    "register_write": _info("register_write <register> <index> <value>", "set a register cell"),
    "register_reset": _info("register_reset <register>", "set all cells of a register to 0"),
    "meter_set_rates": _info("meter_set_rates <meter> <index> <rate>:<burst> <rate>:<burst>",
                             "configure a meter cell (rates in units per microsecond)"),
    "meter_get_rates": _info("meter_get_rates <meter> <index>", "the rates of a meter cell"),
    "mirroring_add": _info("mirroring_add <session> <port>", "clone session to an egress port"),
    "mc_mgrp_create": _info("mc_mgrp_create <group>", "create a multicast group"),
    "mc_node_create": _info("mc_node_create <rid> <port>...", "create a multicast node (handles from 0)"),
    "mc_mgrp_destroy": _info("mc_mgrp_destroy <group>", "delete a multicast group (its nodes stay, dissociated)"),
    "mc_node_update": _info("mc_node_update <node> <port>...", "give a multicast node new ports"),
    "mc_node_associate": _info("mc_node_associate <group> <node>", "add a node to a multicast group"),
    "mc_node_dissociate": _info("mc_node_dissociate <group> <node>", "take a node out of its multicast group"),
    "mc_node_destroy": _info("mc_node_destroy <node>", "delete a multicast node (dissociated first)"),
    "mc_dump": _info("mc_dump", "the multicast groups and their ports"),
    "act_prof_create_member": _info("act_prof_create_member <profile> <action> [<value>...]",
                                    "create a member of an action profile"),
    "act_prof_modify_member": _info("act_prof_modify_member <profile> <action> <member> [<value>...]",
                                    "change a member's action"),
    "act_prof_delete_member": _info("act_prof_delete_member <profile> <member>", "delete a member"),
    "act_prof_create_group": _info("act_prof_create_group <profile>", "create a group of an action selector"),
    "act_prof_delete_group": _info("act_prof_delete_group <profile> <group>", "delete a group"),
    "act_prof_add_member_to_group": _info("act_prof_add_member_to_group <profile> <member> <group>",
                                          "add a member to a group"),
    "act_prof_remove_member_from_group": _info("act_prof_remove_member_from_group <profile> <member> <group>",
                                               "remove a member from a group"),
    "table_indirect_add": _info("table_indirect_add <table> <match fields> => <member> [<priority>]",
                                "an entry of an indirect table that runs a member"),
    "table_indirect_add_with_group": _info("table_indirect_add_with_group <table> <match fields> => <group> "
                                           "[<priority>]", "an entry that runs a member of a group"),
    "table_indirect_set_default": _info("table_indirect_set_default <table> <member>",
                                        "make a member the default"),
    "table_indirect_set_default_with_group": _info("table_indirect_set_default_with_group <table> <group>",
                                                   "make a group the default"),
    "table_indirect_reset_default": _info("table_indirect_reset_default <table>",
                                          "back to the program's default action"),
}

# What the argument at each position names, for completion: table, action (of the table before it),
# register, counter, meter, profile.
ARGUMENT_KINDS: dict[str, tuple[str, ...]] = {
    "table_add": ("table", "action"), "table_modify": ("table", "action"), "table_set_default": ("table", "action"),
    "table_delete": ("table",), "table_reset_default": ("table",), "table_clear": ("table",),
    "table_num_entries": ("table",), "table_dump": ("table",), "table_dump_entry": ("table",),
    "table_info": ("table",), "table_show_actions": ("table",), "table_indirect_add": ("table",),
    "table_indirect_add_with_group": ("table",), "table_indirect_set_default": ("table",),
    "table_indirect_set_default_with_group": ("table",), "table_indirect_reset_default": ("table",),
    "counter_read": ("counter",), "counter_write": ("counter",), "counter_reset": ("counter",),
    "register_read": ("register",), "register_write": ("register",), "register_reset": ("register",),
    "meter_set_rates": ("meter",), "meter_get_rates": ("meter",),
    "act_prof_create_member": ("profile", "action"), "act_prof_modify_member": ("profile", "action"),
    "act_prof_delete_member": ("profile",), "act_prof_create_group": ("profile",),
    "act_prof_delete_group": ("profile",), "act_prof_add_member_to_group": ("profile",),
    "act_prof_remove_member_from_group": ("profile",),
}


class SwitchCli:
    """simple_switch_CLI's commands on one device. Keeps what BMv2 keeps beside the device: the
    multicast nodes (mc_node_create hands out node handles, mc_node_associate uses them)."""

    def __init__(self, device: Device):
        self.dev = device
        self.mc_nodes: dict[int, McNode] = {}
        # A group's replicas are what it had before the CLI's nodes joined it (from runtime JSON, say), then
        # each node's in the order they joined, each node's ports in ascending order (BMv2's replication
        # order); kept per group so that dissociating, updating or destroying a node can rebuild it.
        self.mc_group_base: dict[int, list[tuple[int, int]]] = {}
        self.mc_group_nodes: dict[int, list[int]] = {}

    # ------------------------------------------------------------------ running

    def execute(self, line: str) -> list[str]:
        """Run one command line; returns what simple_switch_CLI would print. Errors: CommandError."""
        found = words_of(line)
        if not found:
            return []
        (name, col), rest_col = found[0], found[0][1] + len(found[0][0])
        return self.run(name, line[rest_col - 1:], rest_col)

    def run(self, name: str, rest: str, col: int) -> list[str]:
        """Run command `name` on `rest`, the text after it, whose first character is at column `col`.
        Errors: CommandError, or ControlPlaneError / ValueError_ for the command as a whole."""
        handler = getattr(self, "cmd_" + name, None) if name in COMMANDS else None
        if handler is None:
            raise CommandError(f"unknown command '{name}'", None, "type 'help' for the commands")
        # A ControlPlaneError the handler does not place goes to the caller, who knows the whole command.
        return handler(words_of(rest, col), col) or []

    @staticmethod
    def _at(where: tuple[int, int], fn: Callable, words: str = "Error"):
        """fn(), with a control-plane error it raises reported at `where` with simple_switch_CLI's `words`
        (or, for an operation kind such as "table", the words of that operation's error)."""
        try:
            return fn()
        except (ControlPlaneError, ValueError_) as exc:
            message = str(exc)
            kind = operation_words(words, message) if words in _OPERATIONS else words
            raise CommandError(message, where, words=kind) from None

    @staticmethod
    def _needs(command: str, col: int, what: str | None = None) -> CommandError:
        return CommandError(f"{command} needs {what or COMMANDS[command].usage.partition(' ')[2]}", (col, 1))

    def _exactly(self, w: list[Word], n: int, command: str, col: int) -> None:
        if len(w) != n:
            raise self._needs(command, col) if n else CommandError(
                f"{command} takes no arguments", span(w[0], w[-1]))

    # ------------------------------------------------------------------ names

    def table(self, word: Word) -> Table:
        return self._at(span(word), lambda: self.dev.table(word[0]), f"Error: Invalid table name ({word[0]})")

    def indirect_table(self, word: Word) -> IndirectTable:
        return self._at(span(word), lambda: self.dev.indirect_table(word[0]), "Invalid table operation "
                        "(WRONG_TABLE_TYPE)" if word[0] and self._has_table(word[0]) else
                        f"Error: Invalid table name ({word[0]})")

    def _has_table(self, name: str) -> bool:
        try:
            self.dev.table(name)
            return True
        except ControlPlaneError:
            return False

    def profile(self, word: Word):
        return self._at(span(word), lambda: self.dev.profile(word[0]), f"Error: Invalid action profile name "
                                                                        f"({word[0]})")

    def extern(self, word: Word, kind: str):
        return self._at(span(word), lambda: self.dev.extern(word[0], kind), f"Error: Invalid {kind} name ({word[0]})")

    def counter(self, word: Word):
        """A counter or a direct counter."""
        obj = self._at(span(word), lambda: self.dev.extern(word[0]), f"Error: Invalid counter name ({word[0]})")
        if not isinstance(obj, (Counter, DirectCounter)):
            raise CommandError(f"'{word[0]}' is not a counter", span(word),
                               words=f"Error: Invalid counter name ({word[0]})")
        return obj

    def names(self, kind: str, context: str | None = None) -> list[str]:
        """Names to complete: tables, actions (of table or profile `context`), registers, counters,
        meters or profiles; full names and the last part of each."""
        if kind == "table":
            full = list(self.dev.tables)
        elif kind == "profile":
            full = list(self.dev.profiles)
        elif kind == "action":
            owner = None
            if context:
                for lookup in (self.dev.table, self.dev.profile):
                    try:
                        owner = lookup(context)
                        break
                    except ControlPlaneError:
                        continue
            if isinstance(owner, IndirectTable):
                owner = owner.profile
            actions = owner.actions if owner is not None else [a for t in self.dev.tables.values() for a in t.actions]
            full = [a.name for a in actions]
        else:
            kinds = {"counter": ("counter", "direct_counter"), "meter": ("meter", "direct_meter"),
                     "register": ("register",)}.get(kind, (kind,))
            full = [n for n, obj in self.dev.externs.items() if getattr(obj, "kind", None) in kinds]
        short = [n.rsplit(".", 1)[-1] for n in full]
        return sorted(set(full) | {s for s in short if short.count(s) == 1})

    # ------------------------------------------------------------------ describing

    def cmd_show_tables(self, w, col):
        self._exactly(w, 0, "show_tables", col)
        return [_table_line(t) for _, t in sorted(self.dev.tables.items())]

    def cmd_show_actions(self, w, col):
        self._exactly(w, 0, "show_actions", col)
        actions = {a.name: a for t in self.dev.tables.values() for a in t.actions}
        return [_action_line(a) for _, a in sorted(actions.items())]

    def cmd_table_info(self, w, col):
        self._exactly(w, 1, "table_info", col)
        t = self.table(w[0])
        return [_table_line(t), "*" * 80] + [_action_line(a) for a in sorted(t.actions, key=lambda a: a.name)]

    def cmd_table_show_actions(self, w, col):
        self._exactly(w, 1, "table_show_actions", col)
        return [_action_line(a) for a in sorted(self.table(w[0]).actions, key=lambda a: a.name)]

    def cmd_table_num_entries(self, w, col):
        self._exactly(w, 1, "table_num_entries", col)
        return [str(len(self.table(w[0]).entries))]

    def cmd_table_dump(self, w, col):
        self._exactly(w, 1, "table_dump", col)
        t = self.table(w[0])
        out = ["==========", "TABLE ENTRIES"]
        for e in t.entries.values():
            out.append("**********")
            out.extend(self._entry_lines(t, e))
        if isinstance(t, IndirectTable):
            out.extend(self._profile_lines(t.profile))
        out += ["==========", "Dumping default entry"]
        if isinstance(t, IndirectTable) and t.default_ref is not None:
            out.append(_ref_line(t.default_ref))
        elif t.default_aid < 0:
            out.append("EMPTY")
        else:
            out.append(self._action_entry(t.actions[t.default_aid], t.default_args))
        out.append("==========")
        return out

    def cmd_table_dump_entry(self, w, col):
        self._exactly(w, 2, "table_dump_entry", col)
        t = self.table(w[0])
        handle = self.handle(w[1], "entry")
        e = t.entries.get(handle)
        if e is None:
            raise CommandError(f"table '{t.name}' has no entry with handle {handle}", span(w[1]),
                               words="Invalid table operation (INVALID_HANDLE)")
        return self._entry_lines(t, e)

    def _entry_lines(self, t: Table, e) -> list[str]:
        width = max((len(k.name) for k in t.keys), default=0)
        out = [f"Dumping entry {hex(e.handle)}", "Match key:"]
        for k, mv in zip(t.keys, e.match):
            out.append(f"* {k.name:{width}}: {k.match_kind.upper():10}{_dump_match(k, mv)}")
        if t.needs_priority:
            out.append(f"Priority: {MAX_PRIORITY - e.priority}")
        if isinstance(t, IndirectTable):
            out.append(_ref_line(e.ref))
        else:
            out.append(self._action_entry(t.actions[e.aid], e.args))
        return out

    @staticmethod
    def _action_entry(action, args) -> str:
        values = args.values() if isinstance(args, dict) else args
        data = ", ".join(_hex(v, width) for v, (_, width) in zip(values, action.params))
        return f"Action entry: {action.name} - {data}"

    def _profile_lines(self, profile) -> list[str]:
        out = ["==========", "MEMBERS"]
        actions = profile.actions
        for m in profile.members.values():
            out += ["**********", f"Dumping member {m.handle}"]
            if 0 <= m.aid < len(actions):
                out.append(self._action_entry(actions[m.aid], m.args))
        if profile.with_selector:
            out += ["==========", "GROUPS"]
            for g in profile.groups.values():
                out += ["**********", f"Dumping group {g.handle}",
                        f"Members: [{', '.join(str(m.handle) for m in g.members)}]"]
        return out

    # ------------------------------------------------------------------ table entries

    def _action_params(self, action, words: list[Word], where: tuple[int, int]) -> list[int]:
        """Action parameters in order, simple_switch_CLI's way (values, no names)."""
        if len(words) != len(action.params):
            raise CommandError(f"action '{action.name}' takes {len(action.params)} value(s) but {len(words)} were "
                               f"given", span(words[0], words[-1]) if words else where,
                               f"its parameters: {', '.join(n for n, _ in action.params) or 'none'}",
                               words="Invalid runtime data")
        return [self._at(span(word), lambda word=word, n=n, width=width: parse_scalar(
            word[0], width, f"parameter '{n}'"), "Invalid runtime data")
            for word, (n, width) in zip(words, action.params)]

    def _action(self, table, word: Word):
        return self._at(span(word), lambda: table.action(word[0]))

    def _match(self, table: Table, fields: list[Word], where: tuple[int, int]) -> list[MatchValue]:
        if len(fields) != len(table.keys):
            raise CommandError(f"table '{table.name}' has {len(table.keys)} key field(s) but {len(fields)} match "
                               f"value(s) were given", span(fields[0], fields[-1]) if fields else where,
                               f"its key fields, in order: {', '.join(k.name for k in table.keys) or 'none'}",
                               words="Invalid match key")
        return [self._at(span(f), lambda f=f, k=k: match_field(k, f[0]), "Invalid match key")
                for f, k in zip(fields, table.keys)]

    def _priority(self, table: Table, words: list[Word], what: str, after: Word) -> int | None:
        """The optional last word of an add: simple_switch_CLI's priority (the smaller wins), stored
        the way dataplane's tables order entries (the larger wins)."""
        if words:
            return MAX_PRIORITY - number(words[0], "priority", 0, MAX_PRIORITY)
        if table.needs_priority:
            raise CommandError(f"table '{table.name}' has ternary, range or optional keys: give a priority after "
                               f"the {what}", span(after))
        return None

    def cmd_table_add(self, w, col):
        arrow = next((i for i, word in enumerate(w) if word[0] == "=>"), None)
        if len(w) < 2 or arrow is None or arrow < 2:
            raise self._needs("table_add", col)
        table = self.table(w[0])
        if isinstance(table, IndirectTable):
            raise CommandError(f"table '{table.name}' is indirect: add entries with table_indirect_add",
                               span(w[0]), words="Invalid table operation (WRONG_TABLE_TYPE)")
        action = self._action(table, w[1])
        values = self._match(table, w[2:arrow], span(w[arrow]))
        params = w[arrow + 1:]
        priority = None
        if table.needs_priority:
            # As simple_switch_CLI: a table with ternary or range keys takes a priority after the parameters.
            given = params[-1:] if len(params) > len(action.params) else []
            priority = self._priority(table, given, "action parameters", w[-1])
            params = params[:len(params) - len(given)]
        args = self._action_params(action, params, span(w[arrow]))
        handle = self._at(span(w[0], w[-1]), lambda: self.dev.table_add(table.name, values, action.name, args,
                                                                         priority), "table")
        return [f"Adding entry to {_kind(table)} match table {table.name}",
                f"Entry has been added with handle {handle}"]

    def cmd_table_modify(self, w, col):
        if len(w) < 3:
            raise self._needs("table_modify", col)
        table = self.table(w[0])
        action = self._action(table, w[1])
        handle = self.handle(w[2], "entry")
        params = w[4:] if len(w) > 3 and w[3][0] == "=>" else w[3:]      # BMv2 tolerates '=>'
        args = self._action_params(action, params, span(w[2]))
        self._at(span(w[0], w[-1]), lambda: self.dev.table_modify(table.name, handle, action.name, args), "table")
        return [f"Modifying entry {handle} for {_kind(table)} match table {table.name}"]

    def cmd_table_delete(self, w, col):
        self._exactly(w, 2, "table_delete", col)
        table = self.table(w[0])
        handle = self.handle(w[1], "entry")
        self._at(span(w[1]), lambda: self.dev.table_delete(table.name, handle), "table")
        return [f"Deleting entry {handle} from {table.name}"]

    def cmd_table_set_default(self, w, col):
        if len(w) < 2:
            raise self._needs("table_set_default", col)
        table = self.table(w[0])
        action = self._action(table, w[1])
        params = w[3:] if len(w) > 2 and w[2][0] == "=>" else w[2:]
        args = self._action_params(action, params, span(w[1]))
        self._at(span(w[0], w[-1]), lambda: self.dev.table_set_default(table.name, action.name, args), "table")
        return [f"Setting default action of {table.name}", f"{'action:':20} {action.name}",
                f"{'runtime data:':20} " + "\t".join(_hex(v, width) for v, (_, width) in zip(args, action.params))]

    def cmd_table_reset_default(self, w, col):
        self._exactly(w, 1, "table_reset_default", col)
        table = self.table(w[0])
        if isinstance(table, IndirectTable):
            self.dev.table_reset_default(table.name)
        else:
            aid, args = table.initial_default
            if table.default_is_const:
                raise CommandError(f"the default action of table '{table.name}' is const and cannot be changed",
                                   span(w[0]), words="Invalid table operation (DEFAULT_ACTION_IS_CONST)")
            table.default_aid, table.default_args = aid, args
        return []

    def cmd_table_clear(self, w, col):
        self._exactly(w, 1, "table_clear", col)
        table = self.table(w[0])
        self.dev.table_clear(table.name)
        return []

    # ------------------------------------------------------------------ counters, registers, meters

    def handle(self, word: Word, what: str) -> int:
        return number(word, f"{what} handle", 0, (1 << 32) - 1)

    def cmd_counter_read(self, w, col):
        self._exactly(w, 2, "counter_read", col)
        obj = self.counter(w[0])
        index = number(w[1], "index")
        packets, nbytes = self._at(span(w[0], w[1]), lambda: self.dev.counter_read(obj.name, index), "counter")
        out = [f"this is the direct counter for table {obj.table}"] if isinstance(obj, DirectCounter) else []
        return out + [f"{w[0][0]}[{index}]= ({nbytes} bytes, {packets} packets)"]

    def cmd_counter_write(self, w, col):
        self._exactly(w, 4, "counter_write", col)
        obj = self.extern(w[0], "counter")
        index, packets, nbytes = number(w[1], "index"), number(w[2], "packets"), number(w[3], "bytes")
        self._at(span(w[1]), lambda: self.dev.counter_write(obj.name, index, packets, nbytes), "counter")
        return [f"{w[0][0]}[{index}] has been updated"]

    def cmd_counter_reset(self, w, col):
        self._exactly(w, 1, "counter_reset", col)
        obj = self.counter(w[0])
        if isinstance(obj, DirectCounter):
            for e in self.dev.tables[obj.table].entries.values():
                e.packets = e.bytes = 0
            return [f"this is the direct counter for table {obj.table}"]
        obj.reset()
        return []

    def register_cell(self, w: list[Word]) -> tuple[str, int]:
        """The register name and index of a register command, both checked where they are written."""
        reg = self.extern(w[0], "register")
        index = number(w[1], "index")
        self._at(span(w[1]), lambda: self.dev.register_read(reg.name, index), "register")
        return w[0][0], index

    def cmd_register_read(self, w, col):
        if len(w) not in (1, 2):
            raise self._needs("register_read", col)
        if len(w) == 2:
            name, index = self.register_cell(w)
            return [f"{name}[{index}]= {self.dev.register_read(name, index)}"]
        reg: Register = self.extern(w[0], "register")
        return [f"{w[0][0]}= " + ", ".join(str(v) for v in reg.cells)]

    def cmd_register_write(self, w, col):
        if len(w) != 3:
            raise CommandError("register_write needs <name> <index> <value>", (col, 1))
        name, index = self.register_cell(w)
        value = number(w[2], "value")
        self._at(span(w[2]), lambda: self.dev.register_write(name, index, value), "register")
        return []

    def cmd_register_reset(self, w, col):
        self._exactly(w, 1, "register_reset", col)
        self.extern(w[0], "register").reset()
        return []

    def cmd_meter_set_rates(self, w, col):
        if len(w) != 4:
            raise CommandError("meter_set_rates needs <name> <index> <rate>:<burst> <rate>:<burst>", (col, 1))
        index = number(w[1], "index")
        (cir, cbs), (pir, pbs) = self._rate_burst(w[2]), self._rate_burst(w[3])
        # The meter's own check, on a scratch cell, so that its complaint points at the rates.
        self._at(span(w[2], w[3]), lambda: MeterCell().set_rates(cir, cbs, pir, pbs), "meter")
        self._at(span(w[0], w[1]), lambda: self.dev.meter_set_rates(w[0][0], index, cir, cbs, pir, pbs), "meter")
        return []

    def _rate_burst(self, word: Word) -> tuple[float, int]:
        """<rate>:<burst> of meter_set_rates: a rate in units per microsecond, a burst in units."""
        text, col = word
        rate, sep, burst = text.partition(":")
        hint = "rates are <rate>:<burst>, e.g. 0.0001:10"
        if not sep or not _RATE.fullmatch(rate) or not math.isfinite(float(rate)):
            raise CommandError(f"'{text}' is not <rate>:<burst>", span(word), hint,
                               words="Invalid meter operation (BAD_RATES_LIST)")
        return float(rate), number((burst, col + len(rate) + 1), "burst")

    def cmd_meter_get_rates(self, w, col):
        self._exactly(w, 2, "meter_get_rates", col)
        obj = self._at(span(w[0]), lambda: self.dev.extern(w[0][0]), f"Error: Invalid meter name ({w[0][0]})")
        index = number(w[1], "index")
        if isinstance(obj, Meter):
            cell = self._at(span(w[1]), lambda: obj.cell(index), "meter")
        elif isinstance(obj, DirectMeter):
            e = self.dev.tables[obj.table].entries.get(index)
            if e is None:
                raise CommandError(f"table '{obj.table}' has no entry with handle {index}", span(w[1]),
                                   words="Invalid meter operation (INVALID_INDEX)")
            cell = e.meter
        else:
            raise CommandError(f"'{w[0][0]}' is not a meter", span(w[0]), words=f"Error: Invalid meter name "
                                                                                 f"({w[0][0]})")
        rates = _meter_rates(cell)
        return [f"{i}: info rate = {r}, burst size = {b}" for i, (r, b) in enumerate(rates)]

    # ------------------------------------------------------------------ replication

    def checked(self, word: Word, what: str, check) -> int:
        """A number that a v1model check (check_port, ...) accepts; its refusal is shown at the word."""
        n = number(word, what, low=None)
        self._at(span(word), lambda: check(n, what), "PRE")
        return n

    def cmd_mirroring_add(self, w, col):
        if len(w) != 2:
            raise CommandError("mirroring_add needs <session> <port>", (col, 1))
        session = self.checked(w[0], "mirroring session", check_clone_session)
        port = self.checked(w[1], "port", check_port)
        self.dev.clone_session_set(session, port=port)
        return []

    def cmd_mc_mgrp_create(self, w, col):
        if len(w) != 1:
            raise CommandError("mc_mgrp_create needs <group>", (col, 1))
        group = self.checked(w[0], "multicast group", check_mcast_group)
        # As in BMv2, creating a group that exists changes nothing (its nodes stay).
        if group not in self.dev.mcast_groups:
            self.dev.mcast_group_set(group, [])
        return [f"Creating multicast group {group}"]

    def cmd_mc_mgrp_destroy(self, w, col):
        if len(w) != 1:
            raise CommandError("mc_mgrp_destroy needs <group>", (col, 1))
        group = self.checked(w[0], "multicast group", check_mcast_group)
        # As in BMv2, destroying a group that does not exist is not an error. Its nodes are not destroyed;
        # they are free to join another group (BMv2 leaves them marked as members of the group that is gone).
        self.dev.mcast_group_delete(group)
        for handle in self.mc_group_nodes.pop(group, []):
            self.mc_nodes[handle].group = None
        self.mc_group_base.pop(group, None)
        return [f"Destroying multicast group {group}"]

    def _ports(self, words) -> list[int]:
        """The ports of a node, ascending; a port given twice is refused (BMv2: 'Found duplicate port')."""
        ports: list[int] = []
        for word in words:
            port = self.checked(word, "port", check_port)
            if port in ports:
                raise CommandError(f"port {port} is listed twice in this node", span(word))
            ports.append(port)
        return sorted(ports)

    def cmd_mc_node_create(self, w, col):
        if len(w) < 2:
            raise CommandError("mc_node_create needs <rid> <port>...", (col, 1))
        rid = self.checked(w[0], "replication id", check_rid)
        ports = self._ports(w[1:])
        handle = next(h for h in range(len(self.mc_nodes) + 1) if h not in self.mc_nodes)
        self.mc_nodes[handle] = McNode(rid, ports)
        return [f"Creating node with rid {rid} and with port map {port_map(ports)}",
                f"node was created with handle {handle}"]

    def _node(self, word) -> tuple[int, McNode]:
        handle = number(word, "node handle")
        node = self.mc_nodes.get(handle)
        if node is None:
            made = ", ".join(map(str, sorted(self.mc_nodes))) or "none"
            raise CommandError(f"there is no multicast node {handle}", span(word),
                               f"the nodes are: {made}", words="Invalid PRE operation (INVALID_L1_HANDLE)")
        return handle, node

    def _group_and_node(self, w, col, command: str) -> tuple[int, int, McNode]:
        """<group> <node handle> of mc_node_associate and mc_node_dissociate: (group, handle, node). The words are
        checked first, then the node, then the group, in the order BMv2's CLI and switch check them."""
        if len(w) != 2:
            raise CommandError(f"{command} needs <group> <node handle>", (col, 1))
        group = self.checked(w[0], "multicast group", check_mcast_group)
        handle, node = self._node(w[1])
        if group not in self.dev.mcast_groups:
            raise CommandError(f"multicast group {group} does not exist", span(w[0]),
                               "create it first with mc_mgrp_create",
                               words="Invalid PRE operation (INVALID_MGRP_HANDLE)")
        return group, handle, node

    def _rebuild(self, group: int) -> None:
        members = list(self.mc_group_base.get(group, []))
        for handle in self.mc_group_nodes.get(group, []):
            node = self.mc_nodes[handle]
            members.extend((p, node.rid) for p in node.ports)
        self.dev.mcast_group_set(group, members)

    def cmd_mc_node_update(self, w, col):
        if len(w) < 2:
            raise CommandError("mc_node_update needs <node handle> <port>...", (col, 1))
        handle, node = self._node(w[0])
        node.ports = self._ports(w[1:])
        if node.group is not None:
            self._rebuild(node.group)
        return [f"Updating node {handle} with port map {port_map(node.ports)}"]

    def cmd_mc_node_associate(self, w, col):
        group, handle, node = self._group_and_node(w, col, "mc_node_associate")
        if node.group is not None:
            raise CommandError(f"multicast node {handle} is already associated with group {node.group}",
                               span(w[1]), "a node belongs to one group (as in BMv2)",
                               words="Invalid PRE operation (ERROR)")
        if group not in self.mc_group_nodes:
            self.mc_group_base[group] = list(self.dev.mcast_groups[group])
        self.mc_group_nodes.setdefault(group, []).append(handle)
        node.group = group
        self._rebuild(group)
        return [f"Associating node {handle} to multicast group {group}"]

    def cmd_mc_node_dissociate(self, w, col):
        group, handle, node = self._group_and_node(w, col, "mc_node_dissociate")
        if node.group != group:
            raise CommandError(f"multicast node {handle} is not associated with group {group}", span(w[1]),
                               "it is in no group" if node.group is None else f"it is in group {node.group}",
                               words="Invalid PRE operation (ERROR)")
        self._dissociate(handle, node)
        return [f"Dissociating node {handle} from multicast group {group}"]

    def _dissociate(self, handle: int, node: McNode) -> None:
        group, node.group = node.group, None
        self.mc_group_nodes[group].remove(handle)
        self._rebuild(group)

    def cmd_mc_node_destroy(self, w, col):
        if len(w) != 1:
            raise CommandError("mc_node_destroy needs <node handle>", (col, 1))
        handle, node = self._node(w[0])
        if node.group is not None:          # as BMv2 allows: dissociated first
            self._dissociate(handle, node)
        del self.mc_nodes[handle]
        return [f"Destroying node {handle}"]

    def cmd_mc_dump(self, w, col):
        self._exactly(w, 0, "mc_dump", col)
        out = ["==========", "MC ENTRIES"]
        for group, members in sorted(self.dev.mcast_groups.items()):
            out += ["**********", f"mgrp({group})"]
            by_rid: dict[int, list[int]] = {}
            for port, rid in members:
                by_rid.setdefault(rid, []).append(port)
            out.extend(f"  -> (rid={rid}) -> (ports=[{', '.join(map(str, ports))}])"
                       for rid, ports in by_rid.items())
        out.append("==========")
        return out

    # ------------------------------------------------------------------ action profiles and selectors

    def _member_action(self, profile, words: list[Word]):
        """<action> [<value>...]: the action of a member and its arguments, values in parameter order."""
        action = self._at(span(words[0]), lambda: profile.action(words[0][0]))
        values = words[1:]
        if values and values[0][0] == "=>":       # BMv2's CLI tolerates it
            values = values[1:]
        if len(values) != len(action.params):
            where = span(values[0], values[-1]) if values else span(words[0])
            raise CommandError(f"action '{action.name}' takes {len(action.params)} value(s) but {len(values)} were "
                               f"given", where, f"its parameters: {', '.join(n for n, _ in action.params) or 'none'}",
                               words="Invalid runtime data")
        args = [self._at(span(w), lambda w=w, n=n, width=width: parse_scalar(
            w[0], width, f"parameter '{n}'"), "Invalid runtime data") for w, (n, width) in zip(values, action.params)]
        return action, args

    def cmd_act_prof_create_member(self, w, col):
        if len(w) < 2:
            raise CommandError("act_prof_create_member needs <profile> <action> [<value>...]", (col, 1))
        profile = self.profile(w[0])
        action, args = self._member_action(profile, w[1:])
        handle = self._at(span(w[0], w[-1]), lambda: self.dev.member_create(profile.name, action.name, args),
                          "table")
        return [f"Member has been created with handle {handle}"]

    def cmd_act_prof_modify_member(self, w, col):
        if len(w) < 3:
            raise CommandError("act_prof_modify_member needs <profile> <action> <member> [<value>...]", (col, 1))
        profile = self.profile(w[0])
        member = self.handle(w[2], "member")
        action, args = self._member_action(profile, [w[1]] + w[3:])
        self._at(span(w[2]), lambda: self.dev.member_modify(profile.name, member, action.name, args), "table")
        return []

    def _profile_and_handles(self, w, col, command: str, names: tuple[str, ...]):
        if len(w) != 1 + len(names):
            raise CommandError(f"{command} needs <profile>" + "".join(f" <{n}>" for n in names), (col, 1))
        profile = self.profile(w[0])
        return profile, [self.handle(word, n) for word, n in zip(w[1:], names)]

    def cmd_act_prof_delete_member(self, w, col):
        profile, (member,) = self._profile_and_handles(w, col, "act_prof_delete_member", ("member",))
        self._at(span(w[1]), lambda: self.dev.member_delete(profile.name, member), "table")
        return []

    def cmd_act_prof_create_group(self, w, col):
        profile, _ = self._profile_and_handles(w, col, "act_prof_create_group", ())
        handle = self._at(span(w[0]), lambda: self.dev.group_create(profile.name), "table")
        return [f"Group has been created with handle {handle}"]

    def cmd_act_prof_delete_group(self, w, col):
        profile, (group,) = self._profile_and_handles(w, col, "act_prof_delete_group", ("group",))
        self._at(span(w[1]), lambda: self.dev.group_delete(profile.name, group), "table")
        return []

    def cmd_act_prof_add_member_to_group(self, w, col):
        profile, (member, group) = self._profile_and_handles(w, col, "act_prof_add_member_to_group",
                                                             ("member", "group"))
        self._at(span(w[1], w[2]), lambda: self.dev.group_add_member(profile.name, group, member), "table")
        return []

    def cmd_act_prof_remove_member_from_group(self, w, col):
        profile, (member, group) = self._profile_and_handles(w, col, "act_prof_remove_member_from_group",
                                                             ("member", "group"))
        self._at(span(w[1], w[2]), lambda: self.dev.group_remove_member(profile.name, group, member), "table")
        return []

    def _indirect_add(self, w, col, command: str, what: str) -> list[str]:
        arrow = next((i for i, word in enumerate(w) if word[0] == "=>"), None)
        if not w or arrow is None or arrow == 0 or not arrow + 2 <= len(w) <= arrow + 3:
            raise CommandError(f"{command} needs <table> <match fields> => <{what}> [<priority>]", (col, 1))
        table = self.indirect_table(w[0])
        fields = w[1:arrow]
        if len(fields) != len(table.keys):
            where = span(fields[0], fields[-1]) if fields else span(w[arrow])
            raise CommandError(f"table '{table.name}' has {len(table.keys)} key field(s) but {len(fields)} match "
                               f"value(s) were given", where, f"its key fields, in order: "
                               f"{', '.join(k.name for k in table.keys) or 'none'}", words="Invalid match key")
        values = [self._at(span(f), lambda f=f, k=k: match_field(k, f[0]), "Invalid match key")
                  for f, k in zip(fields, table.keys)]
        handle = self.handle(w[arrow + 1], what)
        # The member or group first, so that a missing or empty one is shown at its handle.
        self._at(span(w[arrow + 1]), lambda: table.usable_group(handle) if what == "group"
                 else table.profile.member(handle), "table")
        priority = self._priority(table, w[arrow + 2:], what, w[arrow + 1])
        add = self.dev.table_add_group if what == "group" else self.dev.table_add_member
        entry = self._at(span(w[0], w[-1]), lambda: add(table.name, values, handle, priority), "table")
        return [f"Adding entry to indirect match table {table.name}", f"Entry has been added with handle {entry}"]

    def cmd_table_indirect_add(self, w, col):
        return self._indirect_add(w, col, "table_indirect_add", "member")

    def cmd_table_indirect_add_with_group(self, w, col):
        return self._indirect_add(w, col, "table_indirect_add_with_group", "group")

    def _indirect_default(self, w, col, command: str, what: str | None) -> list[str]:
        if len(w) != (2 if what else 1):
            raise CommandError(f"{command} needs <table>" + (f" <{what}>" if what else ""), (col, 1))
        table = self.indirect_table(w[0])
        if what is None:
            self.dev.table_reset_default(table.name)
            return []
        handle = self.handle(w[1], what)
        set_default = self.dev.table_set_default_group if what == "group" else self.dev.table_set_default_member
        self._at(span(w[1]), lambda: set_default(table.name, handle), "table")
        return []

    def cmd_table_indirect_set_default(self, w, col):
        return self._indirect_default(w, col, "table_indirect_set_default", "member")

    def cmd_table_indirect_set_default_with_group(self, w, col):
        return self._indirect_default(w, col, "table_indirect_set_default_with_group", "group")

    def cmd_table_indirect_reset_default(self, w, col):
        return self._indirect_default(w, col, "table_indirect_reset_default", None)


# ---------------------------------------------------------------------------- formatting


def _kind(table: Table) -> str:
    """The match type simple_switch_CLI names a table by: its most general key kind."""
    kinds = {k.match_kind for k in table.keys}
    for kind in ("range", "ternary", "optional", "lpm"):
        if kind in kinds:
            return "ternary" if kind == "optional" else kind
    return "exact"


def _table_line(t: Table) -> str:
    keys = ", ".join(f"{k.name}({k.match_kind}, {k.width})" for k in t.keys)
    return f"{t.name:30} [{keys}]"


def _action_line(a) -> str:
    params = ", ".join(f"{n}({w})" for n, w in a.params)
    return f"{a.name:30} [{params}]"


def _hex(value: int, width: int) -> str:
    """A value as simple_switch_CLI dumps it: hex digits, whole bytes."""
    return f"{value:0{2 * max(1, (width + 7) // 8)}x}"


def _dump_match(k: KeySpec, mv: MatchValue) -> str:
    if k.match_kind == "exact":
        return _hex(mv.value, k.width)
    if k.match_kind == "lpm":
        return f"{_hex(mv.value, k.width)}/{mv.prefix_len if mv.prefix_len is not None else k.width}"
    if k.match_kind in ("ternary", "optional"):
        mask = (1 << k.width) - 1 if mv.mask is None else mv.mask
        return f"{_hex(mv.value, k.width)} &&& {_hex(mask, k.width)}"
    lo = mv.lo if mv.lo is not None else mv.value
    hi = mv.hi if mv.hi is not None else mv.value
    return f"{_hex(lo, k.width)} -> {_hex(hi, k.width)}"


def _ref_line(ref) -> str:
    return f"Index: {'group' if ref.is_group else 'member'}({ref.handle})"


def _meter_rates(cell: MeterCell) -> list[tuple[float, int]]:
    """(rate, burst) pairs of a meter cell as meter_get_rates shows them: committed, then peak."""
    names = (("cir", "cbs"), ("pir", "pbs"))
    return [(getattr(cell, r), int(getattr(cell, b))) for r, b in names]
