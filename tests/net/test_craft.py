"""Frames built from a P4 program's own header types, and decoded with them (dataplane/net/craft.py)."""

from __future__ import annotations

import pytest

from dataplane.build import build
from dataplane.diagnostics import DiagnosticError
from dataplane.net import craft
from dataplane.net.craft import CraftError, HostDefaults, build_frame, decode_frame, format_field, frame_from_hex
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.protocols import packets as P
from dataplane.protocols.checksums import internet_checksum, verify_transport

# Field names unlike the header library's (kind, hl, len, proto, csum; the IPv4 flags as three bits): the
# well-known headers are recognised by their layout. The switch sends every frame back where it came from.
PROGRAM = r"""
#include <core.p4>
#include <v1model.p4>

header eth_t   { bit<48> dst; bit<48> src; bit<16> kind; }
header tag_t   { bit<1> last; bit<7> hop; }
header ip_t    { bit<4> v; bit<4> hl; bit<6> dscp; bit<2> ecn; bit<16> len; bit<16> id; bit<1> rsvd; bit<1> df;
                 bit<1> mf; bit<13> frag; bit<8> ttl; bit<8> proto; bit<16> csum; bit<32> srcAddr;
                 bit<32> dstAddr; }
header ip6_t   { bit<4> version; bit<8> tc; bit<20> fl; bit<16> plen; bit<8> nh; bit<8> hops; bit<128> srcAddr;
                 bit<128> dstAddr; }
header udp_t   { bit<16> sport; bit<16> dport; bit<16> len; bit<16> csum; }
header tcp_t   { bit<16> sport; bit<16> dport; bit<32> seq; bit<32> ack; bit<4> off; bit<4> rsvd; bit<8> flags;
                 bit<16> window; bit<16> csum; bit<16> urgent; }
header magic_t { bit<8> m; bit<8> op; bit<32> value; bit<1> on; bit<7> pad; }

struct headers { eth_t eth; tag_t[4] tags; ip_t ip; ip6_t ip6; udp_t udp; tcp_t tcp; magic_t magic; }
struct meta_t { }

parser P(packet_in pk, out headers hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start {
        pk.extract(hdr.eth);
        transition select(hdr.eth.kind) {
            0x88b5: parse_tag;
            0x0800: parse_ip;
            0x86dd: parse_ip6;
            0x1200 &&& 0xff00: check_magic;
            default: accept;
        }
    }
    state parse_tag {
        pk.extract(hdr.tags.next);
        transition select(hdr.tags.last.last) { 1: parse_ip; default: parse_tag; }
    }
    state parse_ip {
        pk.extract(hdr.ip);
        transition select(hdr.ip.proto) { 17: parse_udp; 6: parse_tcp; default: accept; }
    }
    state parse_ip6 { pk.extract(hdr.ip6); transition select(hdr.ip6.nh) { 17: parse_udp; default: accept; } }
    state parse_udp { pk.extract(hdr.udp); transition accept; }
    state parse_tcp { pk.extract(hdr.tcp); transition accept; }
    state check_magic { transition select(pk.lookahead<magic_t>().m) { 0x4d: parse_magic; default: accept; } }
    state parse_magic { pk.extract(hdr.magic); transition accept; }
}
control V(inout headers h, inout meta_t m) { apply { } }
control I(inout headers h, inout meta_t m, inout standard_metadata_t sm) {
    apply { sm.egress_spec = sm.ingress_port; }
}
control E(inout headers h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control C(inout headers h, inout meta_t m) { apply { } }
control D(packet_out pk, in headers h) {
    apply { pk.emit(h.eth); pk.emit(h.tags); pk.emit(h.ip); pk.emit(h.ip6); pk.emit(h.udp); pk.emit(h.tcp);
            pk.emit(h.magic); }
}
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""

MAC = 0x080000000101
HOST = HostDefaults(mac=MAC, ipv4=P.ip4("10.0.1.1"), ipv6=P.ip6("2001:db8::1"))


@pytest.fixture(scope="module")
def program_path(tmp_path_factory):
    path = tmp_path_factory.mktemp("craft") / "reflect.p4"
    path.write_text(PROGRAM)
    return path


@pytest.fixture(scope="module")
def program(program_path):
    return build(str(program_path))


def fields(program, frame: bytes) -> dict:
    return {h.name: h.values for h in decode_frame(program, frame) if h.layout is not None}


# ---------------------------------------------------------------------------- building


def test_unnamed_fields_get_the_select_values_and_the_host_s_defaults(program):
    frame = build_frame(program, {"ip": {"dstAddr": "10.0.2.2"}, "udp": {"sport": 1234, "dport": 4321}},
                        b"hello", HOST)
    got = fields(program, frame)
    assert got["eth"] == {"dst": P.BROADCAST_MAC, "src": MAC, "kind": 0x0800}
    ip = got["ip"]
    assert (ip["v"], ip["hl"], ip["len"], ip["ttl"], ip["proto"]) == (4, 5, 20 + 8 + 5, 64, 17)
    assert (ip["srcAddr"], ip["dstAddr"]) == (P.ip4("10.0.1.1"), P.ip4("10.0.2.2"))
    assert internet_checksum(frame[14:34]) == 0
    assert got["udp"]["len"] == 13
    assert verify_transport(ip["srcAddr"], ip["dstAddr"], 17, frame[34:], False) is None
    assert frame.endswith(b"hello")


def test_tcp_and_ipv6_lengths_and_checksums(program):
    frame = build_frame(program, {"ip": {"dstAddr": "10.0.2.2"}, "tcp": {"dport": 80}}, b"data", HOST)
    got = fields(program, frame)
    assert got["ip"]["proto"] == 6 and got["tcp"]["off"] == 5
    assert verify_transport(P.ip4("10.0.1.1"), P.ip4("10.0.2.2"), 6, frame[34:], False) is None
    frame = build_frame(program, {"ip6": {"dstAddr": "2001:db8::2"}, "udp": {"dport": 53}}, b"q", HOST)
    got = fields(program, frame)
    assert got["eth"]["kind"] == 0x86DD
    assert (got["ip6"]["version"], got["ip6"]["plen"], got["ip6"]["nh"], got["ip6"]["hops"]) == (6, 9, 17, 64)
    assert got["ip6"]["srcAddr"] == P.ip6("2001:db8::1")
    assert verify_transport(P.ip6("2001:db8::1"), P.ip6("2001:db8::2"), 17, frame[54:], True) is None


def test_a_stack_gets_its_bottom_of_stack_bit_from_the_parser(program):
    frame = build_frame(program, {"tags": [{"hop": 1}, {"hop": 2}, {"hop": 3}], "ip": {}}, b"", HOST)
    got = fields(program, frame)
    assert got["eth"]["kind"] == 0x88B5
    assert [got[f"tags[{i}]"] for i in range(3)] == [{"last": 0, "hop": 1}, {"last": 0, "hop": 2},
                                                      {"last": 1, "hop": 3}]
    assert "ip" in got


def test_masked_cases_and_lookahead_fields_are_filled_in(program):
    frame = build_frame(program, {"magic": {"op": "+", "value": 7}}, b"", HOST)
    got = fields(program, frame)
    assert got["eth"]["kind"] == 0x1200                 # 0x1200 &&& 0xff00
    assert got["magic"] == {"m": 0x4D, "op": ord("+"), "value": 7, "on": 0, "pad": 0}


def test_headers_go_in_the_deparser_s_order_whatever_order_they_are_given_in(program):
    a = build_frame(program, {"udp": {"dport": 7}, "ip": {}, "eth": {}}, b"", HOST)
    b = build_frame(program, [{"eth": {}}, {"ip": {}}, {"udp": {"dport": 7}}], b"", HOST)
    assert a == b and [h.name for h in decode_frame(program, a)] == ["eth", "ip", "udp"]


def test_given_values_win_over_every_default(program):
    frame = build_frame(program, {"eth": {"dst": "02:00:00:00:00:09", "kind": 0x9999},
                                  "ip": {"ttl": 3, "csum": 0x1234, "len": 99, "srcAddr": "1.2.3.4"}}, b"", HOST)
    eth = int.from_bytes(frame[:14], "big")
    assert eth >> 64 == 0x020000000009 and eth & 0xFFFF == 0x9999
    ip = P._IPV4.unpack(frame, 14)
    assert (ip["ttl"], ip["hdrChecksum"], ip["totalLen"], ip["srcAddr"]) == (3, 0x1234, 99, P.ip4("1.2.3.4"))


def test_value_forms(program):
    frame = build_frame(program, {"magic": {"m": "0x4d", "op": "-", "value": "0b101", "on": True}}, b"", HOST)
    assert fields(program, frame)["magic"] == {"m": 0x4D, "op": ord("-"), "value": 5, "on": 1, "pad": 0}


@pytest.mark.parametrize("headers, message, path", [
    ({"ipv4": {}}, "reflect.p4 has no header 'ipv4' (did you mean 'ip'?)", ("headers", "ipv4")),
    ({"ip": {"ttll": 1}}, "header 'ip' (ip_t) has no field 'ttll' (did you mean 'ttl'?)", ("headers", "ip", "ttll")),
    ({"ip": {"ttl": 256}}, "ip.ttl = 256 does not fit in 8 bits", ("headers", "ip", "ttl")),
    ({"ip": {"ttl": -1}}, "ip.ttl = -1 is negative", ("headers", "ip", "ttl")),
    ({"ip": {"dstAddr": "08:00:00:00:01:01"}},
     "ip.dstAddr is a 32-bit field: a MAC address (08:00:00:00:01:01) needs 48 bits", ("headers", "ip", "dstAddr")),
    ({"ip": {"dstAddr": "10.0.0.300"}}, "ip.dstAddr: '10.0.0.300' is not an IPv4 address",
     ("headers", "ip", "dstAddr")),
    ({"ip": {"ttl": "++"}}, "ip.ttl: '++' is not a number, an address or one character", ("headers", "ip", "ttl")),
    ({"ip": {"len": "+"}}, "ip.len is a 16-bit field: a character such as '+' is for 8-bit fields",
     ("headers", "ip", "len")),
    ({"ip": {"ttl": True}}, "ip.ttl is a 8-bit field: give a number, not true", ("headers", "ip", "ttl")),
    ({"ip": {"ttl": 1.5}}, "ip.ttl must be a number or a string", ("headers", "ip", "ttl")),
    ({"tags": [{}] * 5}, "'tags' is a stack of 4 headers; 5 are given", ("headers", "tags")),
    ({"ip": [{}]}, "'ip' is one header, not a stack: give its fields as a mapping", ("headers", "ip")),
    ({"ip": 3}, "the fields of 'ip' are a mapping such as {name: value}", ("headers", "ip")),
    ([{"ip": {}}, {"ip": {}}], "header 'ip' is given twice", ("headers", 1, "ip")),
    ([{"ip": {}, "udp": {}}], "each header in a list is written {name: {field: value, ...}}", ("headers", 0)),
    ("ip", "headers is a mapping from header names to their fields", ("headers",)),
])
def test_errors_are_one_line_and_name_the_key(program, headers, message, path):
    with pytest.raises(CraftError) as info:
        build_frame(program, headers, b"", HOST)
    assert (str(info.value), info.value.path) == (message, path)


def test_frames_in_hex():
    assert frame_from_hex("ff ff ff ff ff ff:08 00 00 00 01 01 12 34 00") == \
        bytes.fromhex("ffffffffffff0800000001011234" "00")
    assert frame_from_hex("0xffffffffffff0800000001011234") == bytes.fromhex("ffffffffffff0800000001011234")
    pairs = "hex must be pairs of hex digits (spaces and colons between them are allowed)"
    for bad, message in (("fff", pairs), ("zz", pairs), (3, "hex is a string of hex digits"),
                         ("0x0102", "a 2-byte frame is shorter than an Ethernet header (14 bytes)")):
        with pytest.raises(CraftError) as info:
            frame_from_hex(bad)
        assert str(info.value) == message


# ---------------------------------------------------------------------------- decoding


def test_decoding_runs_the_program_s_parser_and_renders_values_as_their_fields_suggest(program):
    frame = build_frame(program, {"ip": {"dstAddr": "10.0.2.2"}, "udp": {"sport": 1, "dport": 2}}, b"hi\x00", HOST)
    text = [h.render() for h in decode_frame(program, frame)]
    assert text[0] == "eth(dst=ff:ff:ff:ff:ff:ff, src=08:00:00:00:01:01, kind=0x0800)"
    assert text[1].startswith("ip(v=4, hl=5, dscp=0x00, ecn=0x0, len=31, id=0, rsvd=0, df=0, mf=0, frag=0, ttl=64, "
                              "proto=17, csum=0x")
    assert text[1].endswith(", srcAddr=10.0.1.1, dstAddr=10.0.2.2)")
    assert text[2].startswith("udp(sport=1, dport=2, len=11, csum=0x")
    assert text[3] == 'payload(3 bytes: "hi\\x00")'


def test_a_frame_the_parser_stops_early_on_is_the_rest_payload(program):
    frame = bytes.fromhex("ffffffffffff0800000001019999") + b"abc"
    assert [h.render() for h in decode_frame(program, frame)] == [
        "eth(dst=ff:ff:ff:ff:ff:ff, src=08:00:00:00:01:01, kind=0x9999)", 'payload(3 bytes: "abc")']


@pytest.mark.parametrize("name, value, width, shown", [
    ("dstAddr", 0x080000000101, 48, "08:00:00:00:01:01"), ("srcAddr", P.ip4("10.0.0.1"), 32, "10.0.0.1"),
    ("dstAddr", P.ip6("2001:db8::1"), 128, "2001:db8::1"), ("etherType", 0x800, 16, "0x0800"),
    ("totalLen", 84, 16, "84"), ("ttl", 64, 8, "64"), ("op", ord("+"), 8, "'+'"), ("op", ord("'"), 8, "\"'\""),
    ("p", 0x50, 8, "0x50"), ("operand_a", 7, 32, "7"), ("bos", 1, 1, "1"), ("hdrChecksum", 0xbeef, 16, "0xbeef"),
    ("dst_id", 2, 16, "2"), ("swid", 3, 7, "3"), ("flags", 2, 3, "0x2"), ("p", 0x2b, 8, "'+'"),
])
def test_field_formats(name, value, width, shown):
    assert format_field(name, value, width) == shown


# ---------------------------------------------------------------------------- in a network


def topology(tmp_path, program_path, traffic: str) -> str:
    path = tmp_path / "topo.yaml"
    path.write_text(f"""name: reflect
