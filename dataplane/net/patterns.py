"""Traffic patterns: one `pattern:` item of a topology's traffic that expands into many flows.

    traffic:
      - at: 0s
        pattern:
          kind: permutation        # permutation | random_pairs | incast | all_to_all | pingall
          hosts: "h*"              # a glob or a list of names and globs (default: every host)
          flow: tcp                # tcp | udp (pingall: pings)
          size: {fixed: 100KB}     # see net/distributions.py: fixed, uniform, exponential, pareto, cdf
          arrivals: at_once        # at_once | {poisson: {load: 0.5}} | {poisson: {rate: 100/s}} | {rate: 100/s}
          count: 16                # how many flows (default: one round of the pattern, see below)
          duration: 1s             # how long arrivals go on (poisson and rate arrivals; default 1s)
          to: h1                   # incast: the receiver (default: the first host)
          senders: 8               # incast: how many senders (default: every other host)
          cc: cubic                # tcp: the congestion control
          port: 5001               # the receivers' port (UDP flows to one host share it; default 5001 for
                                   # tcp, 9000 for udp: see net/appdata.py for what ports 80, 53... carry)
          ipv6: false

The pattern decides who sends to whom:
- permutation: a random permutation without fixed points; every host sends to one host and receives
  from one (no host sends to itself);
- random_pairs: each flow's two ends drawn at random, never the same host;
- incast: `senders` hosts chosen at random send to the one receiver `to` (n to one);
- all_to_all: every host to every other host (many-to-many);
- pingall: as all_to_all, with one ping per pair (Mininet's pingall over a subset of hosts).

Arrivals decide when:
- at_once: every flow starts at the item's `at`. One round of the pattern is one flow per host
  (permutation), per sender (incast) or per ordered pair (all_to_all, pingall), and as many as there
  are hosts for random_pairs; `count` asks for more or fewer (more rounds are drawn afresh).
- {poisson: {load: L}}: every sender starts flows as a Poisson process. Its rate is chosen so that the
  load it offers is L times the bandwidth B of its link: lambda = L x B / (8 x E[size]) flows per
  second, E[size] the mean of the size distribution (in bytes). With {poisson: {rate: R}} the rate is R
  flows per second per sender. Each flow's receiver is drawn as the pattern says (permutation: the
  sender's partner, fixed for the run; incast: the receiver; the others: a random other host).
- {rate: R}: every sender starts a flow every 1/R seconds (periodic, all senders in step).
Arrivals go on for `duration` (default 1s) or until `count` flows started, whichever comes first.

Every random choice (pairs, sizes, arrival times) comes from the pattern's own random.Random, seeded
with the topology's `seed` and the item's place in the traffic list: the same topology and seed give
the same flows whatever else the run does, another seed other flows.

Each flow is an ordinary application (TcpTransfer, UdpFlow, Ping), so `results.result()` works on each;
the pattern reports one line per flow (ends, size, start, finish and completion time, goodput) and the
totals, and `result(pattern)` is a PatternResult.
"""

from __future__ import annotations

import fnmatch
import heapq
import math
import random
from dataclasses import dataclass, field

from . import appdata
from .apps import S, App, Ping, UdpFlow
from .distributions import (KINDS as SIZE_KINDS, CdfError, Empirical, Exponential, Fixed, Pareto, Uniform,
                            find_cdf, parse_cdf, parse_size, shipped_workloads)
from .results import Displayed
from .topology import suggest
from .units import format_duration, format_rate

KINDS = ("permutation", "random_pairs", "incast", "all_to_all", "pingall")
KEYS = {"kind", "hosts", "flow", "size", "arrivals", "count", "duration", "to", "senders", "cc", "port", "ipv6"}
FLOWS = ("tcp", "udp")
DEFAULT_SIZE = 100_000                       # bytes: a short data-centre flow
DEFAULT_DURATION_NS = S
MAX_FLOWS = 100_000                          # beyond this a typo (a load of 50 instead of 0.5), not a run
PING_TIMEOUT_NS = S                          # as Mininet's pingall: ping -c1 -W1


# ---------------------------------------------------------------------------- validation


