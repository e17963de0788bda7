"""Application messages for well-known ports: exact sizes, and scapy reads them as HTTP and DNS."""

from __future__ import annotations

import pytest
from toplab import TOPOLOGY_DIR, run_topology

from dataplane.diagnostics import DiagnosticError
from dataplane.net import appdata
from dataplane.net.appdata import (
    DnsOverTcp,
    DnsQueries,
    TooSmall,
    Zone,
    dns_answer,
    dns_query,
    fqdn,
    http_upload,
)
from dataplane.net.apps import UdpFlow
from dataplane.net.topology import load_topology
from dataplane.net.transfers import Payload, SctpTransfer, TcpTransfer, pattern

scapy_all = pytest.importorskip("scapy.all")
from scapy.layers.dns import DNS, DNSRROPT
from scapy.layers.http import HTTPRequest

V6 = 0x20010DB8_0002_0000_0000_0000_0000_0002
ZONE = Zone((("h1", 0x0A000101, None), ("srv_1", 0x0A000202, V6)), "srv_1")


def whole(message) -> bytes:
    return message.chunk(0, len(message))


# ---------------------------------------------------------------------------- names

def test_host_names_are_valid_names_under_the_example_domain():
    assert fqdn("h2") == "h2.example."
    assert fqdn("h0_0_0") == "h0-0-0.example."             # fat-tree hosts: RFC 1123 has no underscore
    assert fqdn("Srv") == "srv.example."
    assert ZONE.names(False) == [("h1.example.", 0x0A000101), ("srv-1.example.", 0x0A000202)]
    assert ZONE.names(True) == [("srv-1.example.", V6)]
    assert ZONE.address("SRV-1.example.", False) == 0x0A000202


# ---------------------------------------------------------------------------- HTTP

def smallest_upload() -> int:
    with pytest.raises(TooSmall) as exc:
        http_upload(0, Payload(0), ZONE)
    return exc.value.smallest


@pytest.mark.parametrize("extra", [0, 1, 8, 9, 10, 11, 98, 99, 100, 101, 102, 997, 998, 999, 1000, 1001, 50_000,
                                   999_999, 1_000_000, 1_000_001])
def test_an_upload_is_a_post_of_exactly_the_size_asked_for(extra):
    size = smallest_upload() + extra
    data = whole(http_upload(size, Payload(size), ZONE))
    assert len(data) == size
    head, _, body = data.partition(b"\r\n\r\n")
    request = HTTPRequest(data)
    assert (request.Method, request.Path, request.Http_Version) == (b"POST", b"/upload", b"HTTP/1.1")
    assert request.Host == b"srv-1.example"
    assert request.Content_Type == b"application/octet-stream"
    assert int(request.Content_Length) == len(body) == size - len(head) - 4
    assert body == pattern(len(body))                     # the transfer's test pattern, from its first byte


def test_where_no_length_fits_the_head_takes_one_more_space():
    """With the digits of Content-Length changing the head's size, one size in each decade has no plain
    head; RFC 9110 5.5 allows optional whitespace before the value."""
    smallest = smallest_upload()
    heads = [whole(http_upload(n, Payload(n), ZONE)).partition(b"\r\n\r\n")[0]
             for n in range(smallest, smallest + 2000)]
    spaced = [int(h.rpartition(b":")[2]) for h in heads if b"Content-Length:  " in h]
    assert spaced == [9, 99, 999]           # the largest body of each number of digits, once


def test_an_upload_too_small_for_its_head_is_refused():
    smallest = smallest_upload()
    assert smallest == len(b"POST /upload HTTP/1.1\r\nHost: srv-1.example\r\nContent-Type: application/octet-stream\r\n"
                           b"Content-Length: 0\r\n\r\n")
    with pytest.raises(TooSmall, match=f"an HTTP request takes at least {smallest} bytes"):
        http_upload(smallest - 1, Payload(smallest), ZONE)
    assert len(whole(http_upload(smallest, Payload(0), ZONE))) == smallest


