"""A run's results as one data object: `dataplane run TOPO --json FILE`, `--csv DIR`, `--interval 10ms`.

    rec = Recorder(net, apps, interval_ns=10_000_000)    # before net.run(): hooks that cost only when asked
    net.run()
    data = collect(net, apps, rec)                        # a dict, JSON-ready
    write_json(data, "run.json"); write_csv(data, "run-csv")

--json, --csv and `dataplane plot` render this object (the text that `run`
prints is still rendered by the applications and the Summary).
Output is deterministic: the same run gives byte-identical files (keys
sorted, lists in run order, no wall-clock time, floats written by repr).

Schema "dataplane-run/1" (also as JSON Schema: dataplane/net/run-schema.json).
Times are seconds (floats), rates bit/s, sizes bytes, addresses text;
a value not known is null.

    schema        "dataplane-run/1"
    topology      the topology's name
    seed          its seed
    time_s        simulated time at the end of the run
    settings      the --set PATH=VALUE texts applied, in order
    summary       the run's books (net/network.py Summary): events, nodes, links,
                  frames {transmitted, arrived, link_drops, in_flight}, fates
                  {forwarded, delivered, consumed, dropped, reassembly}, drops
                  {reason: n}, copy_drops {reason: n}, drops_by_node {node: n},
                  stopped_by, limits {host: [text]}, notes [text], problems [text]
    apps          every application in start order: {id, ...} with the fields of
                  its net/results.py dataclass (kind ping, pingall, traceroute,
                  udp, tcp, sctp, or another kind with its report as text)
    flows         per TCP transfer, those of traffic patterns included: id, src (host), src_address, src_port, dst
                  (address), dst_host, dst_port, cc, sack (the connection used
                  SACK, RFC 2018), bytes (to send),
                  delivered_bytes, intact, start_s, handshake_s (SYN to
                  ESTABLISHED), fct_s (flow completion time: start to the
                  receiver having every byte and the FIN; null if it never
                  did), goodput_bps (delivered bits / fct_s), retransmissions,
                  retransmitted_bytes (data sent again), fast_retransmits, timeouts, rtt_samples_s (every RTT measured
                  by the sender, RFC 6298), srtt_s (the last smoothed RTT),
                  client_states / server_states [{time_s, state}], error
    pings         per ping (those of patterns included): id, src, dst, transmitted, received, lost, loss,
                  duplicates, errors, rtt_s [...], rtt_min_s, rtt_avg_s,
                  rtt_max_s, rtt_mdev_s
    links         per link and direction: id (link:from->to), link, from, to,
                  from_port, frames (put on the wire), bytes, drops {reason: n}
                  (queue_full, link_loss, exceeds_link_mtu, link_down),
                  peak_queue_frames (most frames waiting for the transmitter),
                  queue_limit_frames, bandwidth_bps, latency_s, mtu, loss
    nodes         per node: node, kind, drops {reason: n} (drops on its links
                  are in `links`), copy_drops {reason: n}
    drop_records_complete   false when more drops happened than the run keeps
                  records of (sim.MAX_DROP_RECORDS): per-link drops then count
                  the recorded ones only, and the rest stay with their node
    series        null, or with --interval: {interval_s, time_s [...], flows
                  {flow id: {delivered_bytes, throughput_bps, cwnd_bytes,
                  srtt_s}}, links {link id: {bytes, utilisation,
                  queue_frames}}}, every list aligned with time_s
                  (net/series.py)

CSV (one file per table, header first): flows.csv, pings.csv, links.csv,
nodes.csv, series.csv (long form: time_s, kind, id, metric, value).
"""

from __future__ import annotations

import csv
import dataclasses
import json
import os
import re

from ..runtime.trace import DropReason
from .results import result
from .series import Sampler, link_end_id

SCHEMA = "dataplane-run/1"
SCHEMA_FILE = os.path.join(os.path.dirname(__file__), "run-schema.json")    # the same, as JSON Schema
NS = 1_000_000_000

# Drops that happen on a link (net/sim.py Link), counted per link direction rather than per node.
LINK_REASONS = (DropReason.QUEUE_FULL, DropReason.LINK_LOSS, DropReason.EXCEEDS_LINK_MTU, DropReason.LINK_DOWN)


def _seconds(ns):
    return None if ns is None else ns / NS


def _is_tcp(app) -> bool:
    return type(app).__name__ == "TcpTransfer"


def _is_ping(app) -> bool:
    return type(app).__name__ == "Ping"


def _members(app) -> list | None:
    """The applications a container application runs (a traffic pattern's flows), or None."""
    members = getattr(app, "flows", None)
    return members if isinstance(members, list) else None


