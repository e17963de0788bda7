"""`dataplane run`, `dataplane ping`, `dataplane traceroute`: simulate a topology from the command line."""

from __future__ import annotations

import sys
import time

from ..diagnostics import error
from ..termsafe import unescaped

S = 1_000_000_000


def register(sub) -> None:
    p = sub.add_parser("run", help="run a topology's traffic section and print what happened (with no traffic "
                                   "section: pingall)")
    _topology_args(p)
    p.add_argument("--until", metavar="TIME", help="stop at this simulated time (e.g. 30s); default: when idle")
    p.add_argument("--traffic", metavar="YAML", help="run the traffic items of this file (a list, or a "
                                                     "'traffic:' section) instead of the topology's own")
    _data_args(p)
    _layers_arg(p)
    p.add_argument("--link-stats", action="store_true",
                   help="after the summary, the frames and bytes each link carried in each direction")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("ping", help="ping from one host of a topology to a node or address")
    _topology_args(p)
    p.add_argument("src", help="the host that pings")
    p.add_argument("dst", help="a node name or an address")
    p.add_argument("-c", dest="count", type=int, default=4, help="number of echo requests (default 4)")
    p.add_argument("-s", dest="size", type=int, default=56, help="bytes of data (default 56)")
    p.add_argument("-i", dest="interval", default="1s", help="time between requests (default 1s)")
    p.add_argument("-t", dest="ttl", type=int, help="TTL / hop limit of the requests")
    p.add_argument("--df", action="store_true", help="set Don't Fragment (IPv4): like ping -M do")
    _layers_arg(p)
    p.add_argument("-6", dest="ipv6", action="store_true", help="use IPv6")
    _data_args(p)
    p.set_defaults(func=cmd_ping)

    p = sub.add_parser("pingall", help="every host pings every other host once, as Mininet's pingall")
    _topology_args(p)
    p.add_argument("-6", dest="ipv6", action="store_true", help="use IPv6")
    _data_args(p)
    p.set_defaults(func=cmd_pingall)

    p = sub.add_parser("traceroute", help="trace the route from a host to a node or address")
    _topology_args(p)
    p.add_argument("src", help="the host that traces")
    p.add_argument("dst", help="a node name or an address")
    p.add_argument("-6", dest="ipv6", action="store_true", help="use IPv6")
    p.add_argument("-m", dest="max_hops", type=int, default=30, help="maximum number of hops (default 30)")
    _layers_arg(p)
    p.add_argument("-q", dest="queries", type=int, default=3, help="probes per hop (default 3)")
    _data_args(p)
    p.set_defaults(func=cmd_traceroute)

    p = sub.add_parser("send", help="send a frame built from the P4 program's own header types from a host "
                                    "(as the tutorials' send.py), and print what the hosts received")
    _topology_args(p)
    p.add_argument("src", help="the host that sends")
    p.add_argument("headers", nargs="?", default="{}",
                   help="the headers and their fields, in YAML: '{p4calc: {op: \"+\", operand_a: 1, operand_b: 2}}'; "
                        "unnamed fields get their defaults (see `send:` in the topology format)")
    p.add_argument("--payload", default="", help="text after the headers")
    p.add_argument("--hex", help="send this whole frame, written in hex, instead")
    p.add_argument("-c", dest="count", type=int, default=1, help="number of frames (default 1)")
    p.add_argument("-i", dest="interval", default="1s", help="time between frames (default 1s)")
    p.add_argument("--port", type=int, help="the host's port to send on (default: its first)")
    p.set_defaults(func=cmd_send)

    p = sub.add_parser("show", help="print a topology's file and the network it describes (nodes, links, "
                                    "MTUs); nothing is run")
    p.add_argument("topology", help="a topology file, or the name of one we ship")
    p.add_argument("--program", metavar="P4", help="(topology.json) the program every switch runs")
    p.set_defaults(func=cmd_show)

    from .generate import register as register_generate
    register_generate(sub)