def check(loader, params: dict, path: tuple, nodes: dict, links: list) -> dict:
    """A `pattern:` item checked with located errors (loader is the topology's _Loader); returns the
    item's parameters as the expansion takes them."""
    loader.check_keys(params, KEYS, path, "pattern")
    if "kind" not in params:
        raise loader.fail(f"a pattern needs a 'kind': {', '.join(KINDS)}", path)
    kind = params["kind"]
    if kind not in KINDS:
        raise loader.fail(f"'kind' is one of {', '.join(KINDS)}", path + ("kind",), suggest(kind, KINDS))
    v6 = params.get("ipv6", False)
    if not isinstance(v6, bool):
        raise loader.fail("'ipv6' is true or false", path + ("ipv6",))
    hosts = _hosts(loader, params.get("hosts", "*"), path + ("hosts",) if "hosts" in params else path, nodes,
                   "hosts" in params)
    out: dict = {"kind": kind, "ipv6": v6}
    if kind == "pingall":
        if "flow" in params and params["flow"] != "ping":
            raise loader.fail("a pingall pattern sends pings: leave out 'flow'", path + ("flow",))
        for k in ("size", "cc", "port"):
            if k in params:
                raise loader.fail(f"'{k}' is not a setting of pingall", path + (k,), key=True)
        out["flow"] = "ping"
    else:
        flow = params.get("flow", "tcp")
        if flow not in FLOWS:
            raise loader.fail(f"'flow' is one of {', '.join(FLOWS)}", path + ("flow",), suggest(flow, FLOWS))
        out["flow"] = flow
        out["size"] = size_distribution(loader, params.get("size", {"fixed": DEFAULT_SIZE}), path + ("size",))
        if "port" in params:
            out["port"] = _ranged(loader, params["port"], path + ("port",), "port", 1, 65535)
        if "cc" in params:
            from .host.congestion import ALGORITHMS
            if flow != "tcp":
                raise loader.fail("'cc' is a setting of TCP flows", path + ("cc",), key=True)
            if params["cc"] not in ALGORITHMS:
                raise loader.fail(f"'cc' is one of {', '.join(ALGORITHMS)}", path + ("cc",),
                                  suggest(params["cc"], ALGORITHMS))
            out["cc"] = params["cc"]
    for k in ("to", "senders"):
        if k in params and kind != "incast":
            raise loader.fail(f"'{k}' is a setting of incast", path + (k,), key=True)
    if kind == "incast":
        to = params.get("to", hosts[0])
        if not isinstance(to, str) or to not in nodes or nodes[to].kind != "host":
            raise loader.fail(f"'{to}' is not a host", path + ("to",),
                              suggest(str(to), [n for n, s in nodes.items() if s.kind == "host"]))
        others = [h for h in hosts if h != to]
        senders = len(others)
        if "senders" in params:
            senders = _ranged(loader, params["senders"], path + ("senders",), "senders", 1, max(1, len(others)))
        if not others:
            raise loader.fail("an incast needs a sender besides the receiver", path + ("hosts",) if "hosts" in params
                              else path)
        out["to"], out["senders"] = to, senders
    elif len(hosts) < 2:
        raise loader.fail(f"a {kind} pattern needs at least two hosts", path + ("hosts",) if "hosts" in params
                          else path)
    out["hosts"] = hosts
    for h in hosts + ([out["to"]] if "to" in out else []):
        if not any((i.ipv6 if v6 else i.ipv4) for i in nodes[h].interfaces.values()):
            raise loader.fail(f"host '{h}' has no IPv{6 if v6 else 4} address", path + ("hosts",) if "hosts" in params
                              else path)
    if "count" in params:
        out["count"] = _ranged(loader, params["count"], path + ("count",), "count", 1, MAX_FLOWS)
    if "duration" in params:
        from .topology import parse_time
        out["duration_ns"] = loader.value(parse_time, params["duration"], path + ("duration",), "duration")
    out["links"] = {h: _access_link(h, links) for h in hosts + ([out["to"]] if "to" in out else [])}
    out["arrivals"] = _arrivals(loader, params.get("arrivals", "at_once"), path + ("arrivals",), out)
    expected = expected_flows(out)
    if expected > MAX_FLOWS:
        raise loader.fail(f"this pattern would start about {expected:.0f} flows; at most {MAX_FLOWS}",
                          path + ("arrivals",) if "arrivals" in params else path,
                          "give a smaller 'count', 'duration', load or rate")
    return out