def app_ids(apps) -> tuple[list[str], list[tuple[str, object]]]:
    """An id per application, its kind and its number among those of its kind (tcp1, tcp2, ping1...), and
    the single applications with theirs: the applications themselves, and the members of containers (a
    traffic pattern's flows, numbered with the others: a pattern1 of two TCP flows after a tcp1 holds tcp2
    and tcp3)."""
    counts: dict[str, int] = {}

    def next_id(app) -> str:
        kind = str(getattr(app, "name", "app"))
        counts[kind] = counts.get(kind, 0) + 1
        return f"{kind}{counts[kind]}"
    ids, leaves = [], []
    for app in apps:
        ids.append(next_id(app))
        members = _members(app)
        if members is None:
            leaves.append((ids[-1], app))
        else:
            leaves += [(next_id(m), m) for m in members]
    return ids, leaves


class Recorder:
    """What a run's data needs beyond its end state, recorded while it runs: each link direction's peak queue,
    each TCP sender's RTT samples, and the time series when `interval_ns` is given. Attach it before the run
    (after the applications are made); a run without a Recorder pays nothing for it."""

    def __init__(self, net, apps, interval_ns: int | None = None):
        self.net, self.apps = net, list(apps)
        self.ids, self.leaves = app_ids(self.apps)
        self.peak_queue: dict = {}           # LinkEnd -> most frames waiting
        self.rtt_samples: dict = {}          # id(TcpConnection) -> [ns]
        for link in net.links.values():
            link.observers.append(self._sent)
        for host in net.hosts.values():
            if host.tcp is not None:
                host.tcp.rtt_watchers.append(self._rtt_measured)
        flows = [(fid, app) for fid, app in self.leaves if _is_tcp(app)]
        self.sampler = Sampler(net, flows, interval_ns, self.apps) if interval_ns else None

    def _sent(self, link, end, frame) -> None:
        queued = len(end.waiting)
        if queued > self.peak_queue.get(end, 0):
            self.peak_queue[end] = queued

    def _rtt_measured(self, conn, rtt_ns: int) -> None:
        """A connection's RTT measurement (TcpStack.rtt_watchers): what SRTT is made from."""
        self.rtt_samples.setdefault(id(conn), []).append(rtt_ns)


def collect(net, apps, recorder: Recorder | None = None, settings=()) -> dict:
    """The run's result object (schema dataplane-run/1) from a finished network and its applications."""
    apps = list(apps)
    ids, leaves = (recorder.ids, recorder.leaves) if recorder is not None else app_ids(apps)
    ledger = net.sim.ledger
    summary = net.summary()
    link_rows, link_counted = _links(net, recorder)
    data = {
        "schema": SCHEMA,
        "topology": net.topo.name,
        "seed": net.topo.seed,
        "time_s": net.sim.now_ns / NS,
        "settings": list(settings),
        "summary": _summary(summary),
        "apps": [dict(id=aid, **dataclasses.asdict(result(app))) for aid, app in zip(ids, apps)],
        "flows": [_flow(aid, app, net, recorder) for aid, app in leaves if _is_tcp(app)],
        "pings": [_ping(aid, app) for aid, app in leaves if _is_ping(app)],
        "links": link_rows,
        "nodes": _nodes(net, link_counted),
        "drop_records_complete": ledger.unrecorded_drops == 0,
        "series": recorder.sampler.result() if recorder is not None and recorder.sampler is not None else None,
    }
    return data


def _summary(s) -> dict:
    return {"events": s.events, "nodes": s.nodes, "links": s.links,
            "frames": {"transmitted": s.transmitted, "arrived": s.arrived, "link_drops": s.link_drops,
                       "in_flight": s.on_links},
            "fates": dict(s.fates), "drops": dict(s.drops), "copy_drops": dict(s.copy_drops),
            "drops_by_node": dict(s.drops_by_node), "stopped_by": s.stopped_by,
            "limits": {host: list(lines) for host, lines in s.limits.items()},
            "notes": list(s.notes), "problems": list(s.problems)}


def _states(conn) -> list[dict]:
    if conn is None or not conn.history:
        return []
    first_time, first_old, _ = conn.history[0]
    out = [{"time_s": first_time / NS, "state": first_old}]
    out += [{"time_s": t / NS, "state": new} for t, _, new in conn.history]
    return out


def _cc_name(conn) -> str | None:
    from .host.congestion import ALGORITHMS
    if conn is None:
        return None
    return next((name for name, cls in ALGORITHMS.items() if type(conn.cc) is cls), type(conn.cc).__name__.lower())


