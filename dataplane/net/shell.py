"""`dataplane cli TOPO`: an interactive prompt over a running simulation, with Mininet's and
simple_switch_CLI's words.

    dataplane> pingall
    dataplane> h1 ping -c 3 h2
    dataplane> s1 table_dump MyIngress.ipv4_lpm
    dataplane> link s1 s2 down

Simulated time advances only while a command runs: a ping runs the simulation until the ping is
done, `wait 2s` (or `sleep 2`) lets it run on; between commands nothing moves. Commands are
Mininet's (`nodes`, `net`, `links`, `dump`, `intfs`, `pingall`, `link A B up|down`, and commands
addressed to a host: `h1 ping h2`, `h1 traceroute h2`, `h1 tcp h2 80 50000`, ...) and, addressed to
a device, simple_switch_CLI's (`s1 table_add ...`, `s1 counter_read ...`; see
controlplane/switch_cli.py, the parser STF uses too). An error prints one line and the session
goes on.

Standard input that is not a terminal, or --script FILE, or -c 'cmd; cmd', runs the commands one
after the other, each echoed after the prompt (as Mininet shows a piped session), so that a
transcript reads like an interactive session; the exit status is 1 if any command failed.

The Python API: Shell(net).run_line("h1 ping -c 1 h2") -> True if it worked; output goes to the
Shell's stdout.
"""

from __future__ import annotations

import argparse
import cmd
import ipaddress
import os
import shlex
import sys
from dataclasses import dataclass
from typing import Callable

from ..controlplane.switch_cli import ARGUMENT_KINDS
from ..controlplane.switch_cli import COMMANDS as SWITCH_COMMANDS
from ..controlplane.switch_cli import CommandError, SwitchCli
from ..controlplane.values import ValueError_
from ..diagnostics import DiagnosticError, error
from ..runtime.errors import ControlPlaneError
from .network import Network
from .units import format_duration

PROMPT = "dataplane> "
S = 1_000_000_000
# The most simulated time one command runs while it waits for its application to finish: beyond it
# the prompt comes back (`wait` lets the application go on). Generous: a traceroute to a silent
# address takes 30 hops x 3 probes x 5 s.
COMMAND_LIMIT_NS = 3600 * S
HISTORY_FILE = "~/.dataplane_history"


class ShellError(Exception):
    """A command that cannot be done: one line for the user, and the session goes on."""


class _Arguments(argparse.ArgumentParser):
    """argparse for the words after a command, with errors for the shell instead of an exit."""

    def error(self, message: str):
        usage = HOST_COMMANDS[self.prog].usage if self.prog in HOST_COMMANDS else self.prog
        raise ShellError(f"{self.prog}: {message} (usage: {usage})")

    def exit(self, status=0, message=None):
        raise ShellError(message or f"{self.prog}: bad arguments")


def _arguments(prog: str) -> _Arguments:
    return _Arguments(prog=prog, add_help=False, allow_abbrev=False)


# ---------------------------------------------------------------------------- commands addressed to a host


@dataclass(frozen=True)
class HostCommand:
    """A word that may follow a host's name: `run(shell, host, argv)` does it."""
    run: Callable[["Shell", str, list[str]], None]
    usage: str
    summary: str


# Commands addressed to a host (`h1 ping h2`), by word: adding one is one entry here.
HOST_COMMANDS: dict[str, HostCommand] = {}


def host_command(word: str, usage: str, summary: str):
    def register(fn):
        HOST_COMMANDS[word] = HostCommand(fn, usage, summary)
        return fn
    return register


def _duration(text: str, what: str) -> int:
    """A duration: 2s, 500ms, 250us; a bare number is seconds (as ping -i and sleep take it)."""
    from .topology import parse_time
    try:
        return parse_time(text + "s" if _is_number(text) else text)
    except ValueError as exc:
        raise ShellError(f"{what}: {exc}") from None


def _is_number(text: str) -> bool:
    try:
        float(text)
        return True
    except ValueError:
        return False


def _is_v6_literal(text: str) -> bool:
    try:
        return ipaddress.ip_address(text).version == 6
    except ValueError:
        return False


