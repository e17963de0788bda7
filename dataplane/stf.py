"""p4c's STF packet tests, run on a dataplane device.

Commands (keywords are case-insensitive; '#' starts a comment):

    add <table> [<priority>] <key>:<value> ... <action>(<param>:<value>, ...)
    setdefault <table> <action>(<param>:<value>, ...)
    packet <port> <hex bytes>
    expect <port> [<hex bytes, '*' matches any nibble>] [$]
    no_packet                      the previous packet produced no output at all
    remove all                     remove all table entries
    wait                           (packets are processed at once; accepted for compatibility)
    check_counter <name>(<index>) [packets|bytes] [<op> <n>]
    BMv2 CLI passthrough: mirroring_add <session> <port>; mc_mgrp_create <group>;
    mc_node_create <rid> <port>...; mc_node_associate <group> <node>; register_write <name> <index>
    <value>; register_read <name> <index> [<expected>]; counter_read <name> <index> [<op> <n>];
    meter_set_rates <name> <index> <rate>:<burst> <rate>:<burst>

Key values: numbers (decimal, 0x, 0b), addresses, lpm <value>/<length> or hex with trailing '*'
nibbles, ternary hex with '*' nibbles or <value>&&&<mask>, ranges <lo>..<hi>. Table, key and
action names may be given by a suffix of their full name. A larger priority wins.

Comparison, as p4c's BMv2 runner does it: per port, in order; nibble by nibble with '*'
matching anything; a received packet may be longer than expected unless the expectation ends
with '$'; the number of packets on each port must match; `expect N` with no data accepts any
packets on N; a packet on a port that no expect names is a failure.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .controlplane.values import ValueError_, parse_match, parse_scalar, wildcard
from .diagnostics import SourceFile, Span, error
from .runtime.device import Device
from .runtime.errors import ControlPlaneError
from .runtime.tables import KeySpec, MatchValue


@dataclass
class Expectation:
    port: int
    data: str | None          # hex nibbles with '*'; None: any packet
    exact_length: bool
    span: Span


@dataclass
class StfResult:
    passed: bool
    messages: list[str] = field(default_factory=list)
    packets_in: int = 0
    packets_out: int = 0
    drops: list = field(default_factory=list)
    traces: list = field(default_factory=list)


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
        self.mc_nodes: list[tuple[int, list[int]]] = []
        self.time_us = 0.0

    # ------------------------------------------------------------------ errors

    def _span(self, line: int, col: int, length: int = 1) -> Span:
        return Span(self.src, line, col, line, col + max(1, length))

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
        m = re.match(r"\s*(\S+)", text)
        word = m.group(1)
        col = m.start(1) + 1
        rest = text[m.end(1):]
        rest_col = m.end(1) + 1
        name = word.lower()
        handler = getattr(self, "_cmd_" + name, None)
        if handler is None:
            raise error(f"unknown STF command '{word}'", self._span(line, col, len(word)),
                        "commands: add, setdefault, packet, expect, no_packet, remove, wait, check_counter, "
                        "mirroring_add, mc_mgrp_create, mc_node_create, mc_node_associate, register_read, "
                        "register_write, counter_read, meter_set_rates")
        try:
            handler(rest, line, rest_col)
        except (ControlPlaneError, ValueError_) as exc:
            raise error(str(exc), self._span(line, col, len(text.rstrip()) - col + 1)) from None

    def _words(self, rest: str, line: int, col: int) -> list[tuple[str, int]]:
        return [(m.group(0), col + m.start()) for m in re.finditer(r"\S+", rest)]

    # ------------------------------------------------------------------ packets

    def _cmd_packet(self, rest, line, col):
        words = self._words(rest, line, col)
        if not words:
            raise error("packet needs a port and hex bytes", self._span(line, col))
        port = self._int(words[0], line, "port")
        hexdata = "".join(w for w, _ in words[1:])
        if not re.fullmatch(r"[0-9a-fA-F]*", hexdata) or len(hexdata) % 2:
            raise error("packet data must be an even number of hex digits", self._span(line, words[1][1] if
                                                                                        len(words) > 1 else col))
        data = bytes.fromhex(hexdata)
        self.time_us += 1.0
        r = self.dev.process(port, data, now_us=self.time_us, trace=self.trace)
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

    def _cmd_expect(self, rest, line, col):
        words = self._words(rest, line, col)
        if not words:
            raise error("expect needs a port", self._span(line, col))
        port = self._int(words[0], line, "port")
        data = "".join(w for w, _ in words[1:])
        exact = data.endswith("$")
        if exact:
            data = data[:-1]
        if data and not re.fullmatch(r"[0-9a-fA-F*]*", data):
            bad = next(i for i, c in enumerate(data) if c not in "0123456789abcdefABCDEF*")
            raise error(f"unexpected character {data[bad]!r} in expected packet data",
                        self._span(line, words[1][1] if len(words) > 1 else col),
                        "use hex digits, '*' for any nibble, and '$' at the end for an exact length")
        self.expectations.append(Expectation(port, data.upper() if data else None, exact,
                                             self._span(line, col, len(rest.strip()))))

    def _cmd_no_packet(self, rest, line, col):
        if self.last_outputs:
            ports = ", ".join(str(p) for p, _ in self.last_outputs)
            self.fail_check(f"line {line}: no_packet: the previous packet was sent out on port(s) {ports}")

    def _cmd_wait(self, rest, line, col):
        pass

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
        if re.fullmatch(r"\d+", words[1][0]):
            priority = int(words[1][0])
            i = 2
        match: dict[str, tuple[str, int]] = {}
        while i < len(words) and "(" not in words[i][0]:
            w, c = words[i]
            if ":" not in w:
                raise error(f"expected <key>:<value>, got '{w}'", self._span(line, c, len(w)))
            k, _, v = w.partition(":")
            key = self._key(table, k, line, c)
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
        name = re.sub(r"\$(\d+)", r"[\1]", name)
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
        if "*" in t and t not in ("*", "_") and prefix in ("0x", "0b", "0o"):
            bits, radix, top = {"0x": (4, 16, "f"), "0b": (1, 2, "1"), "0o": (3, 8, "7")}[prefix]
            digits = t[2:]
            full = (1 << k.width) - 1
            value = int(digits.replace("*", "0"), radix) & full
            mask = int("".join("0" if c == "*" else top for c in digits), radix) & full
            if k.match_kind == "lpm":
                if "*" in digits.rstrip("*"):
                    raise ValueError_(f"key '{k.name}' is lpm: '*' digits must all be at the end")
                excess = max(0, len(digits) * bits - k.width)
                return parse_match(k, [value, max(0, len(digits.rstrip("*")) * bits - excess)])
            return parse_match(k, [value, mask])
        return parse_match(k, t)

    def _action(self, table, text: str, line: int, col: int):
        m = re.fullmatch(r"([\w.]+)\s*(?:\((.*)\))?\s*", text)
        if not m:
            raise error(f"expected an action such as fwd(port:1), got '{text}'", self._span(line, col, len(text)))
        action = table.action(m.group(1))
        args: dict[str, int] = {}
        widths = dict(action.params)
        body = (m.group(2) or "").strip()
        if body:
            for part in body.split(","):
                part = part.strip()
                if ":" not in part:
                    raise error(f"expected <param>:<value> in '{part}'", self._span(line, col, len(text)))
                pname, _, pval = part.partition(":")
                pname = pname.strip()
                if pname not in widths:
                    raise error(f"action '{action.name}' has no parameter '{pname}'",
                                self._span(line, col, len(text)), f"its parameters: {', '.join(widths) or 'none'}")
                args[pname] = parse_scalar(pval.strip(), widths[pname], f"parameter '{pname}'")
        return action, args

    # ------------------------------------------------------------------ externs and replication

    def _int(self, word: tuple[str, int], line: int, what: str) -> int:
        try:
            return int(word[0], 0)
        except ValueError:
            raise error(f"{what} must be a number, not '{word[0]}'", self._span(line, word[1], len(word[0])))

    def _cmd_mirroring_add(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) != 2:
            raise error("mirroring_add needs <session> <port>", self._span(line, col))
        self.dev.clone_session_set(self._int(w[0], line, "session"), port=self._int(w[1], line, "port"))

    def _cmd_mc_mgrp_create(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) != 1:
            raise error("mc_mgrp_create needs <group>", self._span(line, col))
        self.dev.mcast_group_set(self._int(w[0], line, "group"), [])

    def _cmd_mc_node_create(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) < 2:
            raise error("mc_node_create needs <rid> <port>...", self._span(line, col))
        rid = self._int(w[0], line, "rid")
        self.mc_nodes.append((rid, [self._int(x, line, "port") for x in w[1:]]))

    def _cmd_mc_node_associate(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) != 2:
            raise error("mc_node_associate needs <group> <node handle>", self._span(line, col))
        group, node = self._int(w[0], line, "group"), self._int(w[1], line, "node handle")
        if not 0 <= node < len(self.mc_nodes):
            raise error(f"there is no multicast node {node}", self._span(line, w[1][1]))
        rid, ports = self.mc_nodes[node]
        members = list(self.dev.mcast_groups.get(group, []))
        members.extend((p, rid) for p in ports)
        self.dev.mcast_group_set(group, members)

    def _cmd_register_write(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) != 3:
            raise error("register_write needs <name> <index> <value>", self._span(line, col))
        self.dev.register_write(w[0][0], self._int(w[1], line, "index"), self._int(w[2], line, "value"))

    def _cmd_register_read(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) not in (2, 3, 4):
            raise error("register_read needs <name> <index> [[<op>] <expected>]", self._span(line, col))
        value = self.dev.register_read(w[0][0], self._int(w[1], line, "index"))
        if len(w) > 2:
            op = w[2][0] if len(w) == 4 else "=="
            if op not in _OPS:
                raise error(f"unknown comparison '{op}'", self._span(line, w[2][1]), "use ==, !=, <, >, <= or >=")
            expected = self._int(w[-1], line, "expected value")
            if not _OPS[op](value, expected):
                self.fail_check(f"line {line}: register {w[0][0]}[{w[1][0]}] is {value}, expected {op} {expected}")

    def _cmd_counter_read(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) < 2:
            raise error("counter_read needs <name> <index>", self._span(line, col))
        self._check_counter(w[0][0], self._int(w[1], line, "index"), w[2:], line, col)

    def _cmd_check_counter(self, rest, line, col):
        m = re.match(r"\s*([\w.]+)\s*\(\s*(\w+)\s*\)(.*)$", rest)
        if not m:
            raise error("check_counter needs <name>(<index>)", self._span(line, col))
        self._check_counter(m.group(1), int(m.group(2), 0), self._words(m.group(3), line, col), line, col)

    def _check_counter(self, name: str, index: int, words, line: int, col: int) -> None:
        packets, nbytes = self.dev.counter_read(name, index)
        kind = "packets"
        if words and words[0][0] in ("packets", "bytes"):
            kind = words[0][0]
            words = words[1:]
        if not words:
            return
        if len(words) == 1:
            op, val = "==", words[0]
        else:
            op, val = words[0][0], words[1]
        if op not in _OPS:
            raise error(f"unknown comparison '{op}'", self._span(line, col), "use ==, !=, <, >, <= or >=")
        expected = self._int(val, line, "count")
        actual = packets if kind == "packets" else nbytes
        if not _OPS[op](actual, expected):
            self.fail_check(f"line {line}: counter {name}({index}) {kind} is {actual}, expected {op} {expected}")

    def _cmd_meter_set_rates(self, rest, line, col):
        w = self._words(rest, line, col)
        if len(w) != 4:
            raise error("meter_set_rates needs <name> <index> <rate>:<burst> <rate>:<burst>", self._span(line, col))
        try:
            (cir, cbs), (pir, pbs) = (tuple(x[0].split(":")) for x in w[2:])
            self.dev.meter_set_rates(w[0][0], self._int(w[1], line, "index"), float(cir), int(cbs), float(pir),
                                     int(pbs))
        except ValueError:
            raise error("rates are <rate>:<burst>, e.g. 0.0001:10", self._span(line, w[2][1]))

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
            for i, (e, pkt) in enumerate(zip(exps, got)):
                problem = _compare(e, pkt)
                if problem:
                    self.fail_check(f"port {port}, packet {i + 1} (expected at {e.span}): {problem[0]}\n"
                                    f"    expected: {_spaced(e.data)}{'$' if e.exact_length else ''}\n"
                                    f"    received: {_spaced(pkt.hex().upper())}"
                                    + (f"\n              {problem[1]}" if problem[1] else ""))


def _spaced(hexstr: str) -> str:
    return " ".join(hexstr[i:i + 2] for i in range(0, len(hexstr), 2))


def _compare(e: Expectation, pkt: bytes) -> tuple[str, str] | None:
    got = pkt.hex().upper()
    exp = e.data
    if len(got) < len(exp):
        return f"received {len(pkt)} bytes, expected at least {len(exp) // 2}", ""
    for i, c in enumerate(exp):
        if c != "*" and c != got[i]:
            marker = " " * (i + i // 2) + "^"
            return f"differs at byte {i // 2} (nibble {i})", marker
    if e.exact_length and len(got) != len(exp):
        return f"received {len(pkt)} bytes, expected exactly {len(exp) // 2}", ""
    return None


def run_stf(device: Device, source: SourceFile, trace: bool = False, echo=None) -> StfResult:
    return StfRunner(device, source, trace, echo).run()