def test_any_part_of_an_upload_is_the_same_part_of_the_whole():
    size = 5000
    message = http_upload(size, Payload(size), ZONE)
    data = whole(message)
    for offset in (0, 1, 50, len(message.head) - 1, len(message.head), len(message.head) + 1, 4000, 4999, 5000):
        for n in (0, 1, 7, 200, 10_000):
            assert message.chunk(offset, n) == data[offset:offset + n]


# ---------------------------------------------------------------------------- DNS

@pytest.mark.parametrize("v6", [False, True])
@pytest.mark.parametrize("size", [43, 44, 100, 512, 1232, 9000])
def test_a_query_is_padded_to_exactly_its_size(size, v6):
    data = dns_query(0x1234, "h1.example.", v6, size)
    assert len(data) == size
    q = DNS(data)
    assert (q.id, q.qr, q.rd, q.qdcount, q.ancount, q.arcount) == (0x1234, 0, 1, 1, 0, 1)
    assert (q.qd[0].qname, q.qd[0].qtype, q.qd[0].qclass) == (b"h1.example.", 28 if v6 else 1, 1)
    opt = q.ar[0]
    assert isinstance(opt, DNSRROPT) and opt.rclass == 1232
    assert [(o.optcode, o.optlen) for o in opt.rdata] == [(12, size - 43)]         # RFC 7830 Padding


def test_a_query_too_small_for_its_name_is_refused():
    with pytest.raises(TooSmall, match="a DNS query for h1.example. takes at least 43 bytes"):
        dns_query(1, "h1.example.", False, 42)


def test_the_answer_is_the_hosts_own_address():
    answer = DNS(dns_answer(dns_query(9, "srv-1.example.", False, 80), ZONE))
    assert (answer.id, answer.qr, answer.aa, answer.rd, answer.rcode, answer.ancount) == (9, 1, 1, 1, 0, 1)
    an = answer.an[0]
    assert (an.rrname, an.type, an.rdata, an.ttl) == \
        (b"srv-1.example.", 1, "10.0.2.2", 3600)
    aaaa = DNS(dns_answer(dns_query(10, "srv-1.example.", True, 80), ZONE))
    assert aaaa.an[0].rdata == "2001:db8:2::2"


def test_a_name_without_an_address_gets_nxdomain_and_a_response_gets_nothing():
    nx = DNS(dns_answer(dns_query(3, "h1.example.", True, 80), ZONE))      # h1 has no IPv6 address
    assert (nx.rcode, nx.ancount, nx.qd[0].qname) == (3, 0, b"h1.example.")
    response = dns_answer(dns_query(3, "h1.example.", False, 80), ZONE)
    assert dns_answer(response, ZONE) is None
    assert dns_answer(b"\x00\x07\x0e", ZONE) is None and dns_answer(pattern(100), ZONE) is None


def test_a_flows_queries_ask_for_every_host_in_turn_and_are_known_by_their_id():
    queries = DnsQueries(ZONE, False, 100)
    asked = [DNS(queries.datagram(seq)).qd[0].qname for seq in range(1, 5)]
    assert asked == [b"h1.example.", b"srv-1.example."] * 2
    assert {len(queries.datagram(seq)) for seq in range(1, 5)} == {100}
    # DNS ids have 16 bits: an arrival is the latest query sent with its id.
    assert queries.sequence(queries.datagram(3), sent=5) == 3
    assert queries.sequence(queries.datagram(70_000), sent=70_001) == 70_000
    assert queries.sequence(queries.datagram(4), sent=70_001) == 4 + 65_536
    with pytest.raises(TooSmall, match="longest host name takes at least 46 bytes"):
        DnsQueries(ZONE, False, 45)


@pytest.mark.parametrize("size", [48, 49, 513, 514, 515, 561, 562, 1028, 1029, 1075, 1076, 100_000])
def test_dns_over_tcp_is_length_framed_queries_of_exactly_the_size(size):
    stream = DnsOverTcp(size, ZONE, False)
    data = whole(stream)
    assert len(data) == size
    frames, i = [], 0
    while i < len(data):
        n = int.from_bytes(data[i:i + 2], "big")
        frames.append(DNS(data[i + 2:i + 2 + n]))
        i += 2 + n
    assert i == size
    assert all(f.qr == 0 and f.qd[0].qtype == 1 for f in frames)
    assert [f.id for f in frames] == list(range(1, len(frames) + 1))
    for offset in (0, 1, 513, 514, size - 1):
        assert stream.chunk(offset, 700) == data[offset:offset + 700]
    with pytest.raises(TooSmall):
        DnsOverTcp(47, ZONE, False)


