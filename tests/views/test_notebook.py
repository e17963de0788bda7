"""Rich display in Jupyter (dataplane/views/notebook.py): topologies, networks, summaries and results have
`_repr_html_`, whose HTML is well formed, escapes what came from the topology and shows the figures."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

from dataplane.net.apps import Ping
from dataplane.net.network import Network
from dataplane.net.results import result
from dataplane.net.topology import load_topology, load_topology_text

LINE = Path(__file__).resolve().parents[2] / "topologies" / "line.yaml"
VOID = {"br", "img", "hr", "meta", "input", "link"}


class Balanced(HTMLParser):
    """Checks that every element is closed in order (SVG's self-closing elements included)."""

    def __init__(self):
        super().__init__()
        self.stack, self.texts = [], []

    def handle_starttag(self, tag, attrs):
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        pass

    def handle_endtag(self, tag):
        assert self.stack and self.stack[-1] == tag, (tag, self.stack[-5:])
        self.stack.pop()

    def handle_data(self, data):
        self.texts.append(data)


def parse(html: str) -> str:
    p = Balanced()
    p.feed(html)
    p.close()
    assert p.stack == []
    return "".join(p.texts)


def test_a_topology_shows_its_picture_nodes_and_links():
    topo = load_topology(str(LINE))
    html = topo._repr_html_()
    text = parse(html)
    assert "<svg" in html and 'data-node="r2"' in html
    assert "10.0.23.1/30" in text                       # r2's interface in the nodes table
    assert "MTU 1280, 1 ms, 100 Mbit/s" in text         # the r2-r3 link


def test_a_network_shows_its_books_once_it_has_run():
    net = Network(load_topology(str(LINE)))
    assert "sent on links" not in net._repr_html_()
    ping = Ping(net, "h1", "h2", count=2).start()
    net.run()
    text = parse(net._repr_html_())
    s = net.summary()
    assert "sent on links" in text and f"{s.transmitted:,}" in text
    assert parse(s._repr_html_()) in text
    r = result(ping)
    rtext = parse(r._repr_html_())
    assert "PingResult" in rtext and "received" in rtext and str(r.received) in rtext


def test_drops_and_notes_are_listed():
    topo = load_topology_text("""
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links:
  - {ends: [h1:eth0, h2:eth0], loss: 0.999}
traffic:
  - {ping: {from: h1, to: h2, count: 3}}
""", "lossy.yaml")
    net = Network(topo)
    net.schedule_traffic()
    net.run()
    text = parse(net.summary()._repr_html_())
    assert "link loss" in text


def test_text_from_the_topology_is_escaped():
    topo = load_topology_text("""
name: "<script>alert(1)</script>"
nodes:
  "h<1>": {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links:
  - ["h<1>:eth0", h2:eth0]
""", "odd.yaml")
    html = topo._repr_html_()
    assert "<script>" not in html and "h<1>" not in html
    assert "&lt;script&gt;" in html
    assert "h<1>" in parse(html)                        # shown as written, once unescaped


def test_a_packet_from_a_capture_shows_its_layers_nested_and_its_bytes(tmp_path):
    from dataplane.pcap import read_pcap
    net = Network(load_topology(str(LINE)), pcap_dir=str(tmp_path))
    Ping(net, "h1", "h2", count=1, size=2000).start()
    net.run()
    packets = read_pcap(str(tmp_path / "h1-r1.pcapng"))
    first_fragment = next(p for p in packets if len(p.data) == 1514)
    html = first_fragment._repr_html_()
    text = parse(html)
    assert "1514 bytes" in text and "h1:eth0" in text
    # Ethernet holds IPv4 holds ICMP: the boxes are nested in that order.
    eth, ip, icmp = html.index("Ethernet"), html.index("IPv4"), html.index("ICMP echo request")
    assert eth < ip < icmp and html[eth:icmp].count('<div class="layer">') == 2
    assert "ttl=64" in text and "0000  " in text                   # a field, and the hex dump's first row


def test_a_hop_record_shows_the_frame_in_and_the_frames_out():
    net = Network(load_topology(str(LINE)), trace=True)
    Ping(net, "h1", "h2", count=1).start()
    net.run()
    hop = next(h for h in net.devices["r2"].hops if len(h.frame) > 90)
    text = parse(hop._repr_html_())
    assert f"r2 port {hop.port} in" in text and "fate: forwarded" in text
    assert "ttl=63" in text and "ttl=62" in text                     # in, and out after the decrement
