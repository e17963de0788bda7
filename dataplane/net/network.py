"""A running network: a topology turned into hosts, P4 devices and links on one simulator.

    net = Network(load_topology("line"), pcap_dir="caps")   # caps/<link>.pcapng
    net.schedule_traffic()            # the topology's `traffic:` section
    net.run()
    print(net.summary().render())

Building follows the topology file: every program is compiled once and
shared by the devices that run it (each device has its own tables and
state); routers get the router agent, switches the learning agent; table
entries come from `entries` (auto, a file, or inline), gateways from
`gateway` (auto or an address).
"""

from __future__ import annotations

import gc
import ipaddress
import os
from dataclasses import dataclass, field

from ..build import build
from ..controlplane.loader import apply_config, load_file
from ..diagnostics import DiagnosticError, error
from ..router.agent import Interface, RouterAgent, RouterConfigError
from ..router.l2agent import L2Agent
from ..router import multipath
from ..router.node import Node
from ..runtime.device import Device
from ..runtime.errors import ControlPlaneError
from ..runtime.tables import TableError
from ..runtime.trace import DropReason
from . import autoconfig
from .devices import P4Device
from .host.stack import Host, HostInterface
from .sim import FATES, Link, Simulator
from .topology import NodeSpec, Topology

FOREVER_NS = 1 << 62


# Simulated time 0 in capture files: 2000-01-01 00:00:00 UTC, a fixed date (runs are reproducible to the
# byte) that no tool shows as "no time" the way it shows 1970-01-01.
PCAP_EPOCH_NS = 946_684_800 * 1_000_000_000


# From this many P4 devices, the built network is frozen for the garbage collector (see Network.__init__).
FREEZE_FROM_DEVICES = 200


