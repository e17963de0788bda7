"""`dataplane exec`: real programs, such as the P4 tutorials' scapy scripts, run as if on simulated hosts.

    dataplane exec TOPO --bg 'h2:python3 receive.py' h1 -- python3 send.py 10.0.2.2 "P4 is cool"

Each program is a subprocess. Scapy in it sees its host's interfaces, addresses and routes, and its
sockets are ours: the sitecustomize module in dataplane/net/scapy_child/, put first on the program's
PYTHONPATH, installs them when the interpreter starts (dataplane_scapy.py there says how; it needs
only the standard library and scapy, since the program's interpreter need not have dataplane). Every
socket scapy opens is a Unix SOCK_SEQPACKET connection to this process, to a listening socket of the
program's own (its path in DATAPLANE_EXEC_SOCKET, the host in DATAPLANE_EXEC_HOST, as JSON); on it
this process opens a packet socket of the host (Host.open_packet_socket) and carries whole Ethernet
frames, one per message, each way (Host.send_frame).

Time. The simulation is discrete and the programs run in real time; the two meet at frames. A frame
a program sends is injected at the current simulated time, then the simulation runs every event due
within `settle_ns` (1 s by default) of that moment and stops there, before the next frame is read:
what the frame caused (forwarding, replies, ARP) has happened, while long timers (TCP keepalives,
reassembly timeouts) wait instead of running the clock forward for nothing. Simulated time stops at
the last event run, not at the horizon, so it advances only as far as the network had something to
do; a program's sleep() takes no simulated time. Frames a host's packet socket receives go back to
the program at once. The run ends with the same summary as `dataplane run`, which says how much
simulated time passed. Because the network settles before the next message is read, a socket is
still open while the replies to its own frame arrive, even if the program closes it right after
sending (as sendp does): the reply is taken by that socket (and lost with it), the same way every
run, where real time would have made it a race.

Sockets. A socket's interface, promiscuity (scapy's default: on) and capture filter come in its
first message; the filter (tcpdump's language, as much as frame_filter.py understands) is applied
here, and an expression it does not understand refuses the socket, as libpcap refuses a bad one.
A frame the filter rejects is not taken by the socket: the host's stack alone decides its fate.

Several programs. Background programs (`--bg HOST:COMMAND`, any number) start first; the foreground
program starts once each has opened a packet socket (or exited, or BACKGROUND_READY_S passed), so a
receive.py is listening before send.py sends. Their output is printed line by line with the host's
name in front. When the foreground program has exited, the frames it sent have been simulated and
the background programs have read what they were sent (and printed it: their output stays quiet for
OUTPUT_QUIET_S after that), the background programs get SIGTERM (SIGKILL KILL_AFTER_S later).

Limits. Only Python programs using scapy are given the host (through sitecustomize: `python -S`
or `-I` skips it and sees the machine); other programs (ping, iperf) run on the machine as they are.
Host names do not resolve (socket.gethostbyname('h2')), as in Mininet; addresses do. A program's
sockets see what its host receives, not what the host itself sends.

Processes. The foreground program has our standard input, output and error; the exit status of the
run is its own. Every program runs in a session of its own, so that stopping it stops what it
started too; all of them are stopped when the run ends, whatever ends it (`timeout_s` of real time,
Ctrl-C, SIGTERM, an error), and on Linux even when dataplane is killed (a parent-death signal).
"""

from __future__ import annotations

import fcntl
import json
import os
import selectors
import shlex
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import termios
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from ..protocols import packets as P

ENV_SOCKET = "DATAPLANE_EXEC_SOCKET"
ENV_HOST = "DATAPLANE_EXEC_HOST"
CHILD_DIR = Path(__file__).resolve().parent / "scapy_child"

SETTLE_NS = 1_000_000_000
BACKGROUND_READY_S = 15.0
OUTPUT_QUIET_S = 1.0
DRAIN_MAX_S = 5.0
KILL_AFTER_S = 2.0
POLL_S = 0.05
MAX_FRAME = 1 << 16
MAX_LINE = 1 << 16          # a background program's output without a newline is printed in pieces this long
PR_SET_PDEATHSIG = 1
UNIX_PATH_ROOM = 90         # sun_path holds 108 bytes, with room for "/NN.sock"


