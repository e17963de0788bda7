"""P4 tutorials topologies: an exercise's `topology.json` and `sX-runtime.json` files, loaded as a Topology.

The P4 tutorials (p4lang/tutorials) describe each exercise's network for
their Mininet runner (utils/run_exercise.py), which the exercise's Makefile
starts from the exercise directory:

    {"hosts": {"h1": {"ip": "10.0.1.1/24", "mac": "08:00:00:00:01:11",
                      "commands": ["route add default gw 10.0.1.10 dev eth0",
                                   "arp -i eth0 -s 10.0.1.10 08:00:00:00:01:00"]}},
     "switches": {"s1": {"runtime_json": "pod-topo/s1-runtime.json"}},
     "links": [["h1", "s1-p1"], ["s1-p3", "s2-p3", "0", 0.5]]}

This module reads that file as it is, so that an exercise directory runs
without changes:

- hosts get one interface, eth0. Their `commands` are shell commands that
  the runner executes on the host; the ones that configure the network are
  understood (a default route, static ARP entries), one that changes
  nothing here is accepted (a route to the host's own subnet, as in the
  multicast exercise), and any other is an error rather than silently
  skipped;
- a switch runs a P4 program: the `program` given to load_tutorial_topology
  (the command line's --program), else the switch's own "program", else the
  source of the compiled "bmv2_json" named in its runtime JSON
  (build/basic.json -> basic.p4, looked up in the exercise directory, then
  in its solution/ directory), else the only .p4 file of the exercise (what
  the tutorials' Makefile compiles). Its table entries are its runtime JSON;
- a link end is a host name or "sN-pK" (port K of switch sN); a link may add
  a latency (a number is milliseconds; a string goes to tc as it is, where a
  bare number is microseconds) and a bandwidth in Mbit/s. Its queue holds 64
  frames, as a BMv2 switch port does: that is where a bottleneck link's
  traffic waits (the queue v1model's enq_qdepth reports) and overflows.

Relative paths (runtime_json, program) are relative to the directory the
Makefile runs in, the exercise directory, which holds topology.json itself
or its parent directory (exercises/basic/pod-topo/topology.json); both are
tried. Every error names the file, line and column of the offending value.
"""

from __future__ import annotations

import glob
import ipaddress
import os
import re

from ..controlplane.positions import Positions, load_json
from ..diagnostics import DiagnosticError, SourceFile, Span, error
from ..frontend.preprocess import read_source
from ..locate import find_program, shipped_program
from .topology import (DEFAULT_BANDWIDTH_BPS, DEFAULT_LATENCY, InterfaceSpec, LinkSpec, NodeSpec, Topology,
                       _Loader, _parse_mac, p4runtime_setting, suggest, build_graph, parse_rate, parse_time)

TOP_KEYS = {"hosts", "switches", "links"}
HOST_KEYS = {"ip", "mac", "commands"}
SWITCH_KEYS = {"runtime_json", "program", "cli_input", "p4runtime"}
# Keys run_exercise.py knows that ask for something the simulator does not model: recognised, so that
# the message says what is missing, and refused, so that the network never silently differs.
UNSUPPORTED_SWITCH_KEYS = {
    "cli_input": "simple_switch_CLI command files are not supported; give the entries as a runtime JSON file "
                 "(runtime_json)",
    "cpu_port": "a controller on the CPU port is not supported yet (it needs P4Runtime: packet-in, "
                "packet-out, and table entries the controller adds while packets flow)",
    "priority_queues": "BMv2 priority queues are not supported",
}
HOST_IFACE = "eth0"
# A switch port's queue: BMv2 simple_switch queues 64 packets per egress port by default, and that queue is the
# one a P4 program sees (standard_metadata.enq_qdepth) and the one that overflows when a link is the bottleneck.
SWITCH_QUEUE_FRAMES = 64
MAX_PORT = 509                       # as in YAML topologies: 510 and 511 are BMv2's CPU and drop ports
SUPPORTED_COMMANDS = ("supported commands: 'route add default gw ADDRESS [dev eth0]', "
                      "'ip route add default via ADDRESS [dev eth0]', 'arp [-i eth0] -s ADDRESS MAC', and "
                      "'ip route add SUBNET dev eth0' for the host's own subnet (which changes nothing)")