def size_distribution(loader, spec, path: tuple):
    """One of fixed, uniform, exponential, pareto, cdf (see net/distributions.py)."""
    if not isinstance(spec, dict) or len(spec) != 1:
        raise loader.fail(f"a size is one of {', '.join(SIZE_KINDS)}, such as {{fixed: 100KB}}", path)
    (kind, value), = spec.items()
    if kind not in SIZE_KINDS:
        raise loader.fail(f"a size is one of {', '.join(SIZE_KINDS)}", path + (kind,), suggest(str(kind), SIZE_KINDS),
                          key=True)
    p = path + (kind,)
    if kind == "fixed":
        return Fixed(loader.value(parse_size, value, p, "size"))
    if kind == "uniform":
        if not isinstance(value, list) or len(value) != 2:
            raise loader.fail("a uniform size is [low, high], such as [10KB, 1MB]", p)
        low, high = (loader.value(parse_size, v, p + (i,), "size") for i, v in enumerate(value))
        if high < low:
            raise loader.fail("the high end is below the low end", p + (1,))
        return Uniform(low, high)
    if kind == "cdf":
        return _cdf(loader, value, p)
    keys = {"mean"} if kind == "exponential" else {"mean", "shape"}
    loader.expect(value, dict, p, f"an {kind} size ({{mean: 100KB}})" if kind == "exponential"
                  else "a pareto size ({mean: 100KB, shape: 1.2})")
    loader.check_keys(value, keys, p, f"a {kind} size")
    for k in keys:
        if k not in value:
            raise loader.fail(f"a {kind} size needs '{k}'", p)
    mean = loader.value(parse_size, value["mean"], p + ("mean",), "mean")
    if kind == "exponential":
        return Exponential(mean)
    from .topology import _real
    shape = loader.value(_real, value["shape"], p + ("shape",), "shape")
    if not 1 < shape <= 100:
        raise loader.fail("the shape of a Pareto size must be above 1 (its mean is infinite otherwise) and "
                          "at most 100", p + ("shape",))
    return Pareto(mean, shape)


def _cdf(loader, value, path: tuple) -> Empirical:
    from ..diagnostics import SourceFile, error
    from ..frontend.preprocess import read_source
    name = loader.expect(value, str, path, "cdf (a file of 'size probability' lines, or a shipped workload)")
    found = find_cdf(name, loader.src.path)
    if found is None:
        raise loader.fail(f"cannot find the CDF file '{name}'", path,
                          f"give a path relative to the topology file, or one of: {', '.join(shipped_workloads())}")
    source = read_source(found, kind="CDF files")
    try:
        return parse_cdf(source.text, name)
    except CdfError as exc:
        line = exc.line or max(1, len(source.text.splitlines()))
        raise error(str(exc), SourceFile(found, source.text).span(line)) from None