@dataclass
class Program:
    """A command run as if on `host`."""
    host: str
    argv: list[str]
    background: bool = False
    proc: subprocess.Popen | None = None
    listener: socket.socket | None = None
    opened_socket: bool = False
    status: int | None = None
    stopped: str = ""                 # how we stopped it, if we did
    pending: dict = field(default_factory=dict)     # stream name -> a partial line of its output

    @property
    def label(self) -> str:
        return f"{self.host}: {shlex.join(self.argv)}"


class _Connection:
    """One scapy socket of a program: a host's packet socket, and the frames waiting to go to it."""

    def __init__(self, sock: socket.socket, program: Program):
        self.sock = sock
        self.program = program
        self.packet_socket = None
        self.port: int | None = None
        self.outq: deque[bytes] = deque()
        self.accept: Callable[[bytes], bool] = lambda frame: True


class ExecError(Exception):
    """A command line that cannot run (an unknown host, a command that does not start)."""


class ScapyBridge:
    """The dataplane side: programs' sockets in, a network's hosts out (see the module docstring)."""

    def __init__(self, net, settle_ns: int = SETTLE_NS):
        self.net = net
        self.settle_ns = settle_ns
        self.dir = tempfile.mkdtemp(prefix="dataplane-exec-")
        if len(self.dir) > UNIX_PATH_ROOM:                # a long TMPDIR: a Unix socket's path is short
            os.rmdir(self.dir)
            self.dir = tempfile.mkdtemp(prefix="dataplane-exec-", dir="/tmp")
        self.selector = selectors.DefaultSelector()
        self.connections: list[_Connection] = []
        self.frames_from_programs = 0
        self.frames_to_programs = 0
        self.last_activity = time.monotonic()

    # ------------------------------------------------------------------ programs' environment

    def host_description(self, name: str) -> dict:
        """What the program's scapy needs to know of the host: interfaces, addresses, gateways."""
        spec, host = self.net.topo.nodes[name], self.net.hosts[name]
        interfaces = []
        for i in sorted(spec.interfaces.values(), key=lambda i: i.port):
            hi = host.interfaces[i.port]
            interfaces.append({"name": i.name, "port": i.port, "mac": P.mac_str(hi.mac),
                               "ipv4": str(hi.ipv4) if hi.ipv4 else None, "ipv6": [str(a) for a in hi.ipv6],
                               "link_local": P.ip6_str(hi.link_local())})
        return {"host": name, "interfaces": interfaces,
                "gateway4": P.ip4_str(host.gateway4) if host.gateway4 is not None else None,
                "gateway6": P.ip6_str(host.gateway6) if host.gateway6 is not None else None}

    def listen(self, program: Program, index: int, env: dict[str, str]) -> dict[str, str]:
        """Open the program's listening socket; `env` with the variables that lead its scapy there."""
        path = os.path.join(self.dir, f"{index}.sock")
        listener = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        listener.bind(path)
        listener.listen(16)
        listener.setblocking(False)
        program.listener = listener
        self.selector.register(listener, selectors.EVENT_READ, ("accept", program))
        pythonpath = os.pathsep.join(p for p in (str(CHILD_DIR), env.get("PYTHONPATH")) if p)
        return {**env, ENV_SOCKET: path, ENV_HOST: json.dumps(self.host_description(program.host)),
                "PYTHONPATH": pythonpath, "PYTHONUNBUFFERED": "1"}

    # ------------------------------------------------------------------ the event loop

    def pump(self, timeout: float) -> bool:
        """Wait up to `timeout` seconds for sockets or output; handle what came. True if anything did."""
        busy = False
        for key, mask in self.selector.select(timeout):
            kind, what = key.data
            busy = True
            if kind == "accept":
                self._accept(what)
            elif kind == "conn":
                if mask & selectors.EVENT_READ:
                    self._read(what)
                if mask & selectors.EVENT_WRITE and what in self.connections:
                    self._flush(what)
            elif kind == "output":
                self._output(what, key.fileobj)
        return busy

    def drain(self, max_s: float = DRAIN_MAX_S) -> None:
        """Handle what is already waiting (frames sent before a program exited), without waiting for
        more; at most max_s seconds, for a program that writes without end."""
        until = time.monotonic() + max_s
        while self.pump(0) and time.monotonic() < until:
            pass

    def _accept(self, program: Program) -> None:
        try:
            sock, _ = program.listener.accept()
        except BlockingIOError:
            return
        sock.setblocking(False)
        conn = _Connection(sock, program)
        self.connections.append(conn)
        self.selector.register(sock, selectors.EVENT_READ, ("conn", conn))

    def _read(self, conn: _Connection) -> None:
        try:
            message = conn.sock.recv(MAX_FRAME)
        except BlockingIOError:
            return
        except ConnectionResetError:
            message = b""
        if not message:
            self._close(conn)
        elif conn.packet_socket is None:
            self._hello(conn, message)
        else:
            self._inject(conn, message)

    def _hello(self, conn: _Connection, message: bytes) -> None:
        """The socket's first message: which interface, promiscuous or not, which filter."""
        from .frame_filter import FilterError, compile_filter
        host = self.net.hosts[conn.program.host]
        spec = self.net.topo.nodes[conn.program.host]
        try:
            hello = json.loads(message)
            iface = str(hello["iface"])
        except (ValueError, KeyError, TypeError):
            return self._refuse(conn, "a socket's first message was not the bridge's handshake")
        named = {i.name: i.port for i in spec.interfaces.values()}
        named.update({f"{spec.name}-{i.name}": i.port for i in spec.interfaces.values()})
        if iface not in named:
            return self._refuse(conn, f"host {spec.name} has no interface '{iface}' "
                                      f"(it has {', '.join(sorted(spec.interfaces))})")
        if hello.get("filter"):
            try:
                conn.accept = compile_filter(str(hello["filter"]))
            except FilterError as exc:
                return self._refuse(conn, f"Cannot set filter: {exc}")
        conn.port = named[iface]
        conn.packet_socket = host.open_packet_socket(lambda port, frame: self._to_program(conn, frame), conn.port,
                                                     promiscuous=bool(hello.get("promisc")))
        conn.program.opened_socket = True
        self._send(conn, b"\0")

    def _refuse(self, conn: _Connection, reason: str) -> None:
        self._send(conn, b"\1" + reason.encode())

    def _inject(self, conn: _Connection, frame: bytes) -> None:
        """A frame from a program: sent by its host now, then the network runs until it is quiet."""
        self.frames_from_programs += 1
        self.last_activity = time.monotonic()
        host = self.net.hosts[conn.program.host]
        host.send_frame(conn.port, frame)
        self.settle()

    def settle(self) -> None:
        """Run the events due within settle_ns of now; the clock stays at the last one run."""
        sim = self.net.sim
        horizon = sim.now_ns + self.settle_ns
        while sim.stopped_by is None:
            due = sim.next_event_ns()
            if due is None or due > horizon:
                break
            sim.run(due)
        for conn in list(self.connections):
            if conn.outq:
                self._flush(conn)

    def _to_program(self, conn: _Connection, frame: bytes) -> bool:
        """The host's packet socket got a frame: queue it for the program (sent after the run step).
        A frame the socket's filter rejects is not taken (False): the stack decides its fate."""
        if not conn.accept(frame):
            return False
        conn.outq.append(frame)
        self.frames_to_programs += 1
        return True

    def _send(self, conn: _Connection, message: bytes) -> None:
        conn.outq.append(message)
        self._flush(conn)

    def _flush(self, conn: _Connection) -> None:
        """Send what waits for the program, as far as its socket takes it; the rest when it can."""
        while conn.outq:
            try:
                conn.sock.send(conn.outq[0])
            except BlockingIOError:
                break
            except (BrokenPipeError, ConnectionResetError):
                # The program closed its socket: what was for it is lost, as on a closed AF_PACKET
                # socket, but what it sent before closing is still to be read (then end of file).
                conn.outq.clear()
                break
            conn.outq.popleft()
        events = selectors.EVENT_READ | (selectors.EVENT_WRITE if conn.outq else 0)
        self.selector.modify(conn.sock, events, ("conn", conn))

    def _close(self, conn: _Connection) -> None:
        if conn.packet_socket is not None:
            conn.packet_socket.close()
        if conn in self.connections:
            self.connections.remove(conn)
            self.selector.unregister(conn.sock)
        conn.sock.close()

    def unread(self, program: Program) -> int:
        """Bytes sent to the program (queued here or in its sockets) that it has not read yet."""
        total = 0
        for conn in self.connections:
            if conn.program is program:
                total += sum(len(m) for m in conn.outq)
                # SIOCOUTQ (TIOCOUTQ's number): on a Unix socket, the bytes sent that the peer has not read.
                total += struct.unpack("i", fcntl.ioctl(conn.sock.fileno(), termios.TIOCOUTQ, b"\0\0\0\0"))[0]
        return total

    # ------------------------------------------------------------------ programs' output

    def watch_output(self, program: Program, stream, name: str) -> None:
        os.set_blocking(stream.fileno(), False)
        self.selector.register(stream, selectors.EVENT_READ, ("output", (program, name)))

    def _output(self, what, stream) -> None:
        """A background program wrote: print its whole lines, its host's name in front."""
        program, name = what
        try:
            data = os.read(stream.fileno(), 65536)
        except BlockingIOError:
            return
        self.last_activity = time.monotonic()
        text = program.pending.pop(name, b"") + data
        if data:
            *lines, rest = text.split(b"\n")
            if len(rest) > MAX_LINE:
                lines.append(rest)
            elif rest:
                program.pending[name] = rest
        else:                                   # the end of its output: the last line may lack its newline
            self.selector.unregister(stream)
            stream.close()
            lines = [text] if text else []
        out = sys.stdout if name == "stdout" else sys.stderr
        for line in lines:
            out.write(f"{program.host}: {line.decode('utf-8', 'replace')}\n")
        out.flush()

    def close(self) -> None:
        for conn in list(self.connections):
            self._close(conn)
        for key in list(self.selector.get_map().values()):
            self.selector.unregister(key.fileobj)
            key.fileobj.close()
        self.selector.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@dataclass