def _flow(fid: str, app, net, recorder: Recorder | None) -> dict:
    r = result(app)
    client = app.client
    server = app.peer_end() if client is not None else None
    fct_ns = None
    if server is not None and r.delivered_bytes == r.total_bytes:
        # The receiver has every byte once the FIN arrives in order (its move to CLOSE-WAIT).
        fin = next((t for t, _, new in server.history if new == "CLOSE-WAIT"), None)
        if fin is not None:
            fct_ns = fin - app.started_ns
    rtts = recorder.rtt_samples.get(id(client), []) if recorder is not None and client is not None else []
    return {
        "id": fid, "src": app.host.name,
        "src_address": None if client is None else _address(client.local, app.v6),
        "src_port": client.lport if client is not None else None,
        "dst": r.dst, "dst_host": net.name_of(app.dst, app.v6), "dst_port": app.port,
        "cc": _cc_name(client) if client is not None else (app.cc or "cubic"),
        "sack": client.sack_ok if client is not None else False,
        "bytes": r.total_bytes, "delivered_bytes": r.delivered_bytes, "intact": r.intact,
        "start_s": app.started_ns / NS if app.started else None,
        "handshake_s": r.established_s, "fct_s": _seconds(fct_ns),
        "goodput_bps": r.delivered_bytes * 8 * NS / fct_ns if fct_ns else None,
        "retransmissions": client.retransmissions if client is not None else 0,
        "retransmitted_bytes": client.retransmitted_bytes if client is not None else 0,
        "fast_retransmits": client.fast_retransmits if client is not None else 0,
        "timeouts": client.timeouts if client is not None else 0,
        "rtt_samples_s": [x / NS for x in rtts],
        "srtt_s": _seconds(client.srtt_ns) if client is not None else None,
        "client_states": _states(client), "server_states": _states(server),
        "error": r.error, "finished": r.finished,
    }


def _address(value: int, v6: bool) -> str:
    from ..protocols import packets as P
    return P.ip6_str(value) if v6 else P.ip4_str(value)


def _ping(pid: str, app) -> dict:
    r = result(app)
    return {"id": pid, "src": r.src, "dst": r.dst, "transmitted": r.transmitted, "received": r.received,
            "lost": r.transmitted - r.received, "loss": r.loss, "duplicates": r.duplicates, "errors": r.errors,
            "rtt_s": list(r.rtt_s), "rtt_min_s": r.rtt_min_s, "rtt_avg_s": r.rtt_avg_s, "rtt_max_s": r.rtt_max_s,
            "rtt_mdev_s": r.rtt_mdev_s}


def _links(net, recorder: Recorder | None) -> tuple[list[dict], dict]:
    """One row per link direction, and the drops counted on links per (node, reason), which the node rows
    leave out."""
    by_end: dict[tuple[str, int], dict] = {}
    counted: dict[tuple[str, DropReason], int] = {}
    ends = {}
    for link in net.links.values():
        for end in link.ends.values():
            ends[(end.node.name, end.port)] = end
    for rec in net.sim.ledger.drops:
        if rec.reason in LINK_REASONS and not rec.copy and (rec.node, rec.port) in ends:
            drops = by_end.setdefault((rec.node, rec.port), {})
            name = rec.reason.name.lower()
            drops[name] = drops.get(name, 0) + 1
            counted[(rec.node, rec.reason)] = counted.get((rec.node, rec.reason), 0) + 1
    rows = []
    for name, link in net.links.items():
        for end in link.ends.values():
            rows.append({"id": link_end_id(name, end), "link": name, "from": end.node.name, "to": end.peer.name,
                         "from_port": end.port, "frames": end.sent, "bytes": end.bytes,
                         "drops": dict(sorted(by_end.get((end.node.name, end.port), {}).items())),
                         "peak_queue_frames": recorder.peak_queue.get(end, 0) if recorder is not None else None,
                         "queue_limit_frames": link.queue_frames, "bandwidth_bps": link.bandwidth_bps,
                         "latency_s": link.latency_ns / NS, "mtu": link.mtu, "loss": link.loss})
    return rows, counted


def _nodes(net, link_counted: dict) -> list[dict]:
    drops: dict[str, dict] = {}
    copies: dict[str, dict] = {}
    for (node, reason, copy), n in net.sim.ledger.drop_counts.items():
        if not copy:
            n -= link_counted.get((node, reason), 0)
        if n:
            table = (copies if copy else drops).setdefault(node, {})
            table[reason.name.lower()] = table.get(reason.name.lower(), 0) + n
    return [{"node": name, "kind": spec.kind, "drops": dict(sorted(drops.get(name, {}).items())),
             "copy_drops": dict(sorted(copies.get(name, {}).items()))}
            for name, spec in net.topo.nodes.items()]


# ---------------------------------------------------------------------------- writing