class Network:
    def __init__(self, topo: Topology, trace: bool = False, pcap_dir: str | None = None,
                 pcap_format: str = "pcapng", pcap_links: list[str] | None = None,
                 pcap_epoch_ns: int = PCAP_EPOCH_NS):
        """`pcap_dir`: write one capture file per link there (`pcap_links`: only those links), in
        `pcap_format` ("pcapng": one interface per link end, named node:interface, with each packet's
        direction; "pcap": classic), simulated time 0 being `pcap_epoch_ns` (ns since 1970, UTC)."""
        if pcap_format not in ("pcapng", "pcap"):
            raise ValueError(f"pcap_format is 'pcapng' or 'pcap', not {pcap_format!r}")
        self.pcap_format, self.pcap_links, self.pcap_epoch_ns = pcap_format, pcap_links, pcap_epoch_ns
        # Building makes many long-lived objects (about 500 per device: its program's tables, externs and
        # functions; computed routes are arrays, runtime/routes.py); the cyclic garbage collector would
        # scan them again and again for nothing, so it waits until the network is built.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            self._build(topo, trace, pcap_dir)
        finally:
            if was_enabled:
                gc.enable()
        if was_enabled and len(self.devices) >= FREEZE_FROM_DEVICES:
            # Once built, they would still be scanned by every full collection while the run makes its
            # garbage (at 1,000 routers, 0.2 s a full collection). Frozen, the collector leaves them
            # alone; they live as long as the process anyway (the price: a cycle among them is never
            # collected if the network is dropped, which only a program building many such networks sees).
            gc.freeze()

    def _build(self, topo: Topology, trace: bool, pcap_dir: str | None) -> None:
        self.topo = topo
        self.sim = Simulator(seed=topo.seed, max_frames=topo.max_frames)
        if trace or pcap_dir is not None:
            # Trace lines and capture frames carry packet numbers that match (net/numbering.py).
            from .numbering import PacketNumbers
            self.sim.numbers = PacketNumbers()
        self.hosts: dict[str, Host] = {}
        self.devices: dict[str, P4Device] = {}
        self.links: dict[str, Link] = {}
        self.trace = trace
        self.pcap_dir = pcap_dir
        self.apps: list = []
        self.receivers: dict = {}             # host -> craft.Receiver: what hosts got that their stack did not take
        self._link_mtu: dict[tuple[str, str], int] = {}
        for l in topo.links:
            self._link_mtu[l.a] = self._link_mtu[l.b] = l.mtu
        self.segments = autoconfig.segments(topo)
        for spec in topo.nodes.values():
            if spec.kind == "host":
                self._add_host(spec)
            else:
                self._add_device(spec)
        self._add_links()
        self._configure_routes()

    # ------------------------------------------------------------------ building

    def _fail(self, message: str, path: tuple, key: bool = False) -> DiagnosticError:
        pos = self.topo.positions
        if pos is None:
            return error(f"{self.topo.path}: {message}")
        return error(message, pos.key_span(path) if key else pos.span(path))

    def _add_host(self, spec: NodeSpec) -> None:
        ifaces = [HostInterface(i.port, i.mac, i.ipv4, list(i.ipv6), self._link_mtu.get((spec.name, i.name), 1500))
                  for i in spec.interfaces.values()]
        gw4 = spec.gateway4 if isinstance(spec.gateway4, int) else None
        gw6 = spec.gateway6 if isinstance(spec.gateway6, int) else None
        timeout_s = spec.options.get("reassembly_timeout", 60_000_000_000) / 1e9
        host = Host(self.sim, spec.name, ifaces, gw4, gw6, reassembly_timeout_s=timeout_s)
        for ip, mac in spec.options.get("static_arp", {}).items():
            host.arp_cache[ip] = (mac, FOREVER_NS)
        from .host.sctp import SctpStack
        from .host.tcp import TcpStack
        host.tcp = TcpStack(host)
        host.sctp = SctpStack(host)
        self.hosts[spec.name] = host

    def _add_device(self, spec: NodeSpec) -> None:
        opts = spec.options
        program = build(spec.program, opts.get("include"), opts.get("defines"))
        dev = Device(program, name=spec.name, seed=self.topo.seed)
        agent = None
        if spec.kind == "router":
            ifaces = []
            for i in spec.interfaces.values():
                ifaces.append(Interface(i.port, i.mac, [i.ipv4] if i.ipv4 else [], list(i.ipv6),
                                        self._link_mtu.get((spec.name, i.name), 1500), i.name))
            try:
                agent = RouterAgent(dev, ifaces, spec.name, icmp_rate=opts.get("icmp_rate", 100.0),
                                    icmp_burst=opts.get("icmp_burst", 50.0),
                                    ecmp_seed=multipath.router_seed(self.topo.seed, spec.name))
            except RouterConfigError as exc:
                raise self._fail(str(exc), self._mtu_path(spec, exc.port)) from None
            for table in ("interfaces", "egress"):
                if agent._table(table) is None:
                    raise self._fail(f"router '{spec.name}' runs {os.path.basename(spec.program)}, which lacks the "
                                     f"table '{agent.tables[table]}' of the router architecture (router.p4)",
                                     self._at(spec.path, "program"))
            agent.install()
        elif spec.kind == "switch":
            agent = L2Agent(dev, [i.port for i in spec.interfaces.values()], spec.name)
            try:
                agent.install()
            except ControlPlaneError as exc:
                raise self._fail(f"switch '{spec.name}': {exc}", spec.path) from None
        self._load_entries(spec, dev)
        device = P4Device(self.sim, spec.name, Node(dev, agent, spec.name),
                          {i.port: i.name for i in spec.interfaces.values()})
        if self.trace:
            device.trace = True
            device.hops = []
        self.devices[spec.name] = device

    def _at(self, path: tuple, key: str) -> tuple:
        """path + (key,) when the file writes that key there, else path."""
        pos = self.topo.positions
        return path + (key,) if pos is not None and path + (key,) in pos.spans else path

    def _mtu_path(self, spec: NodeSpec, port: int | None) -> tuple:
        """Where the MTU of the router's interface on `port` is written: its link's mtu, or the link defaults."""
        iface = next((i.name for i in spec.interfaces.values() if i.port == port), None)
        for l in self.topo.links:
            if (spec.name, iface) in (l.a, l.b):
                for where in (l.path, ("defaults", "link")):
                    if self._at(where, "mtu") != where:
                        return where + ("mtu",)
                return l.path
        return spec.path

    def _load_entries(self, spec: NodeSpec, dev: Device) -> None:
        entries = spec.entries
        if entries is None or entries == "auto":
            return
        if isinstance(entries, str):
            load_file(dev, entries)
        else:
            apply_config(dev, entries, self.topo.positions, spec.path + ("entries",))

    def _add_links(self) -> None:
        names: dict[str, int] = {}
        specs = {}
        for i, l in enumerate(self.topo.links):
            name = l.name
            if name in names:
                names[name] += 1
                name = f"{name}.{names[name]}"
            else:
                names[name] = 1
            a, b = self._node(l.a[0]), self._node(l.b[0])
            pa = self.topo.interface(*l.a).port
            pb = self.topo.interface(*l.b).port
            link = Link(self.sim, name, a, pa, b, pb, mtu=l.mtu, latency_ns=l.latency_ns,
                        bandwidth_bps=l.bandwidth_bps, queue_frames=l.queue, loss=l.loss,
                        seed=self.topo.seed * 1_000_003 + i)
            self.links[name] = link
            specs[name] = l
            for node, port in ((a, pa), (b, pb)):
                if isinstance(node, Host):
                    node.interfaces[port].link = link
                else:
                    node.links[port] = link
        if self.pcap_dir is not None:
            self._open_captures(specs)

    def _open_captures(self, specs: dict) -> None:
        from ..pcap import PcapngWriter, PcapWriter
        chosen = self.links
        if self.pcap_links is not None:
            unknown = [n for n in self.pcap_links if n not in self.links]
            if unknown:
                raise error(f"no link '{unknown[0]}' to capture; the links are: {', '.join(self.links)}")
            chosen = {n: self.links[n] for n in self.links if n in self.pcap_links}
        os.makedirs(self.pcap_dir, exist_ok=True)
        for (name, link), file in zip(chosen.items(), _pcap_file_names(chosen, self.pcap_format)):
            path = os.path.join(self.pcap_dir, file)
            if self.pcap_format == "pcap":
                link.pcap = PcapWriter(path, epoch_ns=self.pcap_epoch_ns)
            else:
                spec = specs[name]
                ends = [f"{node}:{iface}" for node, iface in (spec.a, spec.b)]
                link.pcap = PcapngWriter(path, ends, epoch_ns=self.pcap_epoch_ns,
                                         descriptions=[f"{end} on link {name}" for end in ends])

    def _configure_routes(self) -> None:
        topo = self.topo
        for v6 in (False, True):
            gws = autoconfig.gateways(topo, self.segments, v6)
            for name, host in self.hosts.items():
                spec = topo.nodes[name]
                if (spec.gateway6 if v6 else spec.gateway4) == "auto" and name in gws:
                    if v6:
                        host.gateway6 = gws[name]
                    else:
                        host.gateway4 = gws[name]
            auto_routers = [n for n, s in topo.nodes.items() if s.kind == "router" and s.entries == "auto"]
            if not auto_routers:
                continue
            from .routeplan import RoutePlan      # numpy, for networks with computed routes only
            plan = RoutePlan(topo, self.segments, v6)
            for name in auto_routers:
                routes = plan.routes_of(name)
                if not routes:
                    continue
                agent = self.devices[name].agent
                table = agent._table("route6" if v6 else "route4")
                if table is None:
                    spec = topo.nodes[name]
                    raise self._fail(f"router '{name}' has IPv{6 if v6 else 4} addresses but its program "
                                     f"{os.path.basename(spec.program)} has no table "
                                     f"'{agent.tables['route6' if v6 else 'route4']}'",
                                     self._at(spec.path, "program"))
                # Every equal-cost next hop when the program has multipath tables (a `multipath` action in
                # the LPM table and its selector table) and the topology allows it (`ecmp`, default true),
                # else the first one (router/multipath.py).
                ecmp = None
                if topo.nodes[name].options.get("ecmp", True) and multipath.has_multipath(table):
                    ecmp = agent._table("ecmp6" if v6 else "ecmp4")
                try:
                    multipath.install_route_arrays(table, ecmp, routes)
                except TableError as exc:
                    spec = topo.nodes[name]
                    raise self._fail(f"router '{name}': {exc}", self._at(spec.path, "program")) from None

    # ------------------------------------------------------------------ using

    def _node(self, name: str):
        return self.hosts.get(name) or self.devices[name]

    def node(self, name: str):
        if name not in self.hosts and name not in self.devices:
            raise KeyError(f"no node '{name}' in {self.topo.name}")
        return self._node(name)

    def host(self, name: str) -> Host:
        if name not in self.hosts:
            kinds = "a device" if name in self.devices else "not a node"
            raise KeyError(f"'{name}' is {kinds}, not a host")
        return self.hosts[name]

    def address(self, target: str, v6: bool = False) -> int:
        """An address from a node name (its first address of the family) or an address literal."""
        try:
            a = ipaddress.ip_address(target)
        except ValueError:
            a = None
        if a is not None:
            if (a.version == 6) != v6:
                raise ValueError(f"{target} is not an IPv{6 if v6 else 4} address")
            return int(a)
        spec = self.topo.nodes.get(target)
        if spec is None:
            raise ValueError(f"no node or address '{target}'")
        for i in spec.interfaces.values():
            if v6:
                for a6 in i.ipv6:
                    if not a6.ip.is_link_local:
                        return int(a6.ip)
            elif i.ipv4 is not None:
                return int(i.ipv4.ip)
        raise ValueError(f"'{target}' has no IPv{6 if v6 else 4} address")

    def name_of(self, addr: int, v6: bool) -> str | None:
        for spec in self.topo.nodes.values():
            for i in spec.interfaces.values():
                if (not v6 and i.ipv4 is not None and int(i.ipv4.ip) == addr) or \
                        (v6 and any(int(a.ip) == addr for a in i.ipv6)):
                    return spec.name
        return None

    def schedule_traffic(self) -> list:
        """Start the applications of the topology's `traffic:` section at their times."""
        from .apps import start_traffic
        self.apps.extend(start_traffic(self, self.topo.traffic))
        return self.apps

    def run(self, until_ns: int | None = None, progress=None) -> None:
        limit = until_ns if until_ns is not None else self.topo.duration_ns
        self.sim.run(limit, progress)

    def start_captures(self, pcap_dir: str) -> list[str]:
        """Start writing captures now, as `pcap_dir` at construction would have from the start (the
        shell's `pcap DIR`); frames sent from now on are written. Returns the links captured."""
        if any(link.pcap is not None for link in self.links.values()):
            raise ValueError(f"captures are already being written into {self.pcap_dir}")
        self.pcap_dir = pcap_dir
        self._open_captures(dict(zip(self.links, self.topo.links)))
        return [name for name, link in self.links.items() if link.pcap is not None]

    def close(self) -> None:
        for link in self.links.values():
            if link.pcap is not None:
                link.pcap_path = link.pcap.path
                link.pcap.close()
                link.pcap = None

    def summary(self) -> "Summary":
        return Summary.of(self)

    def _repr_html_(self) -> str:
        """Jupyter: the topology, and the run's books once it has run (views/notebook.py)."""
        from ..views.notebook import network_html
        return network_html(self)