class ExecResult:
    status: int                       # the foreground program's exit status; 124: timed out, 130: interrupted
    programs: list[Program]
    simulated_ns: int
    frames_from_programs: int
    frames_to_programs: int
    note: str = ""                    # why the run ended early, if it did


class _Terminated(Exception):
    """SIGTERM reached us: stop the programs as for Ctrl-C."""


def run_programs(net, foreground: Program, background: list[Program], timeout_s: float = 60.0,
                 settle_ns: int = SETTLE_NS, env: dict | None = None) -> ExecResult:
    """Run the programs against `net` (module docstring); every process is stopped before this returns."""
    for program in [*background, foreground]:
        if program.host not in net.hosts:
            raise ExecError(f"'{program.host}' is not a host of {net.topo.name} (hosts: {', '.join(net.hosts)})")
        if not program.argv:
            raise ExecError(f"no command given for {program.host}")
    bridge = ScapyBridge(net, settle_ns)
    start_ns = net.sim.now_ns
    deadline = time.monotonic() + timeout_s
    programs = [foreground, *background]
    status, note = None, ""
    restore_signal, restore_terminal = _on_sigterm(), _keep_terminal()
    try:
        for index, program in enumerate(background):
            _start(bridge, program, index, env, background=True)
        _wait_for_background(bridge, background, min(deadline, time.monotonic() + BACKGROUND_READY_S))
        sys.stdout.flush()
        sys.stderr.flush()
        _start(bridge, foreground, len(background), env, background=False)
        while foreground.proc.poll() is None:
            if time.monotonic() > deadline:
                status, note = 124, f"{foreground.host}'s command was still running after {timeout_s:g} s: stopped"
                break
            bridge.pump(POLL_S)
        bridge.drain()
        _let_background_finish(bridge, background, deadline)
    except (KeyboardInterrupt, _Terminated):
        status, note = 130, "interrupted: every program stopped"
    finally:
        restore_signal()
        for program in programs:
            _stop(bridge, program)
        bridge.drain()
        bridge.close()
        restore_terminal()
    if status is None:
        status = foreground.status
    return ExecResult(status, programs, net.sim.now_ns - start_ns, bridge.frames_from_programs,
                      bridge.frames_to_programs, note)