def _topology_args(p) -> None:
    p.add_argument("topology", help="a topology file (.yaml, or a P4 tutorials topology.json), or the name of "
                                    "one we ship")
    p.add_argument("--pcap", metavar="DIR", help="write one capture file per link into DIR")
    p.add_argument("--pcap-format", choices=("pcapng", "pcap"), default="pcapng",
                   help="pcapng (default: one interface per link end, with each packet's direction) or "
                        "classic pcap")
    p.add_argument("--links", metavar="L1,L2", help="capture only these links (names as in the summary)")
    p.add_argument("--pcap-epoch", metavar="WHEN", default=None,
                   help="the date and time of simulated time 0 in captures, UTC (ISO 8601, e.g. "
                        "2026-01-01T09:00:00, or seconds since 1970); default 2000-01-01T00:00:00")
    p.add_argument("--trace", action="store_true", help="print every packet hop by hop, with the applications' "
                                                        "lines at their times")
    p.add_argument("--trace-filter", metavar="TERMS",
                   help="trace only some records (implies --trace): nodes (h1), protocols (arp, nd, ipv4, ipv6, "
                        "icmp, icmpv6, tcp, udp, sctp, fragment), flows (h1>h2, 10.0.1.1<>10.0.2.2), 'port 80', "
                        "packet numbers (#12), separated by commas: one kind is any of its terms, different kinds "
                        "must all match (e.g. 's1, icmp')")
    p.add_argument("--program", metavar="P4", help="(topology.json) the program every switch runs")
    p.add_argument("--set", dest="settings", metavar="PATH=VALUE", action="append", default=[],
                   help="change a setting of the topology before it is checked, e.g. seed=3, "
                        "defaults.link.loss=0.01, links.r1-r2.mtu=1280 (a link by its name or its ends' nodes), "
                        "nodes.h1.interfaces.eth0.ipv4=10.0.1.5/24; VALUE is YAML; may be repeated")
    p.add_argument("--progress", dest="progress", action="store_true", default=None,
                   help="show a progress line on stderr (default: when stderr is a terminal)")
    p.add_argument("--no-progress", dest="progress", action="store_false")


def _layers_arg(p) -> None:
    p.add_argument("--layers", action="store_true",
                   help="after the run, every frame each node received and sent, layer by layer in nested boxes "
                        "(Ethernet, IP, transport, payload) with byte offsets, the fields a device changed and "
                        "what it did")
    p.add_argument("--report", metavar="FILE.html",
                   help="write a self-contained HTML report of the run to step through in a browser: the topology "
                        "with each packet's path, the event list, the layers at every hop, encapsulation and bytes, "
                        "fragments, TCP/SCTP ladders, ICMP errors")


def _layer_view(net, args):
    """A Recording for --layers and --report (None without them: no hooks are installed)."""
    if not (getattr(args, "layers", False) or getattr(args, "report", None)):
        return None
    from ..views.record import Recording
    from ..views.report import KEEP_BYTES
    return Recording(net, keep_bytes=KEEP_BYTES if getattr(args, "report", None) else None)


def _shown_views(views, args):
    """The recording when --layers prints it (then the applications' lines are among its hops)."""
    return views if getattr(args, "layers", False) else None


def _write_report(views, net, args) -> None:
    from ..views.report import write_report
    try:
        size = write_report(args.report, views.data(), net.topo)
    except OSError as exc:
        raise error(f"cannot write the report: {exc.strerror}: {exc.filename}") from None
    print(f"report: {args.report} ({size / 1e6:.1f} MB, {len(views.events)} events)")


def _data_args(p) -> None:
    p.add_argument("--json", metavar="FILE", help="write the run's results as data (schema dataplane-run/1: "
                                                  "flows, pings, links, nodes, summary) to FILE")
    p.add_argument("--csv", metavar="DIR", help="write the results as CSV tables into DIR (flows.csv, pings.csv, "
                                                "links.csv, nodes.csv, series.csv)")
    p.add_argument("--interval", dest="series_interval", metavar="TIME", help="with --json or --csv: sample time series every TIME "
                                                      "(e.g. 10ms): per TCP flow throughput, cwnd and RTT; per "
                                                      "link direction utilisation and queue")


def _network(args):
    net = _build(_topology(args), args)
    return net, _tracer(net, args)


def _topology(args):
    """The topology a command names, with its --set changes and --traffic; its notes are printed."""
    from .topology import load_topology, load_traffic
    from .setpath import SetError
    try:
        topo = load_topology(args.topology, program=args.program, settings=_settings(args))
    except SetError as exc:
        raise error(str(exc)) from None
    if getattr(args, "traffic", None):
        topo.traffic = load_traffic(args.traffic, topo)
    for note in topo.notes:
        print(note)
    return topo