@dataclass
class Summary:
    """The books of a run, checked: every frame is accounted for."""
    name: str
    time_ns: int
    events: int
    nodes: int
    links: int
    transmitted: int
    arrived: int
    link_drops: int
    on_links: int
    fates: dict
    drops: dict                     # reason -> count (frames)
    copy_drops: dict                # reason -> count (copies of frames that went on)
    drops_by_node: dict
    stopped_by: str | None
    problems: list = field(default_factory=list)
    limits: dict = field(default_factory=dict)     # host -> the bounds on its state that were reached
    link_kinds: list = field(default_factory=list)  # [(count, "MTU 1500, latency 1 ms, ...")], most common first
    notes: list = field(default_factory=list)       # hints about why the run went as it did

    @classmethod
    def of(cls, net: Network) -> "Summary":
        sim, ledger = net.sim, net.sim.ledger
        # A frame on a link (queued, being sent or propagating) is one pending arrival event.
        on_links = sum(1 for fn, _ in sim.pending_calls() if getattr(fn, "__name__", "") in ARRIVALS)
        s = cls(net.topo.name, sim.now_ns, sim.events_run, len(net.topo.nodes), len(net.links), ledger.transmitted,
                ledger.arrived, ledger.link_drops, on_links, dict(ledger.fates),
                ledger.drops_by_reason(), ledger.drops_by_reason(copies=True), ledger.drops_by_node(),
                sim.stopped_by)
        s.limits = {name: lines for name, host in net.hosts.items() if (lines := host.limits_reached())}
        from .show import link_properties
        kinds: dict[str, int] = {}
        for spec in net.topo.links:
            text = link_properties(spec)
            kinds[text] = kinds.get(text, 0) + 1
        s.link_kinds = sorted(((n, text) for text, n in kinds.items()), key=lambda kv: -kv[0])
        s.notes = _program_notes(net) + _timer_notes(net)
        if s.transmitted != s.arrived + s.link_drops + s.on_links:
            s.problems.append(f"links: {s.transmitted} sent but {s.arrived} arrived + {s.link_drops} dropped + "
                              f"{s.on_links} in flight")
        if ledger.unaccounted():
            s.problems.append(f"nodes: {ledger.unaccounted()} frames arrived without a fate")
        for name, node in net.devices.items():
            errors = node.device.internal_errors
            if errors:
                # Counted as drops for the books, but a bug is not a drop: the run must say so and fail.
                s.problems.append(f"{name}: {len(errors)} frames hit an internal error in the pipeline (the first "
                                  f"on port {errors[0][0]}: {errors[0][2]})")
        return s

    def _repr_html_(self) -> str:
        from ..views.notebook import summary_html
        return summary_html(self)

    def render(self) -> str:
        lines = [f"{self.name}: {self.nodes} nodes, {self.links} links; simulated {_fmt_time(self.time_ns)}, "
                 f"{self.events} events",
                 "links: " + "; ".join(f"{n} x {text}" for n, text in self.link_kinds),
                 f"frames on links: {self.transmitted} sent, {self.arrived} arrived, {self.link_drops} dropped on "
                 f"links, {self.on_links} in flight",
                 "frames at nodes: " + ", ".join(f"{self.fates[k]} {k if k != 'reassembly' else 'kept for reassembly'}"
                                                 for k in FATES)]
        if self.drops:
            lines.append("drops: " + ", ".join(f"{k.replace('_', ' ')} {v}" for k, v in self.drops.items()))
            lines.append("drops by node: " + ", ".join(f"{k} {v}" for k, v in self.drops_by_node.items()))
        if self.copy_drops:
            # Copies of one packet (multicast replicas, clones) of which some went on: not packets lost.
            lines.append("copies dropped while other copies of the same packet went on: " +
                         ", ".join(f"{v} {DropReason[k.upper()].value}" for k, v in self.copy_drops.items()))
        for host, reached in self.limits.items():
            lines.append(f"limits reached at {host}: " + "; ".join(reached))
        if self.stopped_by:
            lines.append(f"stopped: {self.stopped_by}")
        lines += [f"note: {n}" for n in self.notes]
        for p in self.problems:
            lines.append(f"accounting problem (a bug in dataplane): {p}")
        return "\n".join(lines)