def _start(bridge: ScapyBridge, program: Program, index: int, env: dict | None, background: bool) -> None:
    environment = bridge.listen(program, index, dict(os.environ if env is None else env))
    pipe = subprocess.PIPE if background else None
    try:
        program.proc = subprocess.Popen(program.argv, env=environment, start_new_session=True,
                                        stdin=subprocess.DEVNULL if background else None, stdout=pipe, stderr=pipe,
                                        preexec_fn=_stop_when_parent_dies(os.getpid()))
    except OSError as exc:
        raise ExecError(f"{program.host}: cannot run {program.argv[0]}: {exc.strerror}") from None
    if background:
        bridge.watch_output(program, program.proc.stdout, "stdout")
        bridge.watch_output(program, program.proc.stderr, "stderr")


def _stop_when_parent_dies(parent: int) -> Callable[[], None] | None:
    """What the child runs before its program (Linux): SIGTERM to it when dataplane dies, even by
    SIGKILL, which leaves no chance to stop it otherwise (prctl PR_SET_PDEATHSIG)."""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)

    def arm() -> None:
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
        if os.getppid() != parent:           # dataplane died before the request was made
            os.kill(os.getpid(), signal.SIGTERM)
    return arm


def _wait_for_background(bridge: ScapyBridge, background: list[Program], until: float) -> None:
    """Until every background program has opened a packet socket or exited (or `until` passed)."""
    while time.monotonic() < until:
        if all(p.opened_socket or p.proc.poll() is not None for p in background):
            return
        bridge.pump(POLL_S)
    for p in background:
        if not p.opened_socket and p.proc.poll() is None:
            print(f"*** {p.host}: no packet socket open after {BACKGROUND_READY_S:g} s; starting the "
                  f"foreground command anyway", file=sys.stderr)