def _ping(shell: "Shell", host: str, argv: list[str], v6: bool, prog: str) -> None:
    from .apps import Ping
    p = _arguments(prog)
    p.add_argument("-c", dest="count", type=int, default=4)
    p.add_argument("-s", dest="size", type=int, default=56)
    p.add_argument("-i", dest="interval", default="1")
    p.add_argument("-t", dest="ttl", type=int)
    p.add_argument("-W", dest="timeout", default="2")
    p.add_argument("-M", dest="pmtu", choices=("do", "dont", "want"))
    p.add_argument("-6", dest="v6", action="store_true")
    p.add_argument("-4", dest="v4", action="store_true")
    p.add_argument("dst")
    a = p.parse_args(argv)
    if not 1 <= a.count <= 100_000 or not 0 <= a.size <= 65507 or (a.ttl is not None and not 1 <= a.ttl <= 255):
        raise ShellError(f"{prog}: -c must be 1 to 100000, -s 0 to 65507 and -t 1 to 255")
    v6 = (v6 or a.v6 or _is_v6_literal(a.dst)) and not a.v4
    interval, timeout = _duration(a.interval, f"{prog} -i"), _duration(a.timeout, f"{prog} -W")
    app = shell.make(lambda: Ping(shell.net, host, a.dst, count=a.count, size=a.size, interval_ns=interval,
                                  df=a.pmtu == "do", v6=v6, ttl=a.ttl, timeout_ns=timeout,
                                  on_done=lambda _: None))
    shell.run_app(app)


@host_command("ping", "h1 ping [-c COUNT] [-s SIZE] [-i SECONDS] [-t TTL] [-W SECONDS] [-M do] [-6] DST",
              "ping a node or an address (default: 4 echo requests)")
def _host_ping(shell, host, argv):
    _ping(shell, host, argv, False, "ping")


@host_command("ping6", "h1 ping6 [options as ping] DST", "ping over IPv6")
def _host_ping6(shell, host, argv):
    _ping(shell, host, argv, True, "ping6")


def _traceroute(shell: "Shell", host: str, argv: list[str], v6: bool, prog: str) -> None:
    from .apps import Traceroute
    p = _arguments(prog)
    p.add_argument("-m", dest="max_hops", type=int, default=30)
    p.add_argument("-q", dest="queries", type=int, default=3)
    p.add_argument("-w", dest="wait", default="5")
    p.add_argument("-6", dest="v6", action="store_true")
    p.add_argument("dst")
    a = p.parse_args(argv)
    if not 1 <= a.max_hops <= 255 or not 1 <= a.queries <= 10:
        raise ShellError(f"{prog}: -m must be 1 to 255 and -q 1 to 10")
    v6 = v6 or a.v6 or _is_v6_literal(a.dst)
    wait = _duration(a.wait, f"{prog} -w")
    shell.run_app(shell.make(lambda: Traceroute(shell.net, host, a.dst, v6=v6, max_hops=a.max_hops,
                                                queries=a.queries, wait_ns=wait)))


@host_command("traceroute", "h1 traceroute [-m MAX_HOPS] [-q QUERIES] [-w SECONDS] [-6] DST",
              "the route to a node or an address")
def _host_traceroute(shell, host, argv):
    _traceroute(shell, host, argv, False, "traceroute")


@host_command("traceroute6", "h1 traceroute6 [options as traceroute] DST", "traceroute over IPv6")
def _host_traceroute6(shell, host, argv):
    _traceroute(shell, host, argv, True, "traceroute6")


def _flow_arguments(prog: str, numbers: list[tuple[str, int]]) -> _Arguments:
    p = _arguments(prog)
    p.add_argument("-6", dest="v6", action="store_true")
    p.add_argument("dst")
    for name, default in numbers:
        p.add_argument(name, type=int, nargs="?", default=default)
    return p


def _check_port(prog: str, port: int) -> None:
    if not 1 <= port <= 65535:
        raise ShellError(f"{prog}: port {port} is not 1 to 65535")


@host_command("tcp", "h1 tcp DST [PORT] [BYTES] [-6]", "a TCP transfer of BYTES (default 10000) to PORT (5001)")
def _host_tcp(shell, host, argv):
    a = _flow_arguments("tcp", [("port", 5001), ("bytes", 10_000)]).parse_args(argv)
    _check_port("tcp", a.port)
    if not 0 <= a.bytes <= 1 << 30:
        raise ShellError("tcp: BYTES must be 0 to 1073741824")
    from .transfers import TcpTransfer
    app = shell.make(lambda: TcpTransfer(shell.net, host, a.dst, port=a.port, nbytes=a.bytes,
                                         v6=a.v6 or _is_v6_literal(a.dst)))
    shell.run_app(app, finished=lambda: _tcp_finished(app))


