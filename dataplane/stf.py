"""p4c's STF packet tests, run on a dataplane device.

Commands (keywords are case-insensitive; '#' starts a comment):

    add <table> [<priority>] <key>:<value> ... <action>(<param>:<value>, ...)
    setdefault <table> <action>(<param>:<value>, ...)
    packet <port> <hex bytes>
    expect <port> [<hex bytes, '*' matches any nibble>] [$]
    no_packet                      the previous packet produced no output at all
    remove all                     remove all table entries
    wait [<microseconds>]          packets are processed at once, so a bare wait changes nothing;
                                   with a duration, the clock that stamps packets and drives
                                   meters moves on by that much
    check_counter <name>(<index>) [packets|bytes] [<op> <n>]
    BMv2 CLI passthrough: mirroring_add <session> <port>; mc_mgrp_create <group>;
    mc_node_create <rid> <port>...; mc_node_associate <group> <node>; the other mc_* commands
    (mc_mgrp_destroy, mc_node_update, mc_node_dissociate, mc_node_destroy); register_write <name> <index>
    <value>; register_read <name> <index> [<expected>]; counter_read <name> <index> [<op> <n>];
    meter_set_rates <name> <index> <rate>:<burst> <rate>:<burst>
    Action profiles and selectors, as simple_switch_CLI has them (handles are numbered from 0 in
    order of creation, the lowest free one first, as BMv2 gives them; action parameters are values
    in the order of the action's parameters):
    act_prof_create_member <profile> <action> [<value>...]; act_prof_modify_member <profile> <action>
    <member> [<value>...]; act_prof_delete_member <profile> <member>; act_prof_create_group <profile>;
    act_prof_delete_group <profile> <group>; act_prof_add_member_to_group <profile> <member> <group>;
    act_prof_remove_member_from_group <profile> <member> <group>; table_indirect_add <table> <match
    fields> => <member> [<priority>]; table_indirect_add_with_group <table> <match fields> => <group>
    [<priority>]; table_indirect_set_default <table> <member>; table_indirect_set_default_with_group
    <table> <group>; table_indirect_reset_default <table>. Match fields are the BMv2 CLI's: one per
    key in order, <value>, <value>/<length> (lpm), <value>&&&<mask> (ternary) or <lo>-><hi> (range);
    as in BMv2 a smaller priority wins there (the opposite of `add`).

Key values: numbers (decimal, 0x, 0b), addresses, lpm <value>/<length> or hex with trailing '*'
nibbles, ternary hex with '*' nibbles or <value>&&&<mask>, ranges <lo>..<hi>. Table, key and
action names may be given by a suffix of their full name. A larger priority wins.

Numbers are ASCII: decimal, 0x hex, 0b binary or 0o octal (Python's int() would also take
'1_000' and full-width or other Unicode digits; STF files are ASCII throughout). Ranges are
BMv2 simple_switch's: ports 0..510 (511 is the drop port), mirroring sessions 0..32767,
multicast groups 1..65535, replication ids 0..65535, priorities 0..2^31-1. Packet data is an
even number of hex digits (p4c's runner hands it to bytes.fromhex); expected data may have an
odd number (it is compared nibble by nibble) unless it ends with '$', which no packet could meet.

Comparison, as p4c's BMv2 runner does it: per port, in order; nibble by nibble with '*'
matching anything; a received packet may be longer than expected unless the expectation ends
with '$'; the number of packets on each port must match; `expect N` with no data accepts any
packets on N; a packet on a port that no expect names is a failure.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from .arch.v1model import check_port
from .controlplane import switch_cli
from .controlplane.switch_cli import MAX_PRIORITY, CommandError, SwitchCli
from .controlplane.switch_cli import NUMBER as _NUMBER
from .controlplane.values import ValueError_, parse_match, parse_scalar, wildcard
from .diagnostics import SourceFile, Span, error
from .protocols.locate import field_at
from .runtime.device import Device
from .runtime.errors import ControlPlaneError
from .runtime.tables import KeySpec, MatchValue
from .runtime.trace import DropReason, format_value

_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")
# Key values with '*' digits: bits per digit, radix and the digits of each radix prefix.
_WILDCARD_RADIX = {"0x": (4, 16, "0123456789abcdefABCDEF"), "0b": (1, 2, "01"), "0o": (3, 8, "01234567")}
MAX_WAIT_US = (1 << 48) - 1        # v1model timestamps count microseconds in 48 bits


@dataclass
class Expectation:
    port: int
    data: str | None          # hex nibbles with '*'; None: any packet
    exact_length: bool
    span: Span


class PipelineBug(RuntimeError):
    """The pipeline failed on a packet: a bug in dataplane, which must not pass for a drop."""


@dataclass
class StfResult:
    passed: bool
    messages: list[str] = field(default_factory=list)
    packets_in: int = 0
    packets_out: int = 0
    drops: list = field(default_factory=list)
    traces: list = field(default_factory=list)


# simple_switch_CLI's commands an STF file may use, run by the shared parser (controlplane/switch_cli.py);
# register_read and counter_read are STF's own here: they may compare the value with an expected one.
_SWITCH_COMMANDS = frozenset({
    "mirroring_add", "mc_mgrp_create", "mc_node_create", "mc_node_associate", "register_write", "meter_set_rates",
    "mc_mgrp_destroy", "mc_node_update", "mc_node_dissociate", "mc_node_destroy",
    "act_prof_create_member", "act_prof_modify_member", "act_prof_delete_member", "act_prof_create_group",
    "act_prof_delete_group", "act_prof_add_member_to_group", "act_prof_remove_member_from_group",
    "table_indirect_add", "table_indirect_add_with_group", "table_indirect_set_default",
    "table_indirect_set_default_with_group", "table_indirect_reset_default"})

_OPS = {"==": lambda a, b: a == b, "!=": lambda a, b: a != b, "<": lambda a, b: a < b,
        ">": lambda a, b: a > b, "<=": lambda a, b: a <= b, ">=": lambda a, b: a >= b}


class StfRunner:
    def __init__(self, device: Device, source: SourceFile, trace: bool = False, echo=None):
        self.dev = device
        self.src = source
        self.trace = trace
        self.echo = echo
        self.expectations: list[Expectation] = []
        self.received: dict[int, list[bytes]] = {}
        self.result = StfResult(True)
        self.last_outputs: list | None = None
        self.switch = SwitchCli(device)      # the BMv2 CLI commands, parsed where the interactive shell parses them
        self.time_us = 0.0

    # ------------------------------------------------------------------ errors

    def _span(self, line: int, col: int, length: int = 1) -> Span:
        return Span(self.src, line, col, line, col + max(1, length))

    def _word_span(self, line: int, first: tuple[str, int], last: tuple[str, int] | None = None) -> Span:
        """The span of a word of the line, or from the start of `first` to the end of `last`."""
        last = last or first
        return self._span(line, first[1], last[1] + len(last[0]) - first[1])

    @staticmethod
    def _at(span: Span, fn):
        """fn(), with a control-plane error it raises reported at `span`."""
        try:
            return fn()
        except (ControlPlaneError, ValueError_) as exc:
            raise error(str(exc), span) from None

    def fail_check(self, message: str) -> None:
        self.result.passed = False
        self.result.messages.append(message)

    # ------------------------------------------------------------------ running

    def run(self) -> StfResult:
        for lineno in range(1, self.src.line_count + 1):
            raw = self.src.line_text(lineno)
            text = raw.split("#", 1)[0]
            if not text.strip():
                continue
            self.command(text, lineno)
        self.compare()
        return self.result

    def command(self, text: str, line: int) -> None:
        self._check_ascii(text, line)
        m = re.match(r"\s*(\S+)", text)
        word = m.group(1)
        col = m.start(1) + 1
        rest = text[m.end(1):]
        rest_col = m.end(1) + 1
        name = word.lower()
        handler = getattr(self, "_cmd_" + name, None)
        if handler is None and name in _SWITCH_COMMANDS:
            handler = lambda rest, line, col: self._switch_command(name, rest, line, col)
        if handler is None:
            raise error(f"unknown STF command '{word}'", self._span(line, col, len(word)),
                        "commands: add, setdefault, packet, expect, no_packet, remove, wait, check_counter, "
                        "mirroring_add, mc_mgrp_create, mc_node_create, mc_node_associate, register_read, "
                        "register_write, counter_read, meter_set_rates, act_prof_create_member, "
                        "act_prof_create_group, act_prof_add_member_to_group, table_indirect_add, "
                        "table_indirect_add_with_group and the other mc_*, act_prof_* and table_indirect_* commands")
        try:
            handler(rest, line, rest_col)
        except (ControlPlaneError, ValueError_) as exc:
            raise error(str(exc), self._span(line, col, len(text.rstrip()) - col + 1)) from None

    def _check_ascii(self, text: str, line: int) -> None:
        """STF commands are ASCII. Python would read full-width and other Unicode digits as
        numbers (int('１') is 1, '１'.isdigit() is true), so refuse them before anything parses."""
        odd = _NON_ASCII.search(text)
        if odd:
            ch = odd.group()
            name = unicodedata.name(ch, "")
            raise error(f"non-ASCII character {ch!r} (U+{ord(ch):04X}{' ' + name if name else ''})",
                        self._span(line, odd.start() + 1),
                        "STF commands are ASCII: digits 0-9 (and a-f in hex), P4 names, '*', '$' and punctuation")

    def _words(self, rest: str, line: int, col: int) -> list[tuple[str, int]]:
        return [(m.group(0), col + m.start()) for m in re.finditer(r"\S+", rest)]

    def _no_more(self, words: list[tuple[str, int]], line: int, command: str) -> None:
        if words:
            raise error(f"unexpected '{words[0][0]}' after {command}", self._word_span(line, words[0], words[-1]))

    # ------------------------------------------------------------------ packets

    def _cmd_packet(self, rest, line, col):
        words = self._words(rest, line, col)
        if not words:
            raise error("packet needs a port and hex bytes", self._span(line, col))
        port = self._checked(words[0], line, "port", check_port)
        data = self._packet_data(words[1:], line)
        self.time_us += 1.0
        r = self.dev.process(port, data, now_us=self.time_us, trace=self.trace)
        self._no_pipeline_bug(r.drops, line)
        self.result.packets_in += 1
        if r.trace is not None:
            self.result.traces.append(r.trace)
            if self.echo:
                self.echo(r.trace.render())
        for out_port, pkt in r.outputs:
            self.received.setdefault(out_port, []).append(pkt)
            self.result.packets_out += 1
        self.result.drops.extend(r.drops)
        self.last_outputs = r.outputs

    def _packet_data(self, words: list[tuple[str, int]], line: int) -> bytes:
        """The bytes of a `packet` line: hex digits, spaces allowed, an even number in all (p4c's
        runner gives them to bytes.fromhex, which refuses a lone nibble)."""
        for w, c in words:
            bad = next((ch for ch in w if ch not in _HEX_DIGITS), None)
            if bad is not None:
                raise error(f"unexpected character {bad!r} in packet data", self._span(line, c, len(w)),
                            "packet data is hex digits; '*' and '$' are only for expect")
        hexdata = "".join(w for w, _ in words)
        if len(hexdata) % 2:
            raise error(f"packet data must be an even number of hex digits (it has {len(hexdata)})",
                        self._word_span(line, words[0], words[-1]))
        return bytes.fromhex(hexdata)

    def _no_pipeline_bug(self, drops, line: int) -> None:
        """The device turns an exception in the pipeline into a drop so that a simulation goes on;
        in a test that would pass for a drop the program asked for (no_packet), so stop here."""
        for reason, detail in drops:
            if reason is DropReason.PIPELINE_ERROR:
                raise PipelineBug(f"{self.src.path}:{line}: the pipeline failed on this packet: {detail}")

    def _cmd_expect(self, rest, line, col):
        words = self._words(rest, line, col)
        if not words:
            raise error("expect needs a port", self._span(line, col))
        port = self._checked(words[0], line, "port", check_port)
        data, exact = self._expected_data(words[1:], line)
        self.expectations.append(Expectation(port, data.upper() if data else None, exact,
                                             self._word_span(line, words[0], words[-1])))

    def _expected_data(self, words: list[tuple[str, int]], line: int) -> tuple[str, bool]:
        """The nibbles of an `expect` line ('*' matches any) and whether it ends with '$'."""
        hint = "use hex digits, '*' for any nibble, and '$' at the end for an exact length"
        for i, (w, c) in enumerate(words):
            for j, ch in enumerate(w):
                if ch in _HEX_DIGITS or ch == "*":
                    continue
                if ch == "$" and (i, j) == (len(words) - 1, len(w) - 1):
                    continue
                if ch == "$":
                    raise error("'$' must come last in expected packet data", self._span(line, c + j), hint)
                raise error(f"unexpected character {ch!r} in expected packet data", self._span(line, c, len(w)), hint)
        data = "".join(w for w, _ in words)
        if not data.endswith("$"):
            return data, False
        data = data[:-1]
        dollar = self._span(line, words[-1][1] + len(words[-1][0]) - 1)
        if not data:
            raise error("'$' with no expected data: no packet is empty", dollar,
                        "'expect <port>' alone accepts any packet")
        if len(data) % 2:
            # Compared nibble by nibble, odd data is a fine prefix; but a whole packet never has
            # an odd number of nibbles, so an exact length could never match.
            raise error(f"expected data ending in '$' has an odd number of hex digits ({len(data)}): "
                        f"no packet can match it exactly", dollar, "packets are whole bytes")
        return data, True

    def _cmd_no_packet(self, rest, line, col):
        self._no_more(self._words(rest, line, col), line, "no_packet")
        if self.last_outputs:
            ports = ", ".join(str(p) for p, _ in self.last_outputs)
            self.fail_check(f"line {line}: no_packet: the previous packet was sent out on port(s) {ports}")

    def _cmd_wait(self, rest, line, col):
        words = self._words(rest, line, col)
        if words:
            self._no_more(words[1:], line, "wait <microseconds>")
            self.time_us += self._int(words[0], line, "wait time", 0, MAX_WAIT_US)

    # ------------------------------------------------------------------ tables

    def _cmd_remove(self, rest, line, col):
        if rest.strip().lower() != "all":
            raise error("only 'remove all' is supported", self._span(line, col))
        self.dev.table_clear()

    def _cmd_setdefault(self, rest, line, col):
        words = self._words(rest, line, col)
        if len(words) < 2:
            raise error("setdefault needs a table and an action", self._span(line, col))
        table = self.dev.table(words[0][0])
        action_text = rest[rest.index(words[1][0], words[0][1] - col + len(words[0][0])):]
        action, args = self._action(table, action_text.strip(), line, words[1][1])
        self.dev.table_set_default(table.name, action.name, args)

    def _cmd_add(self, rest, line, col):
        words = self._words(rest, line, col)
        if len(words) < 2:
            raise error("add needs a table, key values and an action", self._span(line, col))
        table = self.dev.table(words[0][0])
        i = 1
        priority = None
        if _NUMBER.fullmatch(words[1][0]):
            # As in p4c's runner, a number right after the table name is the priority.
            priority = self._int(words[1], line, "priority", 0, MAX_PRIORITY)
            i = 2
        match: dict[str, tuple[str, int]] = {}
        while i < len(words) and "(" not in words[i][0]:
            w, c = words[i]
            if ":" not in w:
                raise error(f"expected <key>:<value>, got '{w}'", self._span(line, c, len(w)))
            k, _, v = w.partition(":")
            key = self._key(table, k, line, c)
            if key.name in match:
                raise error(f"key field '{key.name}' is given twice", self._span(line, c, len(k)),
                            "each key field takes one value")
            match[key.name] = (v, c + len(k) + 1)
            i += 1
        if i >= len(words):
            raise error("add needs an action such as fwd(port:1)", self._span(line, col + len(rest.rstrip())))
        action_start = words[i][1] - col
        action, args = self._action(table, rest[action_start:].strip(), line, words[i][1])
        values = []
        for k in table.keys:
            if k.name in match:
                text, c = match[k.name]
                try:
                    values.append(self._stf_match(k, text))
                except ValueError_ as exc:
                    raise error(str(exc), self._span(line, c, len(text))) from None
            else:
                try:
                    values.append(wildcard(k))
                except ValueError_ as exc:
                    raise error(str(exc), self._span(line, col)) from None
        if table.needs_priority and priority is None:
            priority = 1
        self.dev.table_add(table.name, values, action.name, args, priority)

    def _key(self, table, name: str, line: int, col: int) -> KeySpec:
        name = re.sub(r"(?a)\$(\d+)", r"[\1]", name)
        for k in table.keys:
            if k.name == name:
                return k
        cands = [k for k in table.keys if k.name.endswith("." + name) or k.name.split(".")[-1] == name]
        if len(cands) == 1:
            return cands[0]
        known = ", ".join(k.name for k in table.keys) or "none"
        raise error(f"table '{table.name}' has no key field '{name}'" if not cands else
                    f"key field '{name}' is ambiguous in table '{table.name}'",
                    self._span(line, col, len(name)), f"its key fields: {known}")

    @staticmethod
    def _stf_match(k: KeySpec, text: str) -> MatchValue:
        """STF key syntax: hex, octal or binary with '*' digits for ternary and lpm keys."""
        t = text.strip()
        prefix = t[:2].lower()
        if "*" in t and t not in ("*", "_") and prefix in _WILDCARD_RADIX:
            return _wildcard_digits(k, t, prefix)
        return parse_match(k, t)

    def _action(self, table, text: str, line: int, col: int):
        m = re.fullmatch(r"(?a)([\w.]+)\s*(?:\((.*)\))?\s*", text)
        if not m:
            raise error(f"expected an action such as fwd(port:1), got '{text}'", self._span(line, col, len(text)))
        action = table.action(m.group(1))
        args: dict[str, int] = {}
        widths = dict(action.params)
        body = m.group(2) or ""
        if not body.strip():
            return action, args
        offset = col + m.start(2)          # the column of each part, for errors at that part
        for part in body.split(","):
            pcol = offset + len(part) - len(part.lstrip())
            offset += len(part) + 1
            part = part.strip()
            if ":" not in part:
                raise error(f"expected <param>:<value> in '{part}'", self._span(line, col, len(text)))
            pname, _, pval = part.partition(":")
            pname = pname.strip()
            if pname not in widths:
                raise error(f"action '{action.name}' has no parameter '{pname}'",
                            self._span(line, col, len(text)), f"its parameters: {', '.join(widths) or 'none'}")
            if pname in args:
                raise error(f"parameter '{pname}' is given twice", self._span(line, pcol, len(pname)),
                            "each action parameter takes one value")
            args[pname] = parse_scalar(pval.strip(), widths[pname], f"parameter '{pname}'")
        return action, args

    # ------------------------------------------------------------------ externs and replication

    def _int(self, word: tuple[str, int], line: int, what: str, low: int | None = 0, high: int | None = None) -> int:
        """An STF number (decimal, 0x, 0b, 0o) in low..high (None: no bound), or an error at the word."""
        return self._switch_call(line, lambda: switch_cli.number(word, what, low, high))

    def _checked(self, word: tuple[str, int], line: int, what: str, check) -> int:
        """A number that a v1model check (check_port, ...) accepts; its refusal is shown at the word."""
        return self._switch_call(line, lambda: self.switch.checked(word, what, check))

    def _switch_call(self, line: int, fn):
        """fn(), a call into the shared BMv2 CLI parser, with its CommandError located on this line."""
        try:
            return fn()
        except CommandError as exc:
            where = self._span(line, *exc.where) if exc.where else None
            raise error(exc.message, where, exc.hint) from None

    def _switch_command(self, name: str, rest: str, line: int, col: int) -> None:
        """A BMv2 CLI command (mirroring_add, mc_*, register_write, meter_set_rates, act_prof_*,
        table_indirect_*): parsed and run by the parser the interactive shell uses."""
        self._switch_call(line, lambda: self.switch.run(name, rest, col))

    def _cmd_register_read(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) not in (2, 3, 4):
            raise error("register_read needs <name> <index> [[<op>] <expected>]", self._span(line, col))
        name, index = self._switch_call(line, lambda: self.switch.register_cell(w))
        value = self.dev.register_read(name, index)
        if len(w) > 2:
            op = w[2][0] if len(w) == 4 else "=="
            if op not in _OPS:
                raise error(f"unknown comparison '{op}'", self._word_span(line, w[2]), "use ==, !=, <, >, <= or >=")
            expected = self._int(w[-1], line, "expected value")
            if not _OPS[op](value, expected):
                self.fail_check(f"line {line}: register {w[0][0]}[{w[1][0]}] is {value}, expected {op} {expected}")

    def _cmd_counter_read(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) < 2:
            raise error("counter_read needs <name> <index>", self._span(line, col))
        self._check_counter(w[0][0], self._int(w[1], line, "index"), w[2:], line, self._word_span(line, w[0], w[1]))

    def _cmd_check_counter(self, rest, line, col):
        m = re.match(r"(?a)\s*([\w.]+)\s*\(\s*(\S+?)\s*\)(.*)$", rest)
        if not m:
            raise error("check_counter needs <name>(<index>)", self._span(line, col))
        index = self._int((m.group(2), col + m.start(2)), line, "index")
        where = self._span(line, col + m.start(1), m.end(2) + 1 - m.start(1))
        self._check_counter(m.group(1), index, self._words(m.group(3), line, col + m.start(3)), line, where)

    def _check_counter(self, name: str, index: int, words, line: int, where: Span) -> None:
        """Compare a counter cell with `[packets|bytes] [<op>] <n>`; `where` is the name and index."""
        packets, nbytes = self._at(where, lambda: self.dev.counter_read(name, index))
        kind = None
        if words and words[0][0] in ("packets", "bytes"):
            kind, words = words[0][0], words[1:]
        if not words:
            return
        if len(words) > 2:
            bad = words[0] if kind is None else words[2]
            raise error(f"unexpected '{bad[0]}' in a counter check", self._word_span(line, bad),
                        "write [packets|bytes] [<op>] <count>")
        op, val = ("==", words[0]) if len(words) == 1 else (words[0][0], words[1])
        if op not in _OPS:
            raise error(f"unknown comparison '{op}'", self._word_span(line, words[0]), "use ==, !=, <, >, <= or >=")
        expected = self._int(val, line, "count")
        kind = kind or "packets"
        actual = packets if kind == "packets" else nbytes
        if not _OPS[op](actual, expected):
            self.fail_check(f"line {line}: counter {name}({index}) {kind} is {actual}, expected {op} {expected}")

    # ------------------------------------------------------------------ comparison

    def compare(self) -> None:
        by_port: dict[int, list[Expectation]] = {}
        for e in self.expectations:
            by_port.setdefault(e.port, []).append(e)
        for port in sorted(set(by_port) | set(self.received)):
            exps = by_port.get(port, [])
            got = self.received.get(port, [])
            if exps and all(e.data is None for e in exps):
                continue
            exps = [e for e in exps if e.data is not None]
            if len(exps) != len(got):
                self.fail_check(f"port {port}: expected {len(exps)} packet(s), received {len(got)}")
                for i in range(max(len(exps), len(got))):
                    lines = [f"  packet {i + 1}:"]
                    if i < len(exps):
                        lines.append(f"    expected: {_spaced(exps[i].data)}" + ("$" if exps[i].exact_length else ""))
                    if i < len(got):
                        lines.append(f"    received: {_spaced(got[i].hex().upper())}")
                    self.result.messages.append("\n".join(lines))
                continue
            ethernet = _has_ethernet(self.dev)
            for i, (e, pkt) in enumerate(zip(exps, got)):
                problem = _compare(e, pkt, ethernet)
                if problem:
                    self.fail_check(f"port {port}, packet {i + 1} (expected at {e.span}): {problem[0]}\n"
                                    f"    expected: {_spaced(e.data)}{'$' if e.exact_length else ''}\n"
                                    f"    received: {_spaced(pkt.hex().upper())}"
                                    + (f"\n              {problem[1]}" if problem[1] else ""))


def _wildcard_digits(k: KeySpec, text: str, prefix: str) -> MatchValue:
    """A key value written with '*' digits (0x0a**, 0b1*0*): a ternary value and mask, or an lpm
    prefix when the '*' digits are all at the end."""
    bits, radix, allowed = _WILDCARD_RADIX[prefix]
    digits = text[2:]
    bad = next((c for c in digits if c not in allowed and c != "*"), None)
    if bad is not None:
        raise ValueError_(f"{bad!r} is not a base-{radix} digit or '*' in '{text}' for key '{k.name}'")
    if k.match_kind not in ("ternary", "optional", "lpm"):
        raise ValueError_(f"key '{k.name}' is {k.match_kind}: '*' digits are for ternary, optional and lpm keys")
    value = int(digits.replace("*", "0"), radix)
    if value >> k.width:
        raise ValueError_(f"'{text}' does not fit in key '{k.name}' ({k.width} bits)")
    # '*' digits beyond the width wildcard bits the key does not have: they do no harm.
    mask = int("".join("0" if c == "*" else allowed[radix - 1] for c in digits), radix) & ((1 << k.width) - 1)
    if k.match_kind != "lpm":
        return parse_match(k, [value, mask])
    if "*" in digits.rstrip("*"):
        raise ValueError_(f"key '{k.name}' is lpm: '*' digits must all be at the end")
    excess = max(0, len(digits) * bits - k.width)
    return parse_match(k, [value, max(0, len(digits.rstrip("*")) * bits - excess)])


def _spaced(hexstr: str) -> str:
    return " ".join(hexstr[i:i + 2] for i in range(0, len(hexstr), 2))


def _compare(e: Expectation, pkt: bytes, ethernet: bool = False) -> tuple[str, str] | None:
    """What is wrong with a received packet (and a caret under the first nibble that differs), or None.
    `ethernet`: the program's packets start with an Ethernet header, so the differing field can be named."""
    got = pkt.hex().upper()
    exp = e.data
    if len(got) < len(exp):
        return f"received {len(pkt)} bytes, expected at least {len(exp) // 2}", ""
    for i, c in enumerate(exp):
        if c != "*" and c != got[i]:
            marker = " " * (i + i // 2) + "^"
            # The first bit that differs, in a nibble that may span several fields (flags, fragment offset).
            first_bit = i * 4 + 4 - (int(c, 16) ^ int(got[i], 16)).bit_length()
            spot = field_at(pkt, first_bit) if ethernet else None
            if spot is None:
                return f"differs at byte {i // 2} (nibble {i})", marker
            return (f"{spot.name}: expected {_expected_field(exp, spot)}, got "
                    f"{format_value(spot.field, _bits(pkt, spot.bit, spot.width), spot.width)} "
                    f"(byte {i // 2})"), marker
    if e.exact_length and len(got) != len(exp):
        return f"received {len(pkt)} bytes, expected exactly {len(exp) // 2}", ""
    return None


def _has_ethernet(device: Device) -> bool:
    """Does the program declare a header laid out as Ethernet's (48, 48 and 16 bits)? Then its packets are
    Ethernet frames and the dissector can name the field of a byte (p4c's tests use Ethernet almost always)."""
    return any([f.width for f in layout.fields.values()] == [48, 48, 16]
               for layout in getattr(device, "layouts", {}).values())


def _bits(data: bytes, first: int, width: int) -> int:
    """`width` bits of `data` from bit `first` (0: the most significant bit of byte 0)."""
    return (int.from_bytes(data, "big") >> (len(data) * 8 - first - width)) & ((1 << width) - 1)


def _expected_field(nibbles: str, spot) -> str:
    """The expected value of a field, from an expect line's nibbles: formatted as the field is (format_value),
    or in hex with the '*' nibbles when some of its bits may be anything."""
    first, last = spot.bit // 4, (spot.bit + spot.width - 1) // 4
    # An expectation that ends inside the field leaves its last nibbles free, as '*' would.
    part = nibbles[first:last + 1].ljust(last + 1 - first, "*")
    if "*" not in part:
        value = _bits(bytes.fromhex(part if len(part) % 2 == 0 else part + "0"), spot.bit - first * 4, spot.width)
        return format_value(spot.field, value, spot.width)
    return "0x" + part.lower()


def run_stf(device: Device, source: SourceFile, trace: bool = False, echo=None) -> StfResult:
    return StfRunner(device, source, trace, echo).run()