# A list of numbers (and nulls) as json.dumps(indent=...) writes it: one item a line. Only the indented form
# has raw newlines, never a JSON string, so text inside strings cannot match.
_NUMBER_LIST = re.compile(r"\[\n\s*(?:-?[0-9][0-9.eE+-]*|null)(?:,\n\s*(?:-?[0-9][0-9.eE+-]*|null))*\n\s*\]")


def dumps(data: dict) -> str:
    """The JSON text: keys sorted, one key a line, each list of numbers (a series) on one line; no NaN or
    infinity (they are not JSON)."""
    text = json.dumps(data, sort_keys=True, indent=1, allow_nan=False, ensure_ascii=False)
    return _NUMBER_LIST.sub(lambda m: "[" + ", ".join(x.strip() for x in m.group(0)[1:-1].split(",")) + "]",
                            text) + "\n"


def write_json(data: dict, path: str) -> None:
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        f.write(dumps(data))


FLOW_COLUMNS = ("id", "src", "src_address", "src_port", "dst", "dst_host", "dst_port", "cc", "sack", "bytes",
                "delivered_bytes", "intact", "start_s", "handshake_s", "fct_s", "goodput_bps", "retransmissions",
                "retransmitted_bytes", "fast_retransmits", "timeouts", "rtt_samples", "rtt_min_s", "rtt_avg_s", "rtt_max_s", "srtt_s",
                "client_states", "server_states", "error")
PING_COLUMNS = ("id", "src", "dst", "transmitted", "received", "lost", "loss", "duplicates", "errors",
                "rtt_min_s", "rtt_avg_s", "rtt_max_s", "rtt_mdev_s", "rtt_s")
LINK_COLUMNS = ("id", "link", "from", "to", "from_port", "frames", "bytes", "drops") + \
    tuple(f"drops_{r.name.lower()}" for r in LINK_REASONS) + \
    ("peak_queue_frames", "queue_limit_frames", "bandwidth_bps", "latency_s", "mtu", "loss")
NODE_COLUMNS = ("node", "kind", "drops", "copy_drops", "drops_by_reason")
SERIES_COLUMNS = ("time_s", "kind", "id", "metric", "value")


def csv_cell(v) -> str:
    """A value in a CSV cell: empty when not known, true/false, floats by repr (they read back exactly)."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, float):
        return repr(v)
    return str(v)


def _reasons(drops: dict) -> str:
    return " ".join(f"{k}={v}" for k, v in sorted(drops.items()))


def tables(data: dict) -> dict[str, tuple[tuple, list[list]]]:
    """The CSV tables of a result object: file name -> (header, rows)."""
    flows = []
    for f in data["flows"]:
        rtts = f["rtt_samples_s"]
        row = dict(f, rtt_samples=len(rtts), rtt_min_s=min(rtts, default=None), rtt_max_s=max(rtts, default=None),
                   rtt_avg_s=sum(rtts) / len(rtts) if rtts else None,
                   client_states=" ".join(s["state"] for s in f["client_states"]),
                   server_states=" ".join(s["state"] for s in f["server_states"]))
        flows.append([row[c] for c in FLOW_COLUMNS])
    pings = [[dict(p, rtt_s=" ".join(map(repr, p["rtt_s"])))[c] for c in PING_COLUMNS] for p in data["pings"]]
    links = []
    for l in data["links"]:
        row = dict(l, drops=sum(l["drops"].values()),
                   **{f"drops_{r.name.lower()}": l["drops"].get(r.name.lower(), 0) for r in LINK_REASONS})
        links.append([row[c] for c in LINK_COLUMNS])
    nodes = [[n["node"], n["kind"], sum(n["drops"].values()), sum(n["copy_drops"].values()), _reasons(n["drops"])]
             for n in data["nodes"]]
    series = []
    s = data.get("series")
    if s:
        for kind, group in (("flow", s["flows"]), ("link", s["links"])):
            for oid, metrics in group.items():
                for metric, values in metrics.items():
                    series += [[t, kind, oid, metric, v] for t, v in zip(s["time_s"], values)]
    return {"flows.csv": (FLOW_COLUMNS, flows), "pings.csv": (PING_COLUMNS, pings),
            "links.csv": (LINK_COLUMNS, links), "nodes.csv": (NODE_COLUMNS, nodes),
            "series.csv": (SERIES_COLUMNS, series)}


def write_csv(data: dict, directory: str) -> list[str]:
    """One CSV file per table in directory (made if missing); returns the files written."""
    os.makedirs(directory, exist_ok=True)
    written = []
    for file, (header, rows) in tables(data).items():
        path = os.path.join(directory, file)
        with open(path, "w", encoding="utf-8", newline="") as f:
            out = csv.writer(f, lineterminator="\n")
            out.writerow(header)
            out.writerows([csv_cell(v) for v in row] for row in rows)
        written.append(path)
    return written