def _tcp_finished(app) -> bool:
    """A transfer is over for its user once both ends have closed, as a client program returns
    then; the client's TIME-WAIT (2 MSL) runs on in the background, as it does in a kernel."""
    client = app.client
    if app.done or app.error:
        return True
    if client is None or client.state not in ("TIME-WAIT", "CLOSED"):
        return False
    server = app.peer_end()
    return server is None or server.state == "CLOSED"


@host_command("udp", "h1 udp DST [PORT] [COUNT] [SIZE] [-i SECONDS] [-6]",
              "COUNT (default 10) UDP datagrams of SIZE bytes (512) to PORT (9000)")
def _host_udp(shell, host, argv):
    p = _flow_arguments("udp", [("port", 9000), ("count", 10), ("size", 512)])
    p.add_argument("-i", dest="interval", default="1ms")
    a = p.parse_args(argv)
    _check_port("udp", a.port)
    if not 1 <= a.count <= 1_000_000 or not 4 <= a.size <= 65507:
        raise ShellError("udp: COUNT must be 1 to 1000000 and SIZE 4 to 65507")
    from .apps import UdpFlow
    interval = _duration(a.interval, "udp -i")
    app = shell.make(lambda: UdpFlow(shell.net, host, a.dst, port=a.port, count=a.count, size=a.size,
                                     interval_ns=interval, v6=a.v6 or _is_v6_literal(a.dst)))
    # A UDP flow is done when its last datagram is sent; give that one a moment to arrive.
    shell.run_app(app, settle_ns=S)


@host_command("send", "h1 send [-c COUNT] [-i SECONDS] [--port PORT] [--payload TEXT] HEADERS | --hex HEX",
              "a frame built from the P4 program's header types, e.g. h1 send '{p4calc: {op: \"+\", "
              "operand_a: 1, operand_b: 2}}'")
def _host_send(shell, host, argv):
    from ..controlplane.positions import load_yaml
    from ..diagnostics import DiagnosticError, SourceFile
    from . import craft
    p = _arguments("send")
    p.add_argument("-c", dest="count", type=int, default=1)
    p.add_argument("-i", dest="interval", default="1")
    p.add_argument("--port", type=int)
    p.add_argument("--payload", default="")
    p.add_argument("--hex")
    p.add_argument("headers", nargs="*")       # the YAML may come unquoted, in several words
    a = p.parse_args(argv)
    a.headers = " ".join(a.headers) or None
    if (a.headers is None) == (a.hex is None):
        raise ShellError("send: give the headers (YAML, quoted) or --hex, not both")
    if not 1 <= a.count <= 1_000_000:
        raise ShellError("send: -c must be 1 to 1000000")
    headers = None
    if a.headers is not None:
        try:
            headers, _ = load_yaml(SourceFile("<headers>", a.headers))
        except DiagnosticError as exc:
            raise ShellError(f"send: the headers are not valid YAML: {exc.diagnostics[0].message}") from None
    interval = _duration(a.interval, "send -i")
    receivers = craft.listen(shell.net)
    seen = {name: len(r.received) for name, r in receivers.items()}
    try:
        app = craft.Sender(shell.net, host, headers=headers, payload=a.payload, hex=a.hex, count=a.count,
                           interval_ns=interval, port=a.port)
    except craft.CraftError as exc:
        raise ShellError(f"send: {exc}") from None

    def show_received():
        for name, receiver in receivers.items():
            for received in receiver.received[seen[name]:]:
                shell.say(received.render(name))
    # The frames are sent at once; give them a moment to cross the network and come back.
    shell.run_app(app, settle_ns=S, then=show_received)


@host_command("sctp", "h1 sctp DST [PORT] [MESSAGES] [SIZE] [-6]",
              "an SCTP association sending MESSAGES (default 3) of SIZE bytes (100) to PORT (5002)")
