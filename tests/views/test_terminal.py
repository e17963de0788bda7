"""`--layers`: the terminal layer view, compared with golden files in tests/views/golden/.

The two examples a student starts with: a ping whose datagram is fragmented at the source and again by a
router, and a traceroute whose probes expire hop after hop. After a deliberate change:

    DATAPLANE_UPDATE_GOLDEN=1 python -m pytest tests/views/test_terminal.py

rewrites the .layers files; read the diff before committing it.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from dataplane import cli
from dataplane.net.apps import Ping
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.views.terminal import WIDTH, render_layers
from viewlab import record

GOLDEN = Path(__file__).parent / "golden"
UPDATE = os.environ.get("DATAPLANE_UPDATE_GOLDEN") == "1"

CASES = {
    # Fragments: h1 cuts 2028 bytes into two for its 1500-byte link, r2 cuts the first again for 1280.
    "ping-line-s2000": ["ping", "line", "h1", "h2", "-s", "2000", "-c", "1", "--layers"],
    # TTL expiry at each router, the ICMP Time Exceeded that quotes the probe, and the port unreachable at h2.
    "traceroute-line": ["traceroute", "line", "h1", "h2", "-q", "1", "--layers"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_view_matches_its_golden_file(name, capsys):
    cli.main(CASES[name])
    out, err = capsys.readouterr()
    assert err == ""
    path = GOLDEN / f"{name}.layers"
    if UPDATE:
        path.write_text(out)
    assert out == path.read_text(), f"{name}: the layer view changed; see the module docstring to update it"


@pytest.mark.parametrize("name", sorted(CASES))
def test_layer_view_fits_a_terminal(name):
    text = (GOLDEN / f"{name}.layers").read_text()
    assert max(len(line) for line in text.splitlines()) <= WIDTH


def test_the_view_shows_encapsulation_changes_and_decisions():
    text = (GOLDEN / "ping-line-s2000.layers").read_text()
    assert "│┌─ IPv4 10.0.1.1 > 10.0.2.2 ttl 63 id 1 MF ICMP" in text
    assert "│ * ttl 64 -> 63   (MyIngress, line 255)" in text
    assert "=> fragmented: 1500 bytes > MTU 1280 of eth2 (RFC 791), into 2 fragments" in text
    assert "out on eth2 to r3: fragment #5 1290 bytes:" in text
    assert "=> reassembled datagram id 1 from 3 fragments" in text
    assert "  P4 program programs/dual_stack_router.p4:" in text
    trace = (GOLDEN / "traceroute-line.layers").read_text()
    assert "=> dropped: TTL or hop limit exceeded; ICMP 11/0 sent (RFC 1812 5.3.1)" in trace
    assert "┌─ quoted IPv4 10.0.1.1 > 10.0.2.2 ttl 1 id 1 UDP" in trace


def test_a_narrower_terminal_gets_narrower_boxes():
    net = Network(load_topology("line"))
    data = record(net, lambda n: Ping(n, "h1", "h2", count=1).start(0))
    lines = render_layers(data, width=80).splitlines()
    assert max(len(line) for line in lines) <= 80
    assert any(line.startswith("  ┌─ Ethernet") and len(line) == 80 for line in lines)


def test_without_layers_no_view_is_printed(capsys):
    cli.main(["ping", "line", "h1", "h2", "-c", "1"])
    out = capsys.readouterr().out
    assert "┌─" not in out and "1 received" in out


HOSTILE = """\
name: hostile
nodes:
  "h1\\e[31m":
    kind: host
    interfaces: {eth0: {ipv4: 10.0.1.1/24}}
  "r1\\e]0;title\\a":
    kind: router
    interfaces:
      eth1: {ipv4: 10.0.1.254/24}
      eth2: {ipv4: 10.0.2.254/24}
  h2:
    kind: host
    interfaces: {eth0: {ipv4: 10.0.2.2/24}}
links:
  - {ends: ["h1\\e[31m:eth0", "r1\\e]0;title\\a:eth1"]}
  - {ends: ["r1\\e]0;title\\a:eth2", h2:eth0]}
"""


def test_names_are_escaped_for_the_terminal(tmp_path, capsys):
    path = tmp_path / "hostile.yaml"
    path.write_text(HOSTILE)
    assert cli.main(["ping", str(path), "h1\x1b[31m", "h2", "-c", "1", "--layers"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\x07" not in out
    assert "r1\\x1b]0;title\\x07 eth1 <- h1\\x1b[31m" in out


def test_run_with_layers_shows_the_traffic_section_s_frames_and_the_summary(capsys):
    assert cli.main(["run", "dual-stack", "--no-progress", "--until", "8s", "--layers"]) == 0
    out = capsys.readouterr().out
    assert "quoted IPv6" in out and "SCTP INIT chunk" in out and "TCP" in out
    assert "=> SCTP " in out and "-> ESTABLISHED" in out
    assert "frames on links:" in out                   # the run's summary still follows