def load_tutorial_topology(path: str, program: str | None = None, settings=()) -> Topology:
    """Load a P4 tutorials topology.json; `program` (a path or a shipped program's name) overrides every
    switch's program; `settings`: --set PATH=VALUE changes (net/setpath.py)."""
    source = read_source(path, kind="topology files")
    doc, pos = load_json(source)
    if settings:
        from .setpath import apply_settings
        doc = apply_settings(doc, pos, settings)
    return _TutorialLoader(source, doc, pos, program).load()


class _TutorialLoader(_Loader):
    """Reuses the YAML loader's error helpers (fail, expect, check_keys, value) on JSON positions."""

    def __init__(self, source: SourceFile, doc, pos: Positions, program: str | None):
        super().__init__(source, doc, pos)
        topo_dir = os.path.dirname(os.path.abspath(source.path))
        # The exercise directory is the topology file's directory or its parent; try both, nearest first.
        self.dirs = [topo_dir, os.path.dirname(topo_dir)]
        self.override = _override_program(program) if program is not None else None

    def load(self) -> Topology:
        doc = self.expect(self.doc, dict, (), "a tutorial topology")
        self.check_keys(doc, TOP_KEYS, (), "the topology")
        hosts = self.expect(doc.get("hosts", {}), dict, ("hosts",), "hosts")
        switches = self.expect(doc.get("switches", {}), dict, ("switches",), "switches")
        nodes: dict[str, NodeSpec] = {}
        for name, spec in hosts.items():
            nodes[name] = self.host(name, spec, ("hosts", name), len(nodes))
        for name, spec in switches.items():
            if name in nodes:
                raise self.fail(f"'{name}' is both a host and a switch", ("switches", name), key=True)
            nodes[name] = self.switch(name, spec, ("switches", name))
        used: dict[tuple[str, str], tuple] = {}
        links = [self.tutorial_link(i, item, nodes, used)
                 for i, item in enumerate(self.expect(doc.get("links", []), list, ("links",), "links"))]
        self.number_switch_ports(nodes)
        topo = Topology(name=_display_name(self.src.path), path=self.src.path, nodes=nodes, links=links,
                        traffic=[], positions=self.pos)
        topo.graph = build_graph(topo)
        topo.notes = self.program_notes(nodes)
        return topo

    def program_notes(self, nodes: dict) -> list[str]:
        """Which program each switch runs, and a word when it is an exercise's skeleton: run without
        --program, the tutorials' topologies pick the exercise's own .p4 file, which is unfinished (its
        tables have no working actions yet), and a newcomer sees only 100% loss."""
        by_program: dict[str, list[str]] = {}
        for name, node in nodes.items():
            if node.kind == "p4":
                by_program.setdefault(node.program, []).append(name)
        notes = []
        for program, switches in by_program.items():
            shown = _shown_path(program)
            how = " (chosen with --program)" if self.override is not None else ""
            notes.append(f"{'switch' if len(switches) == 1 else 'switches'} {' '.join(switches)} "
                         f"run{'s' if len(switches) == 1 else ''} {shown}{how}")
            solution = os.path.join(os.path.dirname(program), "solution", os.path.basename(program))
            if self.override is None and os.path.isfile(solution):
                notes.append(f"note: {shown} is the exercise's skeleton, left for you to complete; to run the "
                             f"finished program add --program {_shown_path(solution)}")
        return notes

    # ------------------------------------------------------------------ hosts

    def host(self, name: str, spec, path: tuple, index: int) -> NodeSpec:
        self.expect(spec, dict, path, f"host '{name}'")
        self.check_keys(spec, HOST_KEYS, path, f"host '{name}'")
        if "ip" not in spec:
            raise self.fail(f"host '{name}' needs an 'ip', such as \"10.0.1.1/24\"", path, key=True)
        ip = self.value(_parse_host_ip, spec["ip"], path + ("ip",), "ip")
        # Mininet makes up a MAC address when none is given; any unique one will do.
        mac = self.value(_parse_mac, spec["mac"], path + ("mac",), "mac") if "mac" in spec else \
            (0x02 << 40) | ((index + 1) << 16) | 1
        # No route command means no default route (gateway None), never the YAML loader's "auto".
        node = NodeSpec(name, "host", gateway4=None, gateway6=None, path=path)
        node.interfaces[HOST_IFACE] = InterfaceSpec(name, HOST_IFACE, 1, mac, ip)
        node.options["static_arp"] = {}
        commands = self.expect(spec.get("commands", []), list, path + ("commands",), "commands")
        for i, text in enumerate(commands):
            cpath = path + ("commands", i)
            self.expect(text, str, cpath, "a command")
            _Command(self, node, text, cpath).apply()
        return node

    # ------------------------------------------------------------------ switches

    def switch(self, name: str, spec, path: tuple) -> NodeSpec:
        self.expect(spec, dict, path, f"switch '{name}'")
        self.check_keys(spec, SWITCH_KEYS | set(UNSUPPORTED_SWITCH_KEYS), path, f"switch '{name}'")
        for key, why in UNSUPPORTED_SWITCH_KEYS.items():
            if key in spec:
                raise self.fail(f"switch '{name}': '{key}': {why}", path + (key,), key=True)
        runtime = self.runtime_path(spec["runtime_json"], path + ("runtime_json",)) if "runtime_json" in spec \
            else None
        program = self.program(name, spec, path, runtime)
        node = NodeSpec(name, "p4", program=program, entries=runtime, path=path)
        if "p4runtime" in spec:
            # Our key: run_exercise.py makes every switch a P4Runtime one when it runs simple_switch_grpc.
            node.options["p4runtime"] = p4runtime_setting(self, spec["p4runtime"], path + ("p4runtime",))
        return node

    def runtime_path(self, value, path: tuple) -> str:
        self.expect(value, str, path, "runtime_json")
        found = _first_file([os.path.join(d, value) for d in self.dirs])
        if found is None:
            raise self.fail(f"cannot find the runtime file '{value}'", path,
                            f"a relative path is looked up from {self.dirs[0]} (the topology file's directory) "
                            f"and from {self.dirs[1]} (where the tutorials' Makefile runs)")
        return found

    def program(self, name: str, spec: dict, path: tuple, runtime: str | None) -> str:
        if self.override is not None:
            return self.override
        if "program" in spec:
            return self.named_program(spec["program"], path + ("program",))
        if runtime is not None:
            found = self.program_of_runtime(runtime)
            if found is not None:
                return found
        only = self.only_program()
        if only is not None:
            return only
        raise self.fail(f"switch '{name}': cannot tell which P4 program it runs", path,
                        "give it a \"program\", or pass --program FILE.p4 to choose the program of every switch",
                        key=True)

    def named_program(self, value, path: tuple) -> str:
        """A switch's "program": run_exercise.py wants a compiled JSON (build/x.json), so find x.p4; a .p4
        path, or the name of a program we ship, is taken as it is."""
        self.expect(value, str, path, "program")
        if value.endswith(".json"):
            found, looked = self.source_of_json(value)
        else:
            looked = [os.path.join(d, value) for d in self.dirs]
            found = _first_file(looked)
            if found is None and os.path.basename(value) == value:
                found = shipped_program(value)
        if found is None:
            raise self.fail(f"cannot find the P4 program '{value}'", path,
                            f"looked for {_or_list(looked)}; or pass --program FILE.p4")
        return found

    def program_of_runtime(self, runtime: str) -> str | None:
        """The source of the runtime JSON's "bmv2_json"; None when it names none (an error when it names one
        that cannot be found)."""
        # The entries are skipped as they are read (the loader reads them later): a long file costs no memory.
        doc, pos = load_json(read_source(runtime, kind="runtime JSON files"),
                             each=lambda path: _skip if path == ("table_entries",) else None)
        if not isinstance(doc, dict) or "bmv2_json" not in doc:
            return None
        value = doc["bmv2_json"]
        if not isinstance(value, str):
            raise error("bmv2_json must be a string", pos.span(("bmv2_json",)))
        found, looked = self.source_of_json(value)
        if found is None:
            raise error(f"cannot find the P4 source of '{value}'", pos.span(("bmv2_json",)),
                        f"looked for {_or_list(looked)}; pass --program FILE.p4 to choose the program of "
                        f"every switch")
        return found

    def source_of_json(self, value: str) -> tuple[str | None, list[str]]:
        """p4c writes build/basic.json for basic.p4: look for basic.p4 in the exercise directory, then in
        solution/ (the tutorials keep the finished programs there)."""
        stem = os.path.splitext(os.path.basename(value))[0]
        looked = [os.path.join(d, stem + ".p4") for d in self.dirs] + \
                 [os.path.join(d, "solution", stem + ".p4") for d in self.dirs]
        return _first_file(looked), looked

    def only_program(self) -> str | None:
        """The Makefile's default program: the .p4 file of the exercise directory, when there is just one."""
        found = sorted({os.path.normpath(p) for d in self.dirs for p in glob.glob(os.path.join(d, "*.p4"))})
        return found[0] if len(found) == 1 else None

    # ------------------------------------------------------------------ links

    def tutorial_link(self, i: int, item, nodes: dict, used: dict) -> LinkSpec:
        path = ("links", i)
        self.expect(item, list, path, "a link")
        if not 2 <= len(item) <= 4:
            raise self.fail("a link is [end, end] or [end, end, latency, bandwidth]", path)
        a = self.end(item[0], path + (0,), nodes, used)
        b = self.end(item[1], path + (1,), nodes, used)
        # Unstated latency and bandwidth take the YAML topologies' defaults (a gigabit LAN's wire).
        latency = self.value(_parse_latency, item[2], path + (2,), "latency") if len(item) > 2 else \
            parse_time(DEFAULT_LATENCY)
        bandwidth = self.value(_parse_bandwidth, item[3], path + (3,), "bandwidth") if len(item) > 3 else \
            parse_rate(DEFAULT_BANDWIDTH_BPS)
        return LinkSpec(f"{a[0]}-{b[0]}", a, b, mtu=1500, latency_ns=latency, bandwidth_bps=bandwidth,
                        queue=SWITCH_QUEUE_FRAMES, path=path)

    def end(self, text, path: tuple, nodes: dict, used: dict) -> tuple[str, str]:
        self.expect(text, str, path, "a link end")
        node, iface = self.parse_end(text, path, nodes)
        if (node, iface) in used:
            other = self.pos.span(used[(node, iface)])
            what = f"host '{node}'" if iface == HOST_IFACE else f"port {iface[1:]} of switch '{node}'"
            raise self.fail(f"{what} is already on the link at line {other.line}, column {other.col}", path)
        used[(node, iface)] = path
        return node, iface

    def parse_end(self, text: str, path: tuple, nodes: dict) -> tuple[str, str]:
        if text in nodes and nodes[text].kind == "host":
            return text, HOST_IFACE
        m = re.fullmatch(r"(.+)-p([0-9]+)", text)        # [0-9], not \d, which takes any script's digits
        if m is None:
            hint = f"a switch port is written {text}-p1" if text in nodes else \
                suggest(text, nodes) or "a link end is a host name or a switch port such as s1-p1"
            raise self.fail(f"'{text}' is not a host nor a switch port", path, hint)
        name, digits = m.group(1), m.group(2).lstrip("0") or "0"
        if name not in nodes or nodes[name].kind == "host":
            switches = [n for n, s in nodes.items() if s.kind != "host"]
            raise self.fail(f"no switch '{name}'", path,
                            suggest(name, switches) or f"the switches are {', '.join(switches) or 'none'}")
        # The length first: int() refuses numbers of thousands of digits.
        if len(digits) > len(str(MAX_PORT)) or int(digits) > MAX_PORT:
            shown = digits if len(digits) <= 12 else digits[:12] + "..."
            raise self.fail(f"port {shown} is out of range (0..{MAX_PORT})", path)
        port = int(digits)
        iface = f"p{port}"
        switch = nodes[name]
        switch.interfaces[iface] = InterfaceSpec(name, iface, port, _port_mac(list(nodes).index(name), port))
        return name, iface

    def number_switch_ports(self, nodes: dict) -> None:
        """Interfaces in port order, whatever the order of the links."""
        for n in nodes.values():
            if n.kind != "host":
                n.interfaces = dict(sorted(n.interfaces.items(), key=lambda kv: kv[1].port))