def _host_sctp(shell, host, argv):
    a = _flow_arguments("sctp", [("port", 5002), ("messages", 3), ("size", 100)]).parse_args(argv)
    _check_port("sctp", a.port)
    if not 0 <= a.messages <= 10_000 or not 1 <= a.size <= 65000:
        raise ShellError("sctp: MESSAGES must be 0 to 10000 and SIZE 1 to 65000")
    from .transfers import SctpTransfer
    shell.run_app(shell.make(lambda: SctpTransfer(shell.net, host, a.dst, port=a.port, messages=a.messages,
                                                  size=a.size, v6=a.v6 or _is_v6_literal(a.dst))))


# ---------------------------------------------------------------------------- the shell

# Commands of the shell itself (not addressed to a node), for help and completion.
SHELL_COMMANDS = {
    "nodes": ("nodes", "list the nodes"),
    "net": ("net", "each node's interfaces and what they are linked to"),
    "links": ("links", "every link and whether it is up"),
    "dump": ("dump", "every node with its addresses"),
    "intfs": ("intfs", "each node's interfaces"),
    "pingall": ("pingall [-6]", "every host pings every other host once"),
    "link": ("link NODE1 NODE2 up|down", "take the link(s) between two nodes down, or up again"),
    "wait": ("wait TIME", "let the simulation run for TIME (2s, 500ms; a bare number is seconds)"),
    "sleep": ("sleep SECONDS", "as wait"),
    "time": ("time", "the simulated time now"),
    "summary": ("summary", "the books of the run so far: frames sent, delivered, dropped and why"),
    "trace": ("trace on|off [NODE|PROTOCOL]", "show what each following command does, packet by packet"),
    "pcap": ("pcap DIR", "write captures of every link into DIR from now on"),
    "help": ("help [COMMAND]", "the commands, or one command's usage"),
    "exit": ("exit", "leave (also quit, or end of input)"),
    "quit": ("quit", "leave"),
}


