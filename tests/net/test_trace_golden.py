"""`--trace` output of whole commands, compared with golden files in tests/net/golden/.

A trace is meant to be read: packets with their numbers, hop by hop, and the
applications' lines at their times among them, statistics at the end. Any
change to what it shows is reviewed here. After a deliberate change:

    DATAPLANE_UPDATE_GOLDEN=1 python -m pytest tests/net/test_trace_golden.py

rewrites the .trace files; read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataplane.cli import main

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DATAPLANE_UPDATE_GOLDEN") == "1"

CASES = {
    # A ping across three routers: ARP, every hop's tables and changed fields, the reply, the ping's lines.
    "ping-line": ["ping", "line", "h1", "h2", "-c", "1", "--trace"],
    # traceroute as its host sees it: each hop line right after the ICMP error that made it.
    "traceroute-line-h1": ["traceroute", "line", "h1", "h2", "-q", "1", "--trace-filter", "h1"],
    # One packet followed across the network by its number, and its reply's number.
    "ping-line-packet": ["ping", "line", "h1", "h2", "-c", "1", "--trace-filter", "#3, #6"],
    # A TCP transfer at its client: the connection opening and closing among its segments.
    "tcp-line-h1": ["run", "line", "--no-progress", "--until", "21s", "--trace-filter", "h1, port 80"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_trace_matches_its_golden_file(name, capsys):
    main(CASES[name])
    out, err = capsys.readouterr()
    assert err == ""
    path = GOLDEN / f"{name}.trace"
    if UPDATE:
        path.write_text(out)
    assert out == path.read_text(), f"{name}: the trace changed; see the module docstring to update it"