class _Command:
    """One host command, as the shell would split it; errors point at the word they are about."""

    def __init__(self, loader: _TutorialLoader, node: NodeSpec, text: str, path: tuple):
        self.loader, self.node, self.text, self.path = loader, node, text, path
        self.words = [(m.group(), m.start()) for m in re.finditer(r"\S+", text)]
        self.iface = node.interfaces[HOST_IFACE]

    def apply(self) -> None:
        w = [word for word, _ in self.words]
        if w[:3] == ["route", "add", "default"]:
            self.default_route(3, "gw")
        elif w[:4] == ["ip", "route", "add", "default"]:
            self.default_route(4, "via")
        elif w[:3] == ["ip", "route", "add"] and len(w) > 3:
            self.subnet_route()
        elif w[:1] == ["arp"]:
            self.static_arp()
        else:
            raise self.fail(f"unsupported host command '{self.text}'" if self.text.strip() else "empty host command",
                            None, SUPPORTED_COMMANDS)

    def default_route(self, at: int, keyword: str) -> None:
        options = self.options(at, {keyword: 1, "dev": 1})
        if keyword not in options:
            raise self.fail(f"a default route needs '{keyword} ADDRESS'", None, SUPPORTED_COMMANDS)
        self.device(options)
        self.node.gateway4 = self.on_link_address(options[keyword][0], "gateway")

    def subnet_route(self) -> None:
        """'ip route add 10.0.0.0/24 dev eth0' is the route Linux makes for the host's own subnet: nothing to
        do. A route to another subnet would need routes our hosts do not have."""
        try:
            net = ipaddress.IPv4Network(self.words[3][0])
        except ValueError:
            raise self.fail(f"'{self.words[3][0]}' is not a subnet such as 10.0.1.0/24", 3) from None
        self.device(self.options(4, {"dev": 1}))
        if net != self.iface.ipv4.network:
            raise self.fail(f"a route to {net} is not supported: hosts have their own subnet "
                            f"({self.iface.ipv4.network}) and a default route", 3, SUPPORTED_COMMANDS)

    def static_arp(self) -> None:
        options = self.options(1, {"-i": 1, "-s": 2})
        if "-s" not in options:
            raise self.fail("only static entries ('arp -s ADDRESS MAC') are supported", None, SUPPORTED_COMMANDS)
        self.device(options, "-i")
        (addr, at), (mac, mac_at) = options["-s"]
        ip = self.on_link_address((addr, at), "a static ARP entry")
        try:
            self.node.options["static_arp"][ip] = _parse_mac(mac)
        except ValueError as exc:
            raise self.fail(str(exc), mac_at) from None

    # -------------------------------------------------------------- words

    def options(self, start: int, takes: dict[str, int]) -> dict[str, list[tuple[str, int]]]:
        """Options after word `start`: name -> its (word, index) arguments; unknown or repeated ones are
        errors."""
        out: dict[str, list[tuple[str, int]]] = {}
        i = start
        while i < len(self.words):
            name = self.words[i][0]
            if name not in takes:
                raise self.fail(f"'{name}' is not supported in this command", i, SUPPORTED_COMMANDS)
            if name in out:
                raise self.fail(f"'{name}' is given twice", i)
            args = [(self.words[j][0], j) for j in range(i + 1, min(i + 1 + takes[name], len(self.words)))]
            if len(args) < takes[name]:
                raise self.fail(f"'{name}' needs {takes[name]} argument{'s' if takes[name] > 1 else ''}", i)
            out[name] = args
            i += 1 + takes[name]
        return out

    def device(self, options: dict, name: str = "dev") -> None:
        if name in options:
            dev, at = options[name][0]
            if dev != HOST_IFACE:
                raise self.fail(f"host '{self.node.name}' has no interface '{dev}'", at,
                                f"tutorial hosts have one interface, {HOST_IFACE}")

    def on_link_address(self, word: tuple[str, int], what: str) -> int:
        """An address on the host's subnet (Linux refuses a gateway or ARP entry elsewhere: 'Network is
        unreachable')."""
        text, at = word
        try:
            addr = ipaddress.IPv4Address(text)
        except ValueError:
            raise self.fail(f"'{text}' is not an IPv4 address", at) from None
        if addr not in self.iface.ipv4.network:
            raise self.fail(f"{what} {addr} is not on the subnet of host '{self.node.name}' "
                            f"({self.iface.ipv4.network})", at)
        return int(addr)

    def fail(self, message: str, word: int | None, hint: str | None = None) -> DiagnosticError:
        return error(message, self.span(word), hint)

    def span(self, word: int | None) -> Span:
        """The span of one word of the command in the JSON file, or of the whole string when the string
        has escapes (then columns in the file and in the text differ)."""
        whole = self.loader.pos.span(self.path)
        if word is None or whole.source is None or whole.end_line != whole.line:
            return whole
        raw = whole.source.line_text(whole.line)[whole.col: whole.end_col - 2]
        if raw != self.text:
            return whole
        text, offset = self.words[word]
        col = whole.col + 1 + offset
        return Span(whole.source, whole.line, col, whole.line, col + len(text))