def _network_options(args) -> dict:
    """Network() keyword arguments from the capture and trace options."""
    from .network import PCAP_EPOCH_NS
    links = [name.strip() for name in args.links.split(",") if name.strip()] if args.links else None
    if (links is not None or args.pcap_epoch is not None) and args.pcap is None:
        raise error("--links and --pcap-epoch choose what --pcap DIR writes; give --pcap DIR too")
    epoch = PCAP_EPOCH_NS if args.pcap_epoch is None else _epoch_ns(args.pcap_epoch)
    return dict(trace=_traced(args), pcap_dir=args.pcap, pcap_format=args.pcap_format, pcap_links=links,
                pcap_epoch_ns=epoch)


def _traced(args) -> bool:
    return args.trace or args.trace_filter is not None


def _build(topo, args):
    from .network import Network
    return Network(topo, **_network_options(args))


def _tracer(net, args):
    """The Tracer for --trace / --trace-filter (None without them)."""
    if not _traced(args):
        return None
    from .tracefilter import FilterError, parse_filter
    from .tracing import Tracer
    tracer = Tracer(net)
    if args.trace_filter is not None:
        try:
            tracer.only = parse_filter(args.trace_filter, net)    # before the run: a typo costs nothing
        except FilterError as exc:
            raise error(f"--trace-filter: {exc}") from None
    return tracer


def _settings(args) -> list:
    """The --set options, parsed (bad ones are one-line errors before anything is loaded)."""
    from .setpath import SetError, parse_setting
    try:
        return [parse_setting(text) for text in getattr(args, "settings", None) or ()]
    except SetError as exc:
        raise error(str(exc)) from None


def _recording(net, apps, args):
    """A Recorder when --json or --csv asks for the run's data (None otherwise: nothing recorded)."""
    if getattr(args, "series_interval", None) and not (args.json or args.csv):
        raise error("--interval samples time series for --json FILE or --csv DIR; give one of them too")
    if not (getattr(args, "json", None) or getattr(args, "csv", None)):
        return None
    from .rundata import Recorder
    from .topology import parse_time
    interval = None
    if args.series_interval:
        try:
            interval = parse_time(args.series_interval)
        except ValueError as exc:
            raise error(f"--interval: {exc}") from None
        if interval <= 0:
            raise error("--interval must be longer than 0")
    return Recorder(net, apps, interval)


def _write_data(net, apps, recorder, args) -> None:
    from . import rundata
    data = rundata.collect(net, apps, recorder, settings=list(args.settings))
    try:
        if args.json:
            rundata.write_json(data, args.json)
            print(f"json: {args.json}")
        if args.csv:
            files = rundata.write_csv(data, args.csv)
            print(f"csv: {len(files)} files in {args.csv}")
    except OSError as exc:
        raise error(f"cannot write the results: {exc.strerror}: {exc.filename}") from None


def _epoch_ns(text: str) -> int:
    """--pcap-epoch: seconds since 1970 or an ISO 8601 date and time, UTC unless it names its offset."""
    import datetime
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = datetime.datetime.fromisoformat(text)
        except ValueError:
            raise error(f"--pcap-epoch: '{text}' is neither a date and time (2026-01-01T09:00:00) nor a "
                        f"number of seconds") from None
        if when.tzinfo is None:
            when = when.replace(tzinfo=datetime.timezone.utc)
        seconds = when.timestamp()
    if not 0 <= seconds < 2 ** 32:
        raise error(f"--pcap-epoch: {text} is outside 1970-01-01 .. 2106-02-07")
    return round(seconds * 1e9)


class Progress:
    """One line on stderr, rewritten in place: simulated time, events and frames."""

    def __init__(self, net, enabled: bool | None):
        self.net = net
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self.started = time.perf_counter()
        self.last = 0.0
        self.shown = False

    def __call__(self, now_ns: int) -> None:
        t = time.perf_counter()
        if not self.enabled or t - self.last < 0.2:
            return
        self.last = t
        sim = self.net.sim
        err = unescaped(sys.stderr)     # the carriage return is ours; the text holds no user names
        err.write(f"\r[{now_ns / S:10.3f} s simulated] {sim.events_run} events, "
                  f"{sim.ledger.transmitted} frames, {t - self.started:.1f} s")
        err.flush()
        self.shown = True

    def done(self) -> None:
        if self.enabled:
            self.last = 0.0
            self(self.net.sim.now_ns)           # the final figures, even for a run too short for an update
            sys.stderr.write("\n")
            sys.stderr.flush()