_PROGRAM_DROPS = ("mark_to_drop", "egress_drop")
# The events that bring a frame to the far end of a link (sim.LinkEnd.arrival): numbered when packets are
# numbered; a P4 device's frame_arrives takes the frame straight from the link.
ARRIVALS = ("_arrive", "_arrive_numbered", "frame_arrives")


def _program_notes(net: Network) -> list[str]:
    """A word when P4 switches let nothing through: every frame they got, their programs dropped. A newcomer
    then sees only 100% loss; the usual causes are an unfinished program, missing table entries, or traffic
    the program was not written for."""
    ledger = net.sim.ledger
    by_switch: dict[str, int] = {}
    for (node, reason, copy), n in ledger.drop_counts.items():
        if not copy and node in net.devices and reason.name.lower() in _PROGRAM_DROPS:
            by_switch[node] = by_switch.get(node, 0) + n
    if not by_switch or ledger.fates["forwarded"] or ledger.fates["consumed"]:
        return []
    total = sum(by_switch.values())
    where = ", ".join(f"{name} {n}" for name, n in sorted(by_switch.items()))
    notes = [f"no frame got through a P4 switch: their programs dropped all {total} they received ({where}); "
             f"check the program, its table entries (a table that misses runs its default action, often drop), "
             f"and whether it expects headers of its own (then send them with a `send:` traffic item)"]
    notes += [n[len("note: "):] for n in net.topo.notes if n.startswith("note: ")]
    return notes


