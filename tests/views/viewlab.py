"""Recorded runs of shipped topologies for the views' tests, each made once per test session."""

from __future__ import annotations

import functools

from dataplane.net.network import Network
from dataplane.net.setpath import parse_setting
from dataplane.net.topology import load_topology
from dataplane.views.record import Recording

# Topologies whose whole traffic sections are recorded: routers (fragments, ICMP errors, TCP), a switched LAN,
# IPv6 with SCTP, a learning switch, a plain v1model program.
RECORDED = ("line", "lan", "dual-stack", "single-switch", "basic-v1model")


@functools.lru_cache(maxsize=None)
def recorded(name: str, *settings: str, until_ns: int | None = None):
    """(network, recording data) of a topology's traffic section run to its end (or until_ns)."""
    topo = load_topology(name, settings=[parse_setting(s) for s in settings])
    net = Network(topo)
    recording = Recording(net)
    net.schedule_traffic()
    net.run(until_ns)
    return net, recording.data()


def record(net, start) -> dict:
    """Record a network while `start(net)` schedules its applications, run it to the end."""
    recording = Recording(net)
    start(net)
    net.run()
    return recording.data()