def _arrivals(loader, spec, path: tuple, out: dict) -> tuple:
    """("at_once",), ("poisson", flows per second per sender, load or None), or ("periodic", rate); the rate
    of Poisson arrivals at a load is a mapping from each sender to its own (links may differ)."""
    if spec == "at_once":
        if "duration_ns" in out:
            raise loader.fail("'duration' is for poisson and rate arrivals; at_once starts every flow at once",
                              path[:-1] + ("duration",), key=True)
        return ("at_once",)
    shapes = "at_once, {poisson: {load: 0.5}}, {poisson: {rate: 100/s}} or {rate: 100/s}"
    if not isinstance(spec, dict) or len(spec) != 1 or next(iter(spec)) not in ("poisson", "rate"):
        raise loader.fail(f"arrivals are {shapes}", path)
    (kind, value), = spec.items()
    if kind == "rate":
        return ("periodic", loader.value(_per_second, value, path + ("rate",), "rate"))
    p = path + ("poisson",)
    loader.expect(value, dict, p, "poisson arrivals ({load: 0.5} or {rate: 100/s})")
    loader.check_keys(value, {"load", "rate"}, p, "poisson arrivals")
    if len(value) != 1:
        raise loader.fail("poisson arrivals have a 'load' or a 'rate'", p)
    if "rate" in value:
        return ("poisson", loader.value(_per_second, value["rate"], p + ("rate",), "rate"), None)
    from .topology import _real
    if "size" not in out:
        raise loader.fail("a load is for TCP and UDP flows; give pings a rate: {poisson: {rate: 10/s}}",
                          p + ("load",), key=True)
    load = loader.value(_real, value["load"], p + ("load",), "load")
    if not 0 < load <= 100:
        raise loader.fail("the load is a share of the senders' link bandwidth, above 0 (1 is the whole link)",
                          p + ("load",))
    rates = {}
    for h in senders_of(out):
        link = out["links"].get(h)
        if link is None or link.bandwidth_bps is None:
            raise loader.fail(f"a load needs the senders' bandwidth, and host '{h}' has "
                              f"{'no link' if link is None else 'a link without one'}", p + ("load",),
                              "give the link a bandwidth, or arrivals at a rate: {poisson: {rate: 100/s}}")
        rates[h] = load * link.bandwidth_bps / (8 * out["size"].mean)
    return ("poisson", rates, load)


def _per_second(v) -> float:
    """Flows per second: 100/s, 5/ms, or a number (per second)."""
    from .topology import _real, parse_time
    if isinstance(v, str) and "/" in v:
        count, _, unit = v.partition("/")
        try:
            per = parse_time("1" + unit.strip()) / S
        except ValueError:
            raise ValueError(f"'{v}' is not a rate such as 100/s or 5/ms") from None
        rate = _real(count) / per
    else:
        rate = _real(v)
    if not 0 < rate <= 1e9:
        raise ValueError(f"'{v}' is not a rate above 0 such as 100/s")
    return rate


def _hosts(loader, spec, path: tuple, nodes: dict, given: bool) -> list[str]:
    """Hosts by name or glob (h*, h?_1), in the topology's order, each once."""
    all_hosts = [n for n, s in nodes.items() if s.kind == "host"]
    items = [spec] if isinstance(spec, str) else spec
    if not isinstance(items, list) or not items:
        raise loader.fail("'hosts' is a glob such as h* or a list of hosts", path)
    chosen: set[str] = set()
    for i, item in enumerate(items):
        where = path if isinstance(spec, str) else path + (i,)
        if not isinstance(item, str):
            raise loader.fail("a host is a name or a glob such as h*", where)
        matched = fnmatch.filter(all_hosts, item)
        if not matched:
            raise loader.fail(f"no host matches '{item}'" if given else "the topology has no hosts", where,
                              suggest(item, all_hosts))
        chosen.update(matched)
    return [h for h in all_hosts if h in chosen]


def _access_link(host: str, links: list):
    """The link of the host's first interface that has one: the bandwidth the load is a share of."""
    return next((l for l in links if host in (l.a[0], l.b[0])), None)


def _ranged(loader, v, path: tuple, what: str, low: int, high: int) -> int:
    from .topology import _int
    n = loader.value(_int, v, path, what)
    if not low <= n <= high:
        raise loader.fail(f"'{what}' must be between {low} and {high}", path)
    return n


# ---------------------------------------------------------------------------- expansion


@dataclass(frozen=True)
class FlowPlan:
    src: str
    dst: str
    size: int                  # bytes (pings: the echo's data bytes)
    start_ns: int              # from the pattern's start


def senders_of(p: dict) -> list[str]:
    """The hosts that may send: an incast's are chosen at expansion, so here every candidate."""
    if p["kind"] == "incast":
        return [h for h in p["hosts"] if h != p["to"]]
    return list(p["hosts"])


def round_size(p: dict) -> int:
    n = len(p["hosts"])
    return {"permutation": n, "random_pairs": n, "incast": p.get("senders", 0),
            "all_to_all": n * (n - 1), "pingall": n * (n - 1)}[p["kind"]]


