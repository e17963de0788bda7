"""Time series of a run, sampled every `interval` of simulated time (`dataplane run --interval 10ms`).

A `Sampler` is one periodic simulator event: at t = 0, interval, 2 x
interval ... it reads, without changing anything,
- per TCP flow (a TcpTransfer): the bytes the receiver has so far, the
  throughput over the interval just ended (bit/s), the sender's congestion
  window (`cc.cwnd`, bytes) and smoothed RTT (`srtt_ns`, as seconds);
- per link direction: the bytes its transmitter sent over the interval
  (what was queued, plus the backlog at the start, less the backlog now),
  its utilisation (those bits over what the bandwidth could carry in the
  interval; null on a link without a bandwidth) and the frames queued for
  the transmitter at that instant.
It reschedules itself while other events are pending, so a run still ends
when the network is idle, and stops early once every application is over
(a TCP sender in TIME-WAIT or CLOSED counts as over: TIME-WAIT's 2 MSL of
silence would otherwise be a minute of zeros) and the links carried nothing
in the last interval. The samples add events to the run's event count and
nothing else. Without --interval no Sampler exists: series cost
nothing.

Values a flow has not got yet (before it starts, before its first RTT
sample) are None (JSON null), so every list lines up with `time_s`.
"""

from __future__ import annotations

NS = 1_000_000_000


def link_end_id(link_name: str, end) -> str:
    """One direction of a link, as results name it: r1-r2:r1->r2."""
    return f"{link_name}:{end.node.name}->{end.peer.name}"


def _over(app) -> bool:
    members = getattr(app, "flows", None)
    if isinstance(members, list):                 # a traffic pattern: over when its flows are
        return all(map(_over, members))
    if type(app).__name__ == "TcpTransfer" and app.client is not None:
        return app.client.state in ("TIME-WAIT", "CLOSED")
    return bool(app.done or getattr(app, "error", None))


class Sampler:
    def __init__(self, net, flows: list[tuple[str, object]], interval_ns: int, apps=()):
        """`flows`: (id, TcpTransfer) pairs; `apps`: every application of the run (sampling ends when they
        are over). Samples from now on, every interval_ns."""
        if interval_ns <= 0:
            raise ValueError("the sampling interval must be positive")
        self.net, self.sim, self.interval_ns = net, net.sim, interval_ns
        self.flows = flows
        self.apps = list(apps) or [app for _, app in flows]
        self.ends = [(link_end_id(name, end), link, end) for name, link in net.links.items()
                     for end in link.ends.values()]
        self.time_s: list[float] = []
        self.flow_series = {fid: {"delivered_bytes": [], "throughput_bps": [], "cwnd_bytes": [], "srtt_s": []}
                            for fid, _ in flows}
        self.link_series = {eid: {"bytes": [], "utilisation": [], "queue_frames": []} for eid, _, _ in self.ends}
        self._last_delivered = {fid: 0 for fid, _ in flows}
        self._last_bytes = {eid: end.bytes for eid, _, end in self.ends}
        self._last_backlog = {eid: self._backlog(link, end, self.sim.now_ns) for eid, link, end in self.ends}
        self.sim.schedule(0, self._tick)

    def _tick(self) -> None:
        busy = self.sample()
        if self.sim.pending and (busy or not all(map(_over, self.apps))):
            self.sim.schedule(self.interval_ns, self._tick)

    def sample(self) -> bool:
        """Record one sample; returns whether any link carried or queued something in the interval."""
        busy = False
        now, seconds = self.sim.now_ns, self.interval_ns / NS
        self.time_s.append(now / NS)
        for fid, app in self.flows:
            series = self.flow_series[fid]
            receipt = app.receipt() if app.started else None
            delivered = receipt.count if receipt is not None else 0
            series["delivered_bytes"].append(delivered)
            series["throughput_bps"].append((delivered - self._last_delivered[fid]) * 8 / seconds)
            self._last_delivered[fid] = delivered
            conn = app.client
            series["cwnd_bytes"].append(conn.cc.cwnd if conn is not None else None)
            srtt = conn.srtt_ns if conn is not None else None
            series["srtt_s"].append(None if srtt is None else srtt / NS)
        for eid, link, end in self.ends:
            series = self.link_series[eid]
            # Bytes count when a frame is queued; what the transmitter sent in the interval is what was
            # queued, plus the backlog it started with, less the backlog it has now (bytes it still has to
            # send until free_at).
            backlog = self._backlog(link, end, now)
            sent = end.bytes - self._last_bytes[eid] + self._last_backlog[eid] - backlog
            self._last_bytes[eid], self._last_backlog[eid] = end.bytes, backlog
            queued = sum(1 for t in end.waiting if t > now)
            busy = busy or sent > 0 or queued > 0 or end.free_at > now
            series["bytes"].append(sent)
            series["utilisation"].append(sent * 8 / (link.bandwidth_bps * seconds) if link.bandwidth_bps else None)
            series["queue_frames"].append(queued)
        return busy

    @staticmethod
    def _backlog(link, end, now: int) -> int:
        """Bytes the transmitter has been given and not sent yet (0 on a link without a bandwidth)."""
        if not link.ns_per_byte or end.free_at <= now:
            return 0
        return round((end.free_at - now) / link.ns_per_byte)

    def result(self) -> dict:
        return {"interval_s": self.interval_ns / NS, "time_s": list(self.time_s),
                "flows": self.flow_series, "links": self.link_series}