nodes:
  h1:
    kind: host
    interfaces:
      eth0: {{mac: "08:00:00:00:01:01", ipv4: 10.0.1.1/24}}
  s1:
    kind: p4
    program: {program_path}
    entries: {{}}
    interfaces:
      p1: {{port: 1}}
links:
  - [h1:eth0, s1:p1]
traffic:
{traffic}""")
    return str(path)


def run(path: str) -> Network:
    net = Network(load_topology(path))
    net.schedule_traffic()
    net.run()
    return net


def test_a_send_item_sends_and_the_host_prints_what_comes_back(tmp_path, program_path):
    net = run(topology(tmp_path, program_path, """
  - send: {from: h1, headers: {magic: {op: "+", value: 3}}, payload: "x", count: 2, interval: 1ms}
  - {at: 5ms, ping: {from: h1, to: 10.0.1.2, count: 1}}
"""))
    sender = net.apps[0]
    assert sender.sent == 2
    assert sender.report().splitlines() == [
        "send on h1 port 1 (reflect.p4's headers): 2 frames of 22 bytes sent, one every 1 ms",
        "  eth(dst=ff:ff:ff:ff:ff:ff, src=08:00:00:00:01:01, kind=0x1200)",
        "  magic(m=0x4d, op='+', value=3, on=0, pad=0x00)",
        '  payload(1 byte: "x")']
    got = net.receivers["h1"].received
    assert [r.frame for r in got] == [sender.frame, sender.frame]
    assert got[0].render("h1") == ("h1 received from port 1 at 0.201 ms: eth(dst=ff:ff:ff:ff:ff:ff, "
                                   "src=08:00:00:00:01:01, kind=0x1200) magic(m=0x4d, op='+', value=3, on=0, "
                                   "pad=0x00) payload(1 byte: \"x\")")
    # The ping's ARP requests came back too (broadcast, to itself): the stack takes those, so they are
    # not printed; the reflected frames are delivered to the packet socket, nothing is lost.
    summary = net.summary()
    assert summary.fates["delivered"] >= 2 and not summary.problems


def test_the_run_command_prints_the_send_block_and_what_hosts_received(tmp_path, program_path, capsys):
    from dataplane.cli import main
    path = topology(tmp_path, program_path, '  - send: {from: h1, hex: "ffffffffffff0800000001011234abcd"}\n')
    assert main(["run", path, "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "### traffic 1: at 0 s: send from h1: a frame given in hex\n" \
           "send on h1 port 1 (reflect.p4's headers): 1 frame of 16 bytes sent\n" \
           "  eth(dst=ff:ff:ff:ff:ff:ff, src=08:00:00:00:01:01, kind=0x1234)\n" in out
    assert "### h1 received (frames its stack did not take)\n" \
           "h1 received from port 1 at 0.201 ms: eth(dst=ff:ff:ff:ff:ff:ff, src=08:00:00:00:01:01, kind=0x1234) " \
           'payload(2 bytes: "\\xab\\xcd")\n' in out


@pytest.mark.parametrize("item, message, at", [
    ('{from: h1, headers: {ipp: {}}}', "reflect.p4 has no header 'ipp' (did you mean 'ip'?)", "ipp"),
    ('{from: h1, headers: {ip: {ttl: 300}}}', "ip.ttl = 300 does not fit in 8 bits", "300"),
    ('{from: h1, hex: "ff", headers: {}}', "'headers' and 'hex' exclude each other: hex is the whole frame",
     "headers"),
    ('{from: h1, hex: "ff"}', "a 1-byte frame is shorter than an Ethernet header (14 bytes)", '"ff"'),
    ('{from: s1}', "'s1' is not a host", "s1"),
    ('{from: h1, port: 2}', "host 'h1' has no port 2 (its ports: 1)", "2"),
    ('{from: h1, program: nowhere.p4}', "cannot find program 'nowhere.p4'", "nowhere"),
    ('{from: h1, payload: 3}', "payload must be a string or bytes", "3"),
    ('{from: h1, headerz: {}}', "unknown key 'headerz' in send", "headerz"),
])
def test_bad_send_items_are_located(tmp_path, program_path, item, message, at):
    path = topology(tmp_path, program_path, f"  - send: {item}\n")
    with pytest.raises(DiagnosticError) as info:
        run(path)
    first = str(info.value).splitlines()[0]
    assert first == f"{path}:16:{len('  - send: ') + item.index(at) + 1}: error: {message}"


def test_resolve_uses_the_program_the_host_s_link_leads_to(tmp_path, program_path, program):
    net = Network(load_topology(topology(tmp_path, program_path, "  []\n".replace("  []", "  - {pingall: {}}"))))
    found, defaults, port = craft.resolve(net, "h1")
    assert found.checked.path == program.checked.path
    assert (defaults, port) == (HostDefaults(MAC, P.ip4("10.0.1.1"), None), 1)
    with pytest.raises(CraftError, match="'s1' is a device of reflect, not a host"):
        craft.resolve(net, "s1")


def test_a_traffic_file_s_send_items_run_and_their_errors_point_into_it(tmp_path, program_path, capsys):
    from dataplane.cli import main
    path = topology(tmp_path, program_path, "  - {pingall: {}}\n")
    traffic = tmp_path / "send.yaml"
    traffic.write_text('- send: {from: h1, headers: {magic: {value: 1}}}\n')
    assert main(["run", path, "--traffic", str(traffic), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "### traffic 1: at 0 s: send from h1: magic\n" in out and "pingall" not in out
    assert "h1 received from port 1 at 0.201 ms: eth(" in out
    traffic.write_text('- send: {from: h1, headers: {magic: {valu: 1}}}\n')
    assert main(["run", path, "--traffic", str(traffic), "--no-progress"]) == 1
    err = capsys.readouterr().err
    assert f"{traffic}:1:38: error: header 'magic' (magic_t) has no field 'valu' (did you mean 'value'?)" in err


LOOPING = r"""
#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> kind; }
header x_t { bit<8> a; }
struct headers { eth_t eth; x_t x; }
struct meta_t { bit<8> n; }
parser P(packet_in pk, out headers hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pk.extract(hdr.eth); transition spin; }
    state spin { transition select(m.n) { 0: round; 1: parse_x; default: accept; } }
    state round { transition spin; }
    state parse_x { pk.extract(hdr.x); transition accept; }
}
control V(inout headers h, inout meta_t m) { apply { } }
control I(inout headers h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control E(inout headers h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control C(inout headers h, inout meta_t m) { apply { } }
control D(packet_out pk, in headers h) { apply { pk.emit(h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_a_parser_that_loops_without_extracting_is_searched_without_end(tmp_path):
    path = tmp_path / "loop.p4"
    path.write_text(LOOPING)
    program = build(str(path))
    frame = build_frame(program, {"x": {"a": 7}}, b"", HOST)
    # Metadata decides the way to x: nothing to fill in but the headers, emitted whole (`emit(h)`) in order.
    assert frame == P.ethernet(P.BROADCAST_MAC, MAC, 0, b"\x07")


def test_the_send_command_sends_once_and_prints_what_came_back(tmp_path, program_path, capsys):
    from dataplane.cli import main
    path = topology(tmp_path, program_path, "  - {pingall: {}}\n")
    assert main(["send", path, "h1", "{magic: {op: '^', value: 9}}", "--payload", "P4", "-c", "2", "-i", "1ms",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("send on h1 port 1 (reflect.p4's headers): 2 frames of 23 bytes sent, one every 1 ms\n"
                          "  eth(dst=ff:ff:ff:ff:ff:ff, src=08:00:00:00:01:01, kind=0x1200)\n"
                          "  magic(m=0x4d, op='^', value=9, on=0, pad=0x00)\n"
                          '  payload(2 bytes: "P4")\n\n'
                          "### h1 received (frames its stack did not take)\n")
    assert out.count("h1 received from port 1 at ") == 2 and "pingall" not in out


@pytest.mark.parametrize("argv, message", [
    (["h1", "{magic: {valu: 1}}"], "<headers>:1:10: error: header 'magic' (magic_t) has no field 'valu' "
                                   "(did you mean 'value'?)"),
    (["h1", "[1]"], "<headers>:1:2: error: each header in a list is written {name: {field: value, ...}}"),
    (["s1"], "error: 's1' is not a host of reflect (hosts: h1)"),
    (["h1", "--port", "3"], "error: send: host h1 has no port 3 (its ports: 1)"),
    (["h1", "--hex", "00"], "error: send: a 1-byte frame is shorter than an Ethernet header (14 bytes)"),
    (["h1", "-c", "0"], "error: send: -c must be between 1 and 1000000"),
])
def test_the_send_command_s_errors(tmp_path, program_path, capsys, argv, message):
    from dataplane.cli import main
    path = topology(tmp_path, program_path, "  - {pingall: {}}\n")
    assert main(["send", path, *argv, "--no-progress"]) == 1
    assert capsys.readouterr().err.splitlines()[0] == message


ETHERNET_ONLY = r"""
#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dstAddr; bit<48> srcAddr; bit<16> etherType; }
header ipv4_t { bit<4> version; bit<4> ihl; bit<8> tos; bit<16> totalLen; bit<16> identification; bit<3> flags;
                bit<13> fragOffset; bit<8> ttl; bit<8> protocol; bit<16> hdrChecksum; bit<32> srcAddr;
                bit<32> dstAddr; }
header udp_t { bit<16> srcPort; bit<16> dstPort; bit<16> length; bit<16> checksum; }
struct headers { ethernet_t ethernet; ipv4_t ipv4; udp_t udp; }
struct meta_t { }
parser P(packet_in pk, out headers hdr, inout meta_t m, inout standard_metadata_t sm) {
    state start { pk.extract(hdr.ethernet); transition accept; }
}
control V(inout headers h, inout meta_t m) { apply { } }
control I(inout headers h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control E(inout headers h, inout meta_t m, inout standard_metadata_t sm) { apply { } }
control C(inout headers h, inout meta_t m) { apply { } }
control D(packet_out pk, in headers h) { apply { pk.emit(h); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


def test_where_the_parser_stops_protocol_numbers_lead_on_to_the_program_s_own_headers(tmp_path):
    path = tmp_path / "eth.p4"
    path.write_text(ETHERNET_ONLY)
    program = build(str(path))
    frame = P.ethernet(P.BROADCAST_MAC, MAC, P.ETH_IPV4,
                       P.ipv4(P.ip4("10.0.0.1"), P.ip4("10.0.0.2"), P.IP_UDP,
                              P.udp(P.ip4("10.0.0.1"), P.ip4("10.0.0.2"), 7, 9, b"ok")))
    decoded = decode_frame(program, frame)
    assert [h.name for h in decoded] == ["ethernet", "ipv4", "udp", "payload"]
    assert decoded[1].values["dstAddr"] == P.ip4("10.0.0.2") and decoded[2].values["dstPort"] == 9
    assert decoded[3].data == b"ok"
    # The headers a parser never reaches are still built in the deparser's order, with their lengths.
    # The headers a parser never reaches are still built in the deparser's order, with their lengths, and
    # the protocol numbers that lead from one to the next.
    built = build_frame(program, {"ipv4": {"srcAddr": "10.0.0.1", "dstAddr": "10.0.0.2"},
                                  "udp": {"srcPort": 7, "dstPort": 9}}, b"ok", HOST)
    assert built == frame


def test_through_a_router_the_frame_goes_to_the_routers_mac_and_reaches_the_far_host():
    """The router programs' parser first selects on the ingress port (the CPU port): the frame from a host
    still starts with Ethernet, addressed to the router's interface (a router drops frames for other MACs)."""
    net = Network(load_topology("line"))
    program, defaults, port = craft.resolve(net, "h1")
    r1_mac = net.topo.nodes["r1"].interfaces["eth1"].mac
    assert defaults.dst_mac == r1_mac
    craft.listen(net)
    sender = craft.Sender(net, "h1", headers={"ipv4": {"dstAddr": "10.0.2.2", "ttl": 9}}, payload="hi")
    frame = sender.frame
    assert int.from_bytes(frame[0:6], "big") == r1_mac and frame[12:14] == b"\x08\x00"
    net.apps.append(sender.start(0))
    net.run()
    # h2's stack has no protocol 0: it answers Protocol Unreachable, and its receiver shows the datagram.
    [got] = net.receivers["h2"].received
    assert "ttl=6" in got.render("h2") and '"hi"' in got.render("h2")        # three routers on the way