class Shell(cmd.Cmd):
    prompt = PROMPT
    identchars = cmd.Cmd.identchars + "-"

    def __init__(self, net: Network, stdout=None, tracer=None):
        super().__init__(stdout=stdout or sys.stdout)
        self.net = net
        self.switches: dict[str, SwitchCli] = {}
        self.failures = 0
        self.tracer = tracer
        self.trace_filter: str | None = None
        self._trace_saved: dict = {}
        # Held while a command runs (so, while the simulator runs) when P4Runtime servers may change the
        # switches: their requests wait for it (dataplane/p4runtime/network.py).
        self.lock = None
        self.p4runtime = None
        self.intro = (f"*** {net.topo.name}: {len(net.hosts)} hosts, {len(net.devices)} devices, {len(net.links)} "
                      f"links; simulated time 0 s, and it moves only while a command runs\n"
                      f"*** type 'help' for the commands, 'exit' to leave")

    # ------------------------------------------------------------------ output and running

    def say(self, text: str = "") -> None:
        self.stdout.write(text + "\n")

    def run_line(self, line: str) -> bool:
        """Run one command line; False if it failed (the error was printed)."""
        failures = self.failures
        self.onecmd(line)
        return self.failures == failures

    def fail(self, message: str) -> None:
        self.failures += 1
        self.say(message)

    def onecmd(self, line: str):
        line = line.strip()
        if not line or line.startswith("#"):
            return None
        try:
            if self.lock is None:
                return super().onecmd(line)
            with self.lock:
                return super().onecmd(line)
        except ShellError as exc:
            self.fail(f"*** {exc}")
        except CommandError as exc:
            self.fail(exc.one_line())
        except (ControlPlaneError, ValueError_) as exc:
            self.fail(f"Error: {exc}")
        except DiagnosticError as exc:
            self.fail(f"*** {exc.render().splitlines()[0]}")
        except KeyboardInterrupt:
            self.fail("*** interrupted")
        finally:
            self._show_trace()
        return None

    def emptyline(self):
        return None                       # cmd's default would repeat the last command

    def default(self, line: str):
        argv = self._split(line)
        name = argv[0]
        if name in self.net.hosts:
            return self._host(name, argv[1:])
        if name in self.net.devices:
            return self._device(name, line)
        raise ShellError(f"unknown command: {name}")

    @staticmethod
    def _split(line: str) -> list[str]:
        try:
            return shlex.split(line)
        except ValueError as exc:
            raise ShellError(f"cannot read the command: {exc}") from None

    def make(self, build: Callable):
        """An application from build(); its refusals (no such node or address) become one-line errors."""
        try:
            return build()
        except (ValueError, KeyError) as exc:
            raise ShellError(str(exc.args[0]) if exc.args else type(exc).__name__) from None

    def run_app(self, app, settle_ns: int = 0, finished: Callable[[], bool] | None = None,
                then: Callable[[], None] | None = None) -> None:
        """Start an application now, run the simulation until it is done (or `finished()`), and
        print its report (and what then() prints)."""
        start = self.net.sim.now_ns
        app.start(start)
        self.net.apps.append(app)
        finished = finished or (lambda: app.done)
        self.run_until(finished)
        if settle_ns and app.done:
            self.net.sim.run(self.net.sim.now_ns + settle_ns)
        traced = self.tracer is not None and bool(self.tracer.records)
        self._show_trace()
        # A trace shows the application's lines at their times already: then only its closing statistics.
        self.say(app.closing() if traced else app.render())
        if then is not None:
            then()
        if not finished():
            self.say(f"*** {app.name} has not finished after {format_duration(COMMAND_LIMIT_NS)} simulated; "
                     f"'wait' lets it go on")
        self._elapsed(start)

    def run_until(self, done: Callable[[], bool], limit_ns: int = COMMAND_LIMIT_NS) -> None:
        """Run the simulation event by event until done() or nothing is left to do (or the limit)."""
        sim = self.net.sim
        deadline = sim.now_ns + limit_ns
        while not done():
            t = sim.next_event_ns()
            if t is None or t > deadline or sim.stopped_by:
                break
            sim.run(t)
        if sim.stopped_by:
            self.say(f"*** {sim.stopped_by}")

    def _elapsed(self, start: int) -> None:
        now = self.net.sim.now_ns
        self.say(f"*** simulated time {format_duration(now)} (+{format_duration(now - start)})")

    # ------------------------------------------------------------------ nodes

    def _host(self, host: str, argv: list[str]) -> None:
        if not argv:
            raise ShellError(f"{host} what? its commands: {', '.join(sorted(HOST_COMMANDS))}")
        command = HOST_COMMANDS.get(argv[0])
        if command is None:
            raise ShellError(f"unknown command for host {host}: {argv[0]} (its commands: "
                             f"{', '.join(sorted(HOST_COMMANDS))})")
        command.run(self, host, argv[1:])

    def switch(self, name: str) -> SwitchCli:
        if name not in self.switches:
            self.switches[name] = SwitchCli(self.net.devices[name].device)
        return self.switches[name]

    def _device(self, name: str, line: str) -> None:
        rest = line.split(None, 1)[1] if len(line.split(None, 1)) > 1 else ""
        if not rest.strip():
            raise ShellError(f"{name} what? its commands are simple_switch_CLI's: {', '.join(sorted(SWITCH_COMMANDS))}")
        word = rest.split()[0]
        if word not in SWITCH_COMMANDS:
            raise ShellError(f"unknown command for device {name}: {word} (type 'help' for simple_switch_CLI's "
                             f"commands)")
        for out in self.switch(name).execute(rest):
            self.say(out)

    # ------------------------------------------------------------------ Mininet's commands

    def _no_arguments(self, arg: str, command: str) -> None:
        if arg.strip():
            raise ShellError(f"{command} takes no arguments")

    def _interfaces(self, name: str) -> list[str]:
        return [f"{name}-{i}" for i in self.net.topo.nodes[name].interfaces]

    def _peers(self) -> dict[tuple[str, str], tuple[str, str]]:
        peers = {}
        for spec in self.net.topo.links:
            peers[spec.a], peers[spec.b] = spec.b, spec.a
        return peers

    def do_nodes(self, arg):
        self._no_arguments(arg, "nodes")
        self.say("available nodes are: ")
        self.say(" ".join(self.net.topo.nodes))

    def do_net(self, arg):
        self._no_arguments(arg, "net")
        peers = self._peers()
        for name, spec in self.net.topo.nodes.items():
            ends = []
            for iface in spec.interfaces:
                peer = peers.get((name, iface))
                ends.append(f"{name}-{iface}:{peer[0]}-{peer[1]}" if peer else f"{name}-{iface}:")
            self.say(" ".join([name] + ends))

    def do_links(self, arg):
        self._no_arguments(arg, "links")
        for (name, link), spec in zip(self.net.links.items(), self.net.topo.links):
            state = "OK OK" if link.up else "DOWN DOWN"
            self.say(f"{spec.a[0]}-{spec.a[1]}<->{spec.b[0]}-{spec.b[1]} ({state})")

    def do_dump(self, arg):
        self._no_arguments(arg, "dump")
        for name, spec in self.net.topo.nodes.items():
            ifaces = []
            for iface in spec.interfaces.values():
                addrs = ([str(iface.ipv4.ip)] if iface.ipv4 else []) + [str(a.ip) for a in iface.ipv6]
                ifaces.append(f"{name}-{iface.name}:{','.join(addrs) or 'None'}")
            kind = {"host": "Host", "switch": "Switch", "router": "Router"}.get(spec.kind, "P4Switch")
            program = f" program={os.path.basename(spec.program)}" if spec.program else ""
            self.say(f"<{kind} {name}: {','.join(ifaces)}{program}>")

    def do_intfs(self, arg):
        self._no_arguments(arg, "intfs")
        for name in self.net.topo.nodes:
            self.say(f"{name}: {','.join(self._interfaces(name))}")

    def do_pingall(self, arg):
        from .apps import PingAll
        argv = self._split(arg)
        if argv not in ([], ["-6"]):
            raise ShellError("usage: pingall [-6]")
        self.run_app(self.make(lambda: PingAll(self.net, v6=bool(argv))))

    def do_link(self, arg):
        argv = self._split(arg)
        if len(argv) != 3 or argv[2] not in ("up", "down"):
            raise ShellError("usage: link NODE1 NODE2 up|down")
        a, b, state = argv
        for node in (a, b):
            if node not in self.net.topo.nodes:
                raise ShellError(f"no node '{node}' in {self.net.topo.name}")
        chosen = [link for link, spec in zip(self.net.links.values(), self.net.topo.links)
                  if {spec.a[0], spec.b[0]} == {a, b}]
        if not chosen:
            raise ShellError(f"no link between {a} and {b}")
        for link in chosen:
            link.up = state == "up"
            self.say(f"*** link {link.name} {state}")

    def do_wait(self, arg):
        argv = self._split(arg)
        if len(argv) != 1:
            raise ShellError("usage: wait TIME (2s, 500ms; a bare number is seconds)")
        self._advance(_duration(argv[0], "wait"))

    def do_sleep(self, arg):
        argv = self._split(arg)
        if len(argv) != 1 or not _is_number(argv[0]):
            raise ShellError("usage: sleep SECONDS")
        self._advance(_duration(argv[0], "sleep"))

    def _advance(self, ns: int) -> None:
        start = self.net.sim.now_ns
        self.net.sim.run(start + ns)
        if self.net.sim.stopped_by:
            self.say(f"*** {self.net.sim.stopped_by}")
        self._show_trace()
        self._elapsed(start)

    def do_time(self, arg):
        self._no_arguments(arg, "time")
        self.say(f"simulated time {format_duration(self.net.sim.now_ns)}")

    def do_summary(self, arg):
        self._no_arguments(arg, "summary")
        self.say(self.net.summary().render())

    # ------------------------------------------------------------------ traces and captures

    def do_trace(self, arg):
        argv = self._split(arg)
        if not argv or argv[0] not in ("on", "off") or len(argv) > 2 or (argv[0] == "off" and len(argv) > 1):
            raise ShellError("usage: trace on [NODE|PROTOCOL] | trace off")
        if argv[0] == "off":
            self._trace_off()
            self.say("*** tracing off")
            return
        only = argv[1] if len(argv) == 2 else None
        if self.tracer is None:
            from .tracing import Tracer
            self._trace_saved = {name: (d.trace, d.hops) for name, d in self.net.devices.items()}
            self.tracer = Tracer(self.net)
        try:
            self.tracer.render(only=only)      # checks the filter
        except ValueError as exc:
            raise ShellError(str(exc)) from None
        self.trace_filter = only
        self.say(f"*** tracing on{f' ({only})' if only else ''}: each command shows its packets hop by hop")

    def _trace_off(self) -> None:
        if self.tracer is None:
            return
        self.tracer.detach()
        self.tracer = None
        for name, (traced, hops) in self._trace_saved.items():
            self.net.devices[name].trace, self.net.devices[name].hops = traced, hops
        self._trace_saved = {}

    def _show_trace(self) -> None:
        """What the command made happen, packet by packet, when tracing is on; then forget it."""
        tracer = self.tracer
        if tracer is None or not tracer.records:
            return
        text = tracer.render(only=self.trace_filter)
        tracer.records.clear()
        for dev in self.net.devices.values():
            if dev.hops:
                dev.hops.clear()
        self.say(text)

    def do_pcap(self, arg):
        argv = self._split(arg)
        if len(argv) != 1:
            raise ShellError("usage: pcap DIR")
        try:
            links = self.net.start_captures(argv[0])
        except (ValueError, OSError) as exc:
            raise ShellError(f"pcap: {exc}") from None
        self.say(f"*** writing {self.net.pcap_format} captures of {len(links)} links into {argv[0]}")

    # ------------------------------------------------------------------ help and leaving

    def do_help(self, arg):
        word = arg.strip()
        if not word:
            self._help_all()
        elif word in SHELL_COMMANDS:
            usage, summary = SHELL_COMMANDS[word]
            self.say(f"{usage}: {summary}")
        elif word in HOST_COMMANDS:
            self.say(f"{HOST_COMMANDS[word].usage}: {HOST_COMMANDS[word].summary}")
        elif word in SWITCH_COMMANDS:
            self.say(f"s1 {SWITCH_COMMANDS[word].usage}: {SWITCH_COMMANDS[word].summary}")
        else:
            raise ShellError(f"no help on '{word}': not a command")

    def _help_all(self) -> None:
        self.say("Commands (Mininet's):")
        for usage, summary in SHELL_COMMANDS.values():
            self.say(f"  {usage:32} {summary}")
        self.say("Addressed to a host (h1 ...):")
        for c in HOST_COMMANDS.values():
            self.say(f"  {c.usage.partition(' [')[0]:32} {c.summary}")
        self.say("Addressed to a device (s1 ..., simple_switch_CLI's words; 'help WORD' for the syntax):")
        words = sorted(SWITCH_COMMANDS)
        for i in range(0, len(words), 3):
            self.say("  " + "  ".join(f"{w:34}" for w in words[i:i + 3]).rstrip())
        self.say(f"Simulated time moves only while a command runs; now it is {format_duration(self.net.sim.now_ns)}.")

    def do_exit(self, arg):
        return True

    do_quit = do_exit

    def do_EOF(self, arg):
        self.say()
        return True

    # ------------------------------------------------------------------ completion

    def completenames(self, text, *ignored):
        names = [c for c in SHELL_COMMANDS if c.startswith(text)]
        return names + [n for n in self.net.topo.nodes if n.startswith(text)]

    def complete_help(self, text, line, begidx, endidx):
        words = list(SHELL_COMMANDS) + list(HOST_COMMANDS) + list(SWITCH_COMMANDS)
        return [w for w in words if w.startswith(text)]

    def complete_link(self, text, line, begidx, endidx):
        position = len(line[:begidx].split())
        choices = list(self.net.topo.nodes) if position in (1, 2) else ["up", "down"] if position == 3 else []
        return [c for c in choices if c.startswith(text)]

    def complete_trace(self, text, line, begidx, endidx):
        position = len(line[:begidx].split())
        choices = ["on", "off"] if position == 1 else \
            list(self.net.topo.nodes) + ["arp", "ipv4", "ipv6", "icmp", "icmp6", "udp", "tcp", "sctp"]
        return [c for c in choices if c.startswith(text)]

    def complete_pingall(self, text, line, begidx, endidx):
        return ["-6"] if "-6".startswith(text) else []

    def completedefault(self, text, line, begidx, endidx):
        before = line[:begidx].split()
        if not before:
            return []
        node = before[0]
        if node in self.net.hosts:
            choices = list(HOST_COMMANDS) if len(before) == 1 else list(self.net.topo.nodes)
        elif node in self.net.devices:
            return self._device_choices(node, before[1:], text)
        else:
            choices = []
        return [c for c in choices if c.startswith(text)]

    def _device_choices(self, node: str, before: list[str], text: str) -> list[str]:
        """simple_switch_CLI's words, then the names their arguments take: full names (a single Tab
        completes a unique one), or the last part of a name when the text starts no full name."""
        if not before:
            return [w for w in sorted(SWITCH_COMMANDS) if w.startswith(text)]
        kinds = ARGUMENT_KINDS.get(before[0], ())
        position = len(before) - 1
        if position >= len(kinds):
            return []
        context = before[position] if kinds[position] == "action" else None
        names = self.switch(node).names(kinds[position], context)
        full = [n for n in names if "." in n and n.startswith(text)]
        return full or [n for n in names if n.startswith(text)]


