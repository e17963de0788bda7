"""The figures a sweep can tabulate, each computed from one run's data object (net/rundata.py collect()).

    value = METRICS["tcp.throughput"].compute(data)      # None when the run has no such figure

A metric is a name (`delivered`, `tcp.retransmissions`, `drops.queue_full`),
a unit and a one-line description; `dataplane sweep --list-metrics` prints
them all. A value that is not known (no TCP flow for tcp.fct, no reply for
ping.rtt.avg) is None, an empty cell in the table.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable

from ..runtime.trace import DropReason


@dataclass(frozen=True)
class Metric:
    name: str
    unit: str
    description: str
    compute: Callable[[dict], object]


def _summary(*keys: str):
    def compute(data: dict):
        value = data["summary"]
        for key in keys:
            value = value[key]
        return value
    return compute


def _flows(data: dict) -> list[dict]:
    return data["flows"]


def _mean(values: list):
    return sum(values) / len(values) if values else None


def _throughput(data: dict):
    return _mean([f["goodput_bps"] for f in _flows(data) if f["goodput_bps"] is not None])


def _fct(data: dict):
    return _mean([f["fct_s"] for f in _flows(data) if f["fct_s"] is not None])


def _flow_sum(key: str):
    def compute(data: dict):
        flows = _flows(data)
        return sum(f[key] for f in flows) if flows else None
    return compute


def _completed(data: dict):
    flows = _flows(data)
    return sum(1 for f in flows if f["fct_s"] is not None) if flows else None


def _rtts(data: dict) -> list[float]:
    return [rtt for p in data["pings"] for rtt in p["rtt_s"]]


def _rtt_mdev(data: dict):
    """As ping(8) computes it: sqrt(mean(rtt^2) - mean(rtt)^2)."""
    rtts = _rtts(data)
    if not rtts:
        return None
    mean = sum(rtts) / len(rtts)
    return math.sqrt(max(0.0, sum(r * r for r in rtts) / len(rtts) - mean * mean))


def _pings_sent(data: dict) -> tuple[int, int, bool]:
    """(echo requests transmitted, replies received, whether there was any ping at all), pingall's included."""
    sent = sum(p["transmitted"] for p in data["pings"])
    received = sum(p["received"] for p in data["pings"])
    any_ping = bool(data["pings"])
    for app in data["apps"]:
        if app.get("kind") == "pingall":
            sent, received, any_ping = sent + app["sent"], received + app["received"], True
    return sent, received, any_ping


def _ping_transmitted(data: dict):
    sent, _, any_ping = _pings_sent(data)
    return sent if any_ping else None


def _ping_received(data: dict):
    _, received, any_ping = _pings_sent(data)
    return received if any_ping else None


def _ping_loss(data: dict):
    sent, received, _ = _pings_sent(data)
    return 1 - received / sent if sent else None


def _drops(reason: str):
    return lambda data: data["summary"]["drops"].get(reason, 0)


_LIST = [
    Metric("time_s", "s", "simulated time at the end of the run", lambda data: data["time_s"]),
    Metric("events", "events", "events the simulator ran", _summary("events")),
    Metric("frames", "frames", "frames put on links", _summary("frames", "transmitted")),
    Metric("link_drops", "frames", "frames dropped on links (loss, full queues, MTU, link down)",
           _summary("frames", "link_drops")),
    Metric("forwarded", "packets", "packets nodes forwarded", _summary("fates", "forwarded")),
    Metric("delivered", "packets", "packets delivered to a host's stack", _summary("fates", "delivered")),
    Metric("consumed", "packets", "packets consumed by a control plane", _summary("fates", "consumed")),
    Metric("dropped", "packets", "packets dropped at nodes (every reason)", _summary("fates", "dropped")),
    Metric("tcp.throughput", "bit/s", "TCP goodput: delivered bits / flow completion time, mean over the "
                                      "flows that completed", _throughput),
    Metric("tcp.fct", "s", "TCP flow completion time, mean over the flows that completed", _fct),
    Metric("tcp.completed", "flows", "TCP flows whose receiver got every byte and the FIN", _completed),
    Metric("tcp.retransmissions", "segments", "TCP retransmissions, summed over the flows",
           _flow_sum("retransmissions")),
    Metric("tcp.timeouts", "timeouts", "TCP retransmission timeouts, summed over the flows", _flow_sum("timeouts")),
    Metric("ping.transmitted", "requests", "echo requests sent (ping and pingall)", _ping_transmitted),
    Metric("ping.received", "replies", "echo replies received (ping and pingall)", _ping_received),
    Metric("ping.loss", "fraction", "echo requests without a reply, 0 to 1 (ping and pingall)", _ping_loss),
    Metric("ping.rtt.min", "s", "smallest round-trip time over every ping's replies",
           lambda data: min(_rtts(data), default=None)),
    Metric("ping.rtt.avg", "s", "mean round-trip time over every ping's replies", lambda data: _mean(_rtts(data))),
    Metric("ping.rtt.max", "s", "largest round-trip time over every ping's replies",
           lambda data: max(_rtts(data), default=None)),
    Metric("ping.rtt.mdev", "s", "standard deviation of the round-trip times, as ping's mdev", _rtt_mdev),
]
_LIST += [Metric(f"drops.{r.name.lower()}", "packets", f"packets and frames dropped: {r.value}", _drops(r.name.lower()))
          for r in DropReason]

METRICS: dict[str, Metric] = {m.name: m for m in _LIST}

# `metrics:` left out: the figures of the summary `dataplane run` prints.
DEFAULT = ("time_s", "events", "frames", "link_drops", "forwarded", "delivered", "consumed", "dropped")


def compute(data: dict, names) -> tuple:
    """The named metrics of one run's data, in order (None for a value not known)."""
    return tuple(METRICS[name].compute(data) for name in names)


def listing() -> str:
    """Every metric with its unit and description, one a line: `dataplane sweep --list-metrics`."""
    width = max(len(m.name) for m in _LIST)
    units = max(len(m.unit) for m in _LIST)
    return "\n".join(f"{m.name:<{width}}  {m.unit:<{units}}  {m.description}" for m in _LIST)