def expected_flows(p: dict) -> float:
    arrivals = p["arrivals"]
    if arrivals[0] == "at_once":
        return p.get("count", round_size(p))
    senders = p["senders"] if p["kind"] == "incast" else len(p["hosts"])
    per_sender = arrivals[1]
    rate = sum(sorted(per_sender.values())[-senders:]) if isinstance(per_sender, dict) else per_sender * senders
    if "duration_ns" not in p and "count" in p:
        return p["count"]
    expected = rate * p.get("duration_ns", DEFAULT_DURATION_NS) / S
    return min(expected, p["count"]) if "count" in p else expected


def derangement(hosts: list[str], rng: random.Random) -> dict[str, str]:
    """A uniformly random permutation with no fixed point (shuffle until none: about e tries)."""
    while True:
        targets = list(hosts)
        rng.shuffle(targets)
        if all(a != b for a, b in zip(hosts, targets)):
            return dict(zip(hosts, targets))


def _one_round(p: dict, rng: random.Random, senders: list[str]) -> list[tuple[str, str]]:
    hosts, kind = p["hosts"], p["kind"]
    if kind == "permutation":
        return list(derangement(hosts, rng).items())
    if kind == "incast":
        return [(s, p["to"]) for s in senders]
    if kind in ("all_to_all", "pingall"):
        return [(a, b) for a in hosts for b in hosts if a != b]
    return [_random_pair(hosts, rng) for _ in hosts]


def _random_pair(hosts: list[str], rng: random.Random) -> tuple[str, str]:
    src = rng.choice(hosts)
    return src, rng.choice([h for h in hosts if h != src])


def expand(p: dict, rng: random.Random) -> list[FlowPlan]:
    """The flows of a checked pattern, in order of start time (ties in the pattern's order)."""
    senders = senders_of(p)
    if p["kind"] == "incast":
        chosen = set(rng.sample(senders, p["senders"]))
        senders = [h for h in senders if h in chosen]
    size = p.get("size")
    draw = (lambda: size.sample(rng)) if size is not None else (lambda: 56)
    if p["arrivals"][0] == "at_once":
        pairs: list[tuple[str, str]] = []
        wanted = p.get("count", round_size(p))
        while len(pairs) < wanted:
            pairs += _one_round(p, rng, senders)
        return [FlowPlan(a, b, draw(), 0) for a, b in pairs[:wanted]]
    partner = derangement(p["hosts"], rng) if p["kind"] == "permutation" else {}
    kind, rates = p["arrivals"][:2]
    duration = p.get("duration_ns", None if "count" in p else DEFAULT_DURATION_NS)
    limit = p.get("count", MAX_FLOWS)

    def gap(sender: str) -> float:
        rate = rates[sender] if isinstance(rates, dict) else rates
        return rng.expovariate(rate) if kind == "poisson" else 1 / rate

    # One arrival process per sender, merged in time order (ties by sender order).
    heap = [((gap(s) if kind == "poisson" else 0.0), i, s) for i, s in enumerate(senders)]
    heapq.heapify(heap)
    flows: list[FlowPlan] = []
    while heap and len(flows) < limit:
        t, i, s = heapq.heappop(heap)
        start = round(t * S)
        if duration is not None and start >= duration:
            break
        dst = p["to"] if p["kind"] == "incast" else partner.get(s) or rng.choice([h for h in p["hosts"] if h != s])
        flows.append(FlowPlan(s, dst, draw(), start))
        heapq.heappush(heap, (t + gap(s), i, s))
    return flows


def rng_for(seed: int, path: tuple) -> random.Random:
    """The pattern's own generator: the topology's seed and the item's place (a string seed is hashed
    with SHA-512 by random.Random, so it is the same in every process)."""
    return random.Random(f"dataplane pattern {seed} {'/'.join(map(str, path))}")


# ---------------------------------------------------------------------------- running