# ---------------------------------------------------------------------------- running a session


def run_script(shell: Shell, lines, echo: bool = True) -> int:
    """Run commands one after the other, each echoed after the prompt; 1 if any failed."""
    for raw in lines:
        line = raw.rstrip("\n")
        if echo:
            shell.say(PROMPT + line)
        if shell.onecmd(line):
            break
    net_close(shell)
    return 1 if shell.failures else 0


def net_close(shell: Shell) -> None:
    shell._show_trace()
    if shell.p4runtime is not None:
        shell.p4runtime.stop()
        shell.p4runtime = None
    shell.net.close()


def start_p4runtime(shell: Shell, host: str = "127.0.0.1", every_switch: bool = False) -> None:
    """P4Runtime servers for the switches whose topology asks for them (every P4 switch with every_switch,
    unless its topology says 'p4runtime: false'); each says where it listens."""
    if every_switch:
        for spec in shell.net.topo.nodes.values():
            if spec.kind == "p4":
                spec.options.setdefault("p4runtime", True)
    if not any(spec.options.get("p4runtime") for spec in shell.net.topo.nodes.values()):
        return
    import threading
    from ..p4runtime.errors import P4RuntimeError
    from ..p4runtime.network import NetworkServers
    shell.lock = threading.RLock()
    servers = NetworkServers(shell.net, host, shell.lock, on_install=lambda name: shell.switches.pop(name, None))
    try:
        servers.start()
    except P4RuntimeError as exc:
        raise error(exc.message) from None
    shell.p4runtime = servers
    for line in servers.describe():
        shell.say(line)