def _until(args) -> int | None:
    from .topology import parse_time
    if not getattr(args, "until", None):
        return None
    try:
        return parse_time(args.until)
    except ValueError as exc:
        raise error(f"--until: {exc}") from None


def _execute(net, until_ns: int | None, progress: bool | None) -> None:
    """Run a network to its end (or until_ns), with the progress line, and close it (captures flushed)."""
    shown = Progress(net, progress)
    try:
        net.run(until_ns, shown)
    finally:
        shown.done()
        net.close()


def start_traffic(net) -> tuple[list, list]:
    """The applications `dataplane run` starts: the topology's traffic section, or pingall when it has none;
    with the label printed above each one's output (None for pingall)."""
    if not net.topo.traffic:
        return [_pingall(net, v6=False)], [None]
    from .show import traffic_item
    apps = net.schedule_traffic()
    return apps, [f"### traffic {i}: {traffic_item(t)}" for i, t in enumerate(net.topo.traffic, 1)]


def simulate(topo, until_ns: int | None = None, options: dict | None = None, prepare=None,
             progress: bool | None = False, attach=None):
    """What `dataplane run` runs, for it and for each point of `dataplane sweep`: build the network (with the
    Network() `options`), call attach(net) (a tracer), start its traffic (start_traffic), call
    prepare(net, apps) (recorders of the applications), run to the end or until_ns, close.
    Returns (net, apps, labels)."""
    from .network import Network
    net = Network(topo, **(options or {}))
    if attach is not None:
        attach(net)
    apps, labels = start_traffic(net)
    if prepare is not None:
        prepare(net, apps)
    _execute(net, until_ns, progress)
    return net, apps, labels


def _run(net, tracer, args, until_ns=None, views=None) -> None:
    if until_ns is None:
        until_ns = _until(args)
    _execute(net, until_ns, args.progress)
    _after_run(net, tracer, args, views)


def _after_run(net, tracer, args, views) -> None:
    """The trace and the layer view of a finished run, and its HTML report."""
    if tracer is not None:
        # The applications' lines are among the packets, at their times; their statistics come after.
        print(tracer.render(only=tracer.only))
        print()
    if _shown_views(views, args) is not None:
        from ..views.terminal import render_layers
        print(render_layers(views.data()).lstrip("\n"))
        print()
    if views is not None and getattr(args, "report", None):
        _write_report(views, net, args)


def _print_app(app, tracer) -> None:
    """An application's output: all of it, or what a trace (or the layer view) has not shown yet (its
    statistics)."""
    text = app.render() if tracer is None else app.closing()
    if text:
        print(text)


def _print_received(net) -> None:
    """What each host received that its stack did not take (custom packets), decoded; see craft.Receiver."""
    for host, receiver in net.receivers.items():
        if receiver.received:
            print(f"### {host} received (frames its stack did not take)")
            print(receiver.render())
            print()


def cmd_run(args) -> int:
    topo = _topology(args)
    options = _network_options(args)
    if not topo.traffic:
        # What a Mininet user types first; a topology.json never has traffic of its own.
        print(f"{topo.name} has no traffic section: running pingall")
    attached = {}

    def attach(net):
        attached["tracer"] = _tracer(net, args)

    def prepare(net, apps):
        attached["recorder"] = _recording(net, apps, args)
        attached["views"] = _layer_view(net, args)
    net, apps, labels = simulate(topo, _until(args), options, prepare, args.progress, attach)
    tracer, recorder, views = attached["tracer"], attached["recorder"], attached["views"]
    _after_run(net, tracer, args, views)
    for app, label in zip(apps, labels):
        if label:
            print(label)
        _print_app(app, tracer or _shown_views(views, args))
        print()
    _print_received(net)
    summary = net.summary()
    print(summary.render())
    if args.link_stats:
        from .linkstats import link_stats, render_link_stats
        print(render_link_stats(link_stats(net)))
    if args.pcap:
        files = sum(1 for link in net.links.values() if link.pcap_path is not None)
        print(f"pcap: {files} files in {args.pcap}")
    if recorder is not None:
        _write_data(net, apps, recorder, args)
    return 1 if summary.problems else 0