# ---------------------------------------------------------------------------- values


def _parse_host_ip(v) -> ipaddress.IPv4Interface:
    if not isinstance(v, str):
        raise ValueError("an address with its prefix length, such as \"10.0.1.1/24\"")
    try:
        # Without a prefix length Mininet uses that of its address base 10.0.0.0/8.
        return ipaddress.IPv4Interface(v if "/" in v else v + "/8")
    except ValueError:
        raise ValueError(f"'{v}' is not an IPv4 address with its prefix length, such as 10.0.1.1/24") from None


_TC_UNITS = {"": "us", "s": "s", "sec": "s", "secs": "s", "ms": "ms", "msec": "ms", "msecs": "ms",
             "us": "us", "usec": "us", "usecs": "us", "ns": "ns", "nsec": "ns", "nsecs": "ns"}


def _parse_latency(v) -> int:
    """Nanoseconds. run_exercise.py writes a number as milliseconds and passes a string to tc (through
    Mininet) unchanged; tc reads a number without a unit as microseconds."""
    if isinstance(v, (int, float)) and not isinstance(v, bool):
        if v < 0:
            raise ValueError(f"{v} is negative")
        return parse_time(v)
    m = re.fullmatch(r"\s*([0-9]*\.?[0-9]+)\s*([a-zA-Z]*)\s*", v) if isinstance(v, str) else None
    if m is None or m.group(2).lower() not in _TC_UNITS:
        raise ValueError(f"{v!r} is not a delay such as \"5ms\" or a number of milliseconds")
    return parse_time(m.group(1) + _TC_UNITS[m.group(2).lower()])