def interactive(shell: Shell) -> int:
    """The prompt, with line editing, history and completion when readline is there."""
    history = None
    try:
        import readline
        readline.set_completer_delims(" \t\n")
        history = os.path.expanduser(os.environ.get("DATAPLANE_HISTORY", HISTORY_FILE))
        try:
            readline.read_history_file(history)
        except OSError:
            pass
    except ImportError:
        readline = None
    intro = shell.intro
    while True:
        try:
            shell.cmdloop(intro)
            break
        except KeyboardInterrupt:
            shell.say("\nInterrupt")
            intro = ""
    if readline is not None and history:
        try:
            readline.set_history_length(1000)
            readline.write_history_file(history)
        except OSError:
            pass
    net_close(shell)
    return 0


def register(sub) -> None:
    from .commands import topology_args
    p = sub.add_parser("cli", help="an interactive prompt over a simulated topology, with Mininet's and "
                                   "simple_switch_CLI's commands (pingall, h1 ping h2, s1 table_dump T, ...)")
    topology_args(p)
    p.add_argument("--script", metavar="FILE", help="run the commands in FILE, then leave")
    p.add_argument("--p4runtime", action="store_true",
                   help="give every P4 switch a P4Runtime server on 127.0.0.1 (ports 50051, 50052, ... in the "
                        "order of the devices, as the tutorials number simple_switch_grpc's) unless its topology "
                        "says otherwise with 'p4runtime'")
    p.add_argument("-c", dest="commands", metavar="'CMD; CMD'", help="run these commands (separated by ';'), "
                                                                       "then leave")
    p.set_defaults(func=cmd_cli)


def cmd_cli(args) -> int:
    from .commands import network
    if args.script and args.commands:
        raise error("give --script FILE or -c COMMANDS, not both")
    script = None
    if args.script:
        try:
            with open(args.script, encoding="utf-8") as f:
                script = f.read().splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise error(f"--script: cannot read {args.script}: {exc}") from None
    elif args.commands is not None:
        script = [c.strip() for c in args.commands.split(";")]
    net, tracer = network(args)
    shell = Shell(net, tracer=tracer)
    start_p4runtime(shell, every_switch=args.p4runtime)
    if tracer is not None:
        shell._trace_saved = {name: (False, None) for name in net.devices}
    if script is not None:
        return run_script(shell, script)
    if not sys.stdin.isatty():
        return run_script(shell, sys.stdin)
    return interactive(shell)