def _run_one(net, tracer, app, args) -> None:
    """Run a network for the one application a command started (ping, traceroute, pingall): with the
    recordings its options ask for (--json/--csv, --layers/--report), then its lines and its data."""
    recorder = _recording(net, [app], args)
    views = _layer_view(net, args)
    _run(net, tracer, args, views=views)
    _print_app(app, tracer or _shown_views(views, args))
    if recorder is not None:
        _write_data(net, [app], recorder, args)


def _check_ends(net, args) -> None:
    if args.src not in net.hosts:
        raise error(f"'{args.src}' is not a host of {net.topo.name} (hosts: {', '.join(net.hosts)})")
    try:
        net.address(args.dst, args.ipv6)
    except ValueError as exc:
        raise error(str(exc)) from None


def cmd_ping(args) -> int:
    from .apps import Ping
    from .topology import parse_time
    net, tracer = _network(args)
    _check_ends(net, args)
    if args.count < 1 or not 0 <= args.size <= 65507:
        raise error("ping: -c must be at least 1 and -s between 0 and 65507")
    try:
        interval = parse_time(args.interval if any(c.isalpha() for c in args.interval) else args.interval + "s")
    except ValueError as exc:
        raise error(f"ping -i: {exc}") from None
    app = Ping(net, args.src, args.dst, count=args.count, size=args.size, interval_ns=interval, df=args.df,
               v6=args.ipv6, ttl=args.ttl).start(0)
    _run_one(net, tracer, app, args)
    return 0 if app.received else 1


def _pingall(net, v6: bool):
    from .apps import PingAll
    try:
        app = PingAll(net, v6=v6)
    except ValueError as exc:
        raise error(str(exc)) from None
    net.apps.append(app)
    return app.start(0)


def cmd_pingall(args) -> int:
    net, tracer = _network(args)
    app = _pingall(net, args.ipv6)
    _run_one(net, tracer, app, args)
    return 0 if app.received == len(app.pairs) else 1


def cmd_send(args) -> int:
    from ..controlplane.positions import load_yaml
    from ..diagnostics import SourceFile
    from . import craft
    from .topology import parse_time
    net, tracer = _network(args)
    if args.src not in net.hosts:
        raise error(f"'{args.src}' is not a host of {net.topo.name} (hosts: {', '.join(net.hosts)})")
    if not 1 <= args.count <= 1_000_000:
        raise error("send: -c must be between 1 and 1000000")
    try:
        interval = parse_time(args.interval if any(c.isalpha() for c in args.interval) else args.interval + "s")
    except ValueError as exc:
        raise error(f"send -i: {exc}") from None
    source = SourceFile("<headers>", args.headers)
    headers, positions = load_yaml(source)
    craft.listen(net)
    try:
        app = craft.Sender(net, args.src, headers=headers, payload=args.payload, hex=args.hex, count=args.count,
                           interval_ns=interval, port=args.port)
    except craft.CraftError as exc:
        if exc.path[:1] == ("headers",):
            where = exc.path[1:]
            raise error(str(exc), positions.key_span(where) if exc.key else positions.span(where)) from None
        raise error(f"send: {exc}") from None
    net.apps.append(app.start(0))
    _run(net, tracer, args)
    print(app.render())
    print()
    _print_received(net)
    print(net.summary().render())
    return 0 if app.sent else 1


def cmd_show(args) -> int:
    from ..frontend.preprocess import read_source
    from .show import describe
    from .topology import load_topology
    topo = load_topology(args.topology, program=args.program)
    text = read_source(topo.path, kind="topology files").text
    print(f"# {topo.path}")
    print(text.rstrip("\n"))
    print()
    print(describe(topo))
    return 0


def cmd_traceroute(args) -> int:
    from .apps import Traceroute
    net, tracer = _network(args)
    _check_ends(net, args)
    app = Traceroute(net, args.src, args.dst, v6=args.ipv6, max_hops=args.max_hops, queries=args.queries).start(0)
    _run_one(net, tracer, app, args)
    return 0


# Public names for the other front doors that take a topology as `run` does (the interactive shell).
topology_args = _topology_args
network = _network