def test_the_tables_say_which_ports_carry_what():
    assert set(appdata.TCP) == {53, 80, 8080} and set(appdata.UDP) == {53} and set(appdata.SCTP) == {80}
    assert appdata.stream(5001, 100, Payload(100), ZONE) is None
    assert appdata.stream(80, 0, Payload(0), ZONE) is None                   # nothing to send: no request
    assert appdata.datagrams(9000, ZONE, False, 100) is None
    assert appdata.message(5002, 100, Payload(100), ZONE) is None
    assert HTTPRequest(appdata.message(80, 300, Payload(300), ZONE)).Method == b"POST"


# ---------------------------------------------------------------------------- in a run

def test_a_transfer_to_port_80_uploads_its_bytes_in_one_post(tmp_path):
    run = run_lan(tmp_path, """
  - {at: 0s, tcp: {from: h1, to: srv, port: 80, bytes: 20000}}
  - {at: 0s, tcp: {from: h2, to: srv, port: 5001, bytes: 20000}}
  - {at: 0s, sctp: {from: h3, to: srv, port: 80, messages: 2, size: 300}}
  - {at: 0s, udp: {from: h1, to: srv, port: 53, count: 5, size: 120}}""")
    http, plain = run.apps_of(TcpTransfer)
    assert http.intact and plain.intact
    assert http.receipt().count == plain.receipt().count == 20000
    assert HTTPRequest(http.delivered).Host == b"srv.example"
    assert int(HTTPRequest(http.delivered).Content_Length) == 20000 - http.delivered.index(b"\r\n\r\n") - 4
    assert plain.delivered == pattern(20000)
    sctp = run.app(SctpTransfer)
    assert sctp.intact and all(HTTPRequest(m).Method == b"POST" and len(m) == 300 for m in sctp.delivered)
    udp = run.app(UdpFlow)
    assert (udp.sent, len(udp.received), udp.answered) == (5, 5, 5)
    assert "5 datagrams of 120 bytes sent, 5 received, 0 lost, 5 answered" in udp.render()
    # Every datagram is accounted for: the answers were taken by the client, none refused.
    assert not run.drops("no_listener")


def run_lan(tmp_path, traffic: str):
    path = tmp_path / "lan.yaml"
    text = (TOPOLOGY_DIR / "lan.yaml").read_text()
    path.write_text(text[:text.index("traffic:")] + "traffic:" + traffic + "\n")
    return run_topology(load_topology(str(path)))


def test_a_size_too_small_for_the_ports_messages_is_a_located_error(tmp_path):
    with pytest.raises(DiagnosticError) as exc:
        run_lan(tmp_path, "\n  - {at: 0s, tcp: {from: h1, to: srv, port: 80, bytes: 20}}")
    text = str(exc.value)
    assert "lan.yaml:" in text and "port 80 carries an HTTP request, which takes at least 103 bytes" in text
    assert "^" in text


def test_a_pattern_whose_sizes_are_too_small_for_its_port_is_a_located_error(tmp_path):
    with pytest.raises(DiagnosticError) as exc:
        run_lan(tmp_path, "\n  - {at: 0s, pattern: {kind: permutation, hosts: [h1, h2], port: 80, size: {fixed: 50}}}")
    text = str(exc.value)
    assert "port 80 carries an HTTP request, which takes at least" in text and "lan.yaml:" in text


def test_udp_flows_of_a_pattern_to_port_53_are_answered(tmp_path):
    run = run_lan(tmp_path, "\n  - {at: 0s, pattern: {kind: all_to_all, hosts: [h1, h2, srv], flow: udp, port: 53, "
                            "size: {fixed: 3000}}}")
    flows = run.apps[0].flows
    assert len(flows) == 6 and all(f.messages is not None for f in flows)
    assert all(f.answered == f.sent == len(f.received) == 3 for f in flows)      # 3 queries of 1472 bytes each
    assert not run.drops("no_listener")
