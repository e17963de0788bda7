"""Shared helpers for the P4 tutorials' exercise tests that need custom packets (calc, source_routing,
load_balance, basic_tunnel, link_monitor): an exercise's own topology.json with its solution program,
frames sent from a host as the exercise's send.py sends them, and what each host received.

    net = exercise_network("calc")                      # skips the test without the corpus
    send(net, "h1", {"p4calc": {"op": "+", "operand_a": 1, "operand_b": 2}})
    net.run()
    received(net, "h1")                                 # [craft.Received, ...]

The corpus is found as the conformance tests find it: $DATAPLANE_CORPUS, else ../shared/corpus.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from conformance.corpus import corpus_dir
from dataplane.net import craft
from dataplane.net.network import Network
from dataplane.net.topology import load_topology

S = 1_000_000_000
MS = 1_000_000


def exercise_dir(name: str) -> Path:
    d = corpus_dir() / "tutorials" / "exercises" / name
    if not (d / "solution").is_dir():
        pytest.skip(f"the P4 tutorials corpus is not here ({d})")
    return d


def exercise_network(name: str, topology: str = "topology.json", entries_dir: Path | None = None) -> Network:
    """The exercise's network running its solution program; every host prints what its stack does not take.
    With `entries_dir`, each switch's runtime JSON is first rewritten there by `exact_keys_as_numbers`."""
    d = exercise_dir(name)
    topo = load_topology(str(d / topology), program=str(d / "solution" / f"{name}.p4"))
    if entries_dir is not None:
        for node in topo.nodes.values():
            if isinstance(node.entries, str):
                node.entries = str(exact_keys_as_numbers(Path(node.entries), entries_dir))
    net = Network(topo)
    craft.listen(net)
    return net


def exact_keys_as_numbers(runtime: Path, out_dir: Path) -> Path:
    """A copy of a runtime JSON whose one-element lists for exact keys ([1]) are written as numbers (1)."""
    doc = json.loads(runtime.read_text())
    for entry in doc.get("table_entries", []):
        match = entry.get("match", {})
        for key, value in match.items():
            if isinstance(value, list) and len(value) == 1:
                match[key] = value[0]
    out = out_dir / runtime.name
    out.write_text(json.dumps(doc))
    return out


def send(net: Network, host: str, headers, payload: bytes | str = b"", at_ns: int = 0, **kw):
    """Send a frame built from the program's headers from `host` at `at_ns`; returns the Sender."""
    sender = craft.Sender(net, host, headers=headers, payload=payload, **kw)
    net.apps.append(sender)
    return sender.start(at_ns)


def received(net: Network, host: str) -> list[craft.Received]:
    return net.receivers[host].received


def header(rx: craft.Received, name: str) -> dict:
    """The fields of one decoded header of a received frame."""
    for h in rx.headers:
        if h.name == name:
            return h.values
    raise AssertionError(f"no header {name} in {[h.name for h in rx.headers]}")


def payload(rx: craft.Received) -> bytes:
    return next((h.data for h in rx.headers if h.name == "payload"), b"")