# A run is said to be long because of TCP's retransmission timers when they waited at least this share of it.
RTO_NOTE_SHARE = 0.5
RTO_NOTE_MIN_NS = 10_000_000_000


def _timer_notes(net: Network) -> list[str]:
    """Why a run simulated so long, when TCP's retransmission timers (backing off, RFC 6298 5.5) are why."""
    stacks = [(name, h.tcp) for name, h in net.hosts.items() if h.tcp is not None and h.tcp.rto_timeouts]
    waited = max((t.rto_waited_ns for _, t in stacks), default=0)
    if net.sim.now_ns < RTO_NOTE_MIN_NS or waited < RTO_NOTE_SHARE * net.sim.now_ns:
        return []
    who = ", ".join(f"{name} {t.rto_timeouts} timeouts ({_fmt_time(t.rto_waited_ns)} waited, RTO up to "
                    f"{_fmt_time(t.rto_peak_ns)})" for name, t in stacks)
    return [f"most of the {_fmt_time(net.sim.now_ns)} simulated were TCP waiting for retransmission timeouts, "
            f"which double after each loss (RFC 6298): {who}. Segments were lost on the way (see the drops above); "
            f"give --until to stop sooner"]


def _fmt_time(ns: int) -> str:
    if ns >= 1_000_000_000:
        return f"{ns / 1e9:.3f} s"
    if ns >= 1_000_000:
        return f"{ns / 1e6:.3f} ms"
    return f"{ns / 1e3:.3f} us"


def _file_name(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


def _pcap_file_names(link_names, extension: str = "pcap") -> list[str]:
    """One capture file name per link, in order: the link's name made safe for a file system, with
    -2, -3 ... after names that would otherwise be the same file (two names that differ only in a
    character that is not kept, or only in case on a case-insensitive file system)."""
    used: set[str] = set()
    out = []
    for name in link_names:
        base = _file_name(name)
        file, n = f"{base}.{extension}", 1
        while file.casefold() in used:
            n += 1
            file = f"{base}-{n}.{extension}"
        used.add(file.casefold())
        out.append(file)
    return out