class _UdpMux:
    """One UDP port of a receiving host, shared by the pattern's UDP flows to it: datagrams go to the flow
    of their source address and port (a host has one handler per port)."""

    def __init__(self, host, port: int):
        self.flows: dict[tuple[int, int], UdpFlow] = {}
        self.unmatched = 0
        self.host = host
        host.udp_bind(port, self._rx)

    def _rx(self, pkt, sport: int, dport: int, data: bytes) -> None:
        flow = self.flows.get((pkt.src, sport))
        if flow is None:
            self.unmatched += 1
            return
        flow._rx(pkt, sport, dport, data)
        flow.reply(self.host, pkt, sport, dport, data)


class PatternApp(App):
    """A traffic pattern: its flows are started at their times; report() is a table of them."""

    name = "pattern"

    def __init__(self, net, params: dict, path: tuple = ()):
        senders = senders_of(params)
        super().__init__(net, senders[0])
        self.params = params
        self.plans = expand(params, rng_for(net.topo.seed, path))
        self.flows: list[App] = []
        self._muxes: dict[tuple[str, int], _UdpMux] = {}

    def start(self, at_ns: int = 0) -> "PatternApp":
        super().start(at_ns)
        self.flows = [self._flow(plan).start(self.start_ns + plan.start_ns) for plan in self.plans]
        return self

    def _begin(self) -> None:
        pass

    @property
    def done(self) -> bool:
        return all(f.done for f in self.flows)

    @done.setter
    def done(self, value: bool) -> None:
        pass                                    # App.__init__ sets it; a pattern is done when its flows are

    def _flow(self, plan: FlowPlan) -> App:
        p, v6 = self.params, self.params["ipv6"]
        if p["flow"] == "ping":
            return Ping(self.net, plan.src, plan.dst, count=1, v6=v6, timeout_ns=PING_TIMEOUT_NS)
        port = p.get("port", appdata.DEFAULT_PORT[p["flow"]])
        if p["flow"] == "tcp":
            from .transfers import TcpTransfer
            return TcpTransfer(self.net, plan.src, plan.dst, port=port, nbytes=plan.size, v6=v6, cc=p.get("cc"))
        link = p["links"].get(plan.src)
        payload = (link.mtu if link else 1500) - (48 if v6 else 28)
        datagram = max(4, min(payload, plan.size, 65507))
        # Paced at the sender's link rate (as iperf -b at line rate); a link without a bandwidth: back to back.
        wire_bits = 8 * (datagram + (48 if v6 else 28) + 18)
        interval = 0 if link is None or link.bandwidth_bps is None else round(wire_bits * S / link.bandwidth_bps)
        flow = UdpFlow(self.net, plan.src, plan.dst, port=port, count=math.ceil(plan.size / datagram),
                       size=datagram, interval_ns=interval, v6=v6)
        key = (plan.dst, port)
        if key not in self._muxes:
            self._muxes[key] = _UdpMux(self.net.host(plan.dst), port)
        self._muxes[key].flows[(self.net.host(plan.src).primary_address(v6), flow.sport)] = flow
        flow.receiver = None                    # the mux receives for it
        return flow

    def report(self) -> str:
        from .results import result
        r = result(self)
        ends = [f"{f.src} -> {f.dst}" for f in r.flows]
        width = max([len(e) for e in ends] + [len("flow")])
        what = "rtt (ms)" if r.flow == "ping" else "fct (ms)"
        flows = "pings" if r.flow == "ping" else f"{r.flow} flows"
        out = [f"{r.pattern} pattern: {len(r.flows)} {flows} over {len(self.params['hosts'])} hosts",
               f"{'flow':<{width}}  {'bytes':>10}  {'start (s)':>10}  {'finish (s)':>10}  {what:>10}  goodput"]
        for e, f in zip(ends, r.flows):
            finish = "-" if f.finish_s is None else f"{f.finish_s:.6f}"
            fct = "-" if f.fct_s is None else f"{f.fct_s * 1000:.3f}"
            if not f.started:
                goodput = "not started"
            elif not f.completed:
                goodput = "incomplete"
            else:
                goodput = "-" if f.goodput_bps is None else format_rate(f.goodput_bps)
            out.append(f"{e:<{width}}  {f.size:>10}  {f.start_s:>10.6f}  {finish:>10}  {fct:>10}  {goodput}")
        totals = f"{r.completed} of {len(r.flows)} {flows} completed"
        if r.fct_median_s is not None:
            totals += (f"; {what.split()[0]} median {r.fct_median_s * 1000:.3f} ms, "
                       f"99th percentile {r.fct_p99_s * 1000:.3f} ms")
        out.append(totals)
        return "\n".join(out)