def _parse_bandwidth(v) -> float | None:
    """Bits per second from Mbit/s, as Mininet's TCLink takes it; null means no limit."""
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, float)) or v <= 0:
        raise ValueError(f"{v!r} is not a positive number of Mbit/s")
    return float(v) * 1e6


def _skip(path: tuple, value, positions) -> None:
    """An item of a list that load_json is to forget as soon as it is read."""


def _port_mac(index: int, port: int) -> int:
    """Switch port MACs, never seen by the programs of the tutorials but needed by the simulator."""
    return (0x02 << 40) | ((index + 1) << 16) | port


# ---------------------------------------------------------------------------- files


def _shown_path(path: str) -> str:
    """A path as the user would type it: relative to the working directory when it is below it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def _override_program(program: str) -> str:
    found = find_program(program)
    if found is None:
        raise error(f"--program: cannot find the P4 program '{program}'",
                    hint="give a path to a .p4 file, or the name of a program in programs/")
    return found


def _first_file(paths: list[str]) -> str | None:
    for p in paths:
        if os.path.isfile(p):
            return os.path.normpath(os.path.abspath(p))
    return None


def _or_list(paths: list[str]) -> str:
    return ", ".join(paths[:-1]) + f" or {paths[-1]}" if len(paths) > 1 else paths[0]


def _display_name(path: str) -> str:
    """exercises/basic/pod-topo/topology.json -> basic/pod-topo/topology.json."""
    parts = os.path.abspath(path).split(os.sep)
    return "/".join(parts[-3:])