def _let_background_finish(bridge: ScapyBridge, background: list[Program], deadline: float) -> None:
    """Until the background programs have read what they were sent and, since they read the last of
    it, their output has been quiet for OUTPUT_QUIET_S (time to print what they read)."""
    until = min(deadline, time.monotonic() + DRAIN_MAX_S)
    all_read_at = None
    while time.monotonic() < until:
        running = [p for p in background if p.proc.poll() is None]
        if not running:
            return
        if sum(bridge.unread(p) for p in running):
            all_read_at = None
        elif all_read_at is None:
            all_read_at = time.monotonic()
        elif time.monotonic() - max(all_read_at, bridge.last_activity) > OUTPUT_QUIET_S:
            return
        bridge.pump(POLL_S)


def _stop(bridge: ScapyBridge, program: Program) -> None:
    """Stop the program and what it started (its session): SIGTERM, then SIGKILL if it lingers."""
    proc = program.proc
    if proc is None:
        return
    if proc.poll() is None:
        program.stopped = "stopped with SIGTERM"
        _signal_group(proc, signal.SIGTERM)
        until = time.monotonic() + KILL_AFTER_S
        while proc.poll() is None and time.monotonic() < until:
            bridge.pump(POLL_S)
        if proc.poll() is None:
            program.stopped = "killed (SIGKILL): it did not stop on SIGTERM"
            _signal_group(proc, signal.SIGKILL)
            proc.wait()
    else:
        _signal_group(proc, signal.SIGTERM)     # what it left running in its session
    if program.status is None:
        program.status = proc.returncode


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    try:
        os.killpg(proc.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _on_sigterm() -> Callable[[], None]:
    """SIGTERM to dataplane stops the programs as Ctrl-C does; returns what puts the old handler back."""
    def handler(signum, frame):
        raise _Terminated()
    try:
        old = signal.signal(signal.SIGTERM, handler)
    except ValueError:                     # not the main thread: whoever runs us handles signals
        return lambda: None
    return lambda: signal.signal(signal.SIGTERM, old)


def _keep_terminal() -> Callable[[], None]:
    """A program stopped while it reads the terminal (readline turns echo off) must not leave it so:
    returns what puts the terminal's settings back as they were before the run."""
    try:
        fd = sys.stdin.fileno()
        saved = termios.tcgetattr(fd)
    except (OSError, ValueError, termios.error):           # no standard input, or not a terminal
        return lambda: None

    def restore() -> None:
        try:
            termios.tcsetattr(fd, termios.TCSADRAIN, saved)
        except (OSError, termios.error):
            pass
    return restore