# ---------------------------------------------------------------------------- results


@dataclass
class PatternFlow:
    """One flow of a pattern. Times in seconds from the start of the run; fct_s is finish - start (for a
    TCP flow: until the receiver had every byte; UDP: until the last datagram arrived; ping: the RTT)."""
    src: str
    dst: str
    size: int
    started: bool
    start_s: float
    finish_s: float | None
    fct_s: float | None
    goodput_bps: float | None
    completed: bool


@dataclass
class PatternResult(Displayed):
    kind: str                         # "pattern"
    pattern: str                      # permutation, incast, ...
    flow: str                         # tcp, udp or ping
    flows: list[PatternFlow]
    completed: int
    fct_median_s: float | None
    fct_p99_s: float | None
    finished: bool
    details: list = field(default_factory=list)     # result() of every flow's application, in order


def pattern_result(app: PatternApp) -> PatternResult:
    from .results import result
    flows = [_flow_result(plan, flow) for plan, flow in zip(app.plans, app.flows)]
    fcts = sorted(f.fct_s for f in flows if f.completed)
    return PatternResult("pattern", app.params["kind"], app.params["flow"], flows, len(fcts),
                         percentile(fcts, 50), percentile(fcts, 99), app.done, [result(f) for f in app.flows])


def percentile(values: list[float], q: float) -> float | None:
    """The nearest-rank percentile of sorted values (None for none)."""
    if not values:
        return None
    return values[max(0, math.ceil(q / 100 * len(values)) - 1)]


def _flow_result(plan: FlowPlan, app: App) -> PatternFlow:
    start = app.start_ns
    finish = _finish_ns(app) if app.started else None
    fct = None if finish is None else finish - start
    goodput = plan.size * 8 * S / fct if fct and app.name != "ping" else None
    return PatternFlow(plan.src, plan.dst, plan.size, app.started, start / S, None if finish is None else finish / S,
                       None if fct is None else fct / S, goodput, finish is not None)


def _finish_ns(app: App) -> int | None:
    """When the flow completed, or None if it did not."""
    if app.name == "ping":
        return app.start_ns + app.rtts[0] if app.rtts else None
    if app.name == "udp":
        if len(app.received) < app.count:
            return None
        return max(app.sent_at[seq] + latency for seq, latency in app.received)
    # TCP: the receiver moves to CLOSE-WAIT when the FIN arrives in order, after every byte.
    server = app.peer_end() if app.client is not None else None
    if server is None or not app.intact:
        return None
    return next((t for t, _, new in server.history if new == "CLOSE-WAIT"), None)


def describe(p: dict) -> str:
    """A checked pattern as one line: 'permutation of tcp flows over 16 hosts, sizes fixed 100000 bytes, at once'."""
    hosts = p["hosts"]
    flows = "pings" if p["flow"] == "ping" else f"{p['flow']} flows"
    text = f"{p['kind']} of {flows} over {len(hosts)} hosts"
    if p["kind"] == "incast":
        text += f" ({p['senders']} senders to {p['to']})"
    if "size" in p:
        text += f", sizes {p['size']}"
    arrivals = p["arrivals"]
    if arrivals[0] == "at_once":
        text += ", all at once"
    elif isinstance(arrivals[1], dict):
        text += f", Poisson arrivals at load {arrivals[2]:g}"
    else:
        text += f", {'Poisson' if arrivals[0] == 'poisson' else 'periodic'} arrivals, {arrivals[1]:g} per second per sender"
    if "count" in p:
        text += f", {p['count']} flows"
    if "duration_ns" in p:
        text += f", for {format_duration(p['duration_ns'])}"
    return text
