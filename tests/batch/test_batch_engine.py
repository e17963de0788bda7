"""The batch engine gives the scalar engine's bytes and drops: shipped programs, tutorials, small programs."""

from __future__ import annotations

import json
import random

import pytest

from batchcheck import assert_same, device_of, ipv4_packet, mixed_packets
from dataplane.batch import why_not_batch
from dataplane.bench import setup_lpm
from dataplane.build import build
from dataplane.controlplane.loader import load_file
from dataplane.runtime.device import Device
from conformance.corpus import corpus_dir
from p4helpers import PROGRAMS, V1MODEL_MAIN

# The shipped programs the batch engine runs; every other one names what keeps it out.
QUALIFYING = {"basic_ipv4.p4", "qos.p4"}
STF_DIR = PROGRAMS.parent / "tests" / "stf"


@pytest.mark.parametrize("path", sorted(PROGRAMS.glob("*.p4")), ids=lambda p: p.name)
def test_shipped_programs_qualify_or_say_why(path):
    why = why_not_batch(build(str(path)))
    if path.name in QUALIFYING:
        assert why is None
    else:
        assert why is not None and why.span is not None
        assert why.sentence().endswith(f"({why.span.source.path.rsplit('/', 1)[-1]}:{why.span.line})")


def _stf_packets(text: str) -> list[tuple[int, bytes]]:
    out = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words[:1] == ["packet"]:
            out.append((int(words[1]), bytes.fromhex("".join(words[2:]))))
    return out


@pytest.mark.parametrize("stf", sorted(p for name in QUALIFYING for p in STF_DIR.glob(f"{name[:-3]}/*.stf")),
                         ids=lambda p: f"{p.parent.name}/{p.name}")
def test_qualifying_programs_same_bytes_on_their_stf_packets(stf):
    """Each STF test's table entries (as the test leaves them) and packets, plus packets of every kind."""
    from dataplane.frontend.preprocess import read_source
    from dataplane.stf import run_stf
    dev = Device(build(str(PROGRAMS / f"{stf.parent.name}.p4")))
    run_stf(dev, read_source(str(stf)))
    packets = _stf_packets(stf.read_text())
    dsts = [int.from_bytes(p[30:34], "big") for _, p in packets if len(p) >= 34]
    assert_same(dev, packets + mixed_packets(random.Random(stf.name), dsts or [0x0A000101], 300))


def test_basic_ipv4_with_1000_routes_same_bytes():
    dev, _ = setup_lpm(1000)
    rng = random.Random(5)
    dsts = [e.key for e in dev.tables["MyIngress.ipv4_lpm"].entries.values()][:300]
    assert_same(dev, mixed_packets(rng, dsts, 1500))


def test_basic_ipv4_empty_table_drops_everything():
    dev = Device(build(str(PROGRAMS / "basic_ipv4.p4")))
    assert_same(dev, [(1, ipv4_packet(0x0A000202)), (2, b""), (1, b"\x00" * 13)])


TUTORIALS = ("basic", "basic_tunnel", "qos")


@pytest.mark.parametrize("name", TUTORIALS)
def test_tutorial_solutions_same_bytes(name):
    d = corpus_dir() / "tutorials" / "exercises" / name
    if not d.is_dir():
        pytest.skip(f"the P4 tutorials corpus is not here ({d})")
    dev = Device(build(str(d / "solution" / f"{name}.p4")))
    runtime = d / "s1-runtime.json"
    if not runtime.exists():
        runtime = d / "pod-topo" / "s1-runtime.json"
    load_file(dev, str(runtime))
    assert why_not_batch(dev.program) is None
    dsts = []
    for e in json.loads(runtime.read_text()).get("table_entries", []):
        for v in e.get("match", {}).values():
            if isinstance(v, list) and isinstance(v[0], str) and v[0].count(".") == 3:
                dsts.append(int.from_bytes(bytes(int(x) for x in v[0].split(".")), "big") | 1)
    rng = random.Random(len(name))
    packets = mixed_packets(rng, dsts or [0x0A000101], 600)
    if name == "basic_tunnel":       # myTunnel frames (EtherType 0x1212) too
        packets += [(1, bytes(12) + b"\x12\x12" + rng.randbytes(4) + p[14:]) for _, p in packets[:200]]
        packets += [(1, bytes(12) + b"\x12\x12" + rng.randbytes(2) + b"\x08\x00" + p[14:]) for _, p in packets[:200]]
    assert_same(dev, packets)


SKELETON = """
#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
header tag_t { bit<3> pcp; bit<1> cfi; bit<12> vid; bit<16> type; }
header ipv4_t { bit<4> version; bit<4> ihl; bit<6> dscp; bit<2> ecn; bit<16> len; bit<16> id; bit<3> flags;
                bit<13> frag; bit<8> ttl; bit<8> proto; bit<16> csum; bit<32> src; bit<32> dst; }
struct headers_t { ethernet_t eth; tag_t tag; ipv4_t ipv4; }
struct metadata_t { bit<16> group; bool seen; bit<9> port; }
parser MyParser(packet_in pkt, out headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition select(hdr.eth.type) {
        0x8100 &&& 0xEFFF: vlan; 0x0800: ipv4; 0x0600 .. 0x07FF: reject_range; } }
    state reject_range { transition accept; }
    state vlan { pkt.extract(hdr.tag); meta.group = hdr.tag.vid ++ 4w0;
        transition select(hdr.tag.type, hdr.tag.pcp) { (0x0800, _): ipv4; (_, 7): accept; } }
    state ipv4 { pkt.extract(hdr.ipv4); transition accept; }
}
control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { verify_checksum(hdr.ipv4.isValid(), { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
        hdr.ipv4.len, hdr.ipv4.id, hdr.ipv4.flags, hdr.ipv4.frag, hdr.ipv4.ttl, hdr.ipv4.proto, hdr.ipv4.src,
        hdr.ipv4.dst }, hdr.ipv4.csum, HashAlgorithm.csum16); }
}
control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) {
    apply { update_checksum(hdr.ipv4.isValid(), { hdr.ipv4.version, hdr.ipv4.ihl, hdr.ipv4.dscp, hdr.ipv4.ecn,
        hdr.ipv4.len, hdr.ipv4.id, hdr.ipv4.flags, hdr.ipv4.frag, hdr.ipv4.ttl, hdr.ipv4.proto, hdr.ipv4.src,
        hdr.ipv4.dst }, hdr.ipv4.csum, HashAlgorithm.csum16); }
}
control MyEgress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    apply { if (sm.egress_port == 7) { mark_to_drop(sm); } else if (hdr.tag.isValid()) { hdr.tag.pcp = 3w5; } }
}
control MyDeparser(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }
"""

INGRESS = """
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    bit<8> local = 8w1;
    action drop() { mark_to_drop(sm); }
    action fwd(bit<9> port, bit<6> dscp) { sm.egress_spec = port; hdr.ipv4.dscp = dscp;
        hdr.ipv4.ttl = hdr.ipv4.ttl - local; meta.seen = true; }
    action swap() { hdr.eth.src = hdr.eth.dst; hdr.eth.dst = 48w0x020000000001; sm.egress_spec = sm.ingress_port; }
    action mark(bit<16> g) { meta.group = meta.group | g; hdr.ipv4.id[15:8] = g[7:0]; }
    table routes { key = { hdr.ipv4.dst: lpm; } actions = { fwd; drop; } default_action = drop(); }
    table l2 { key = { hdr.eth.dst: exact; hdr.tag.vid: exact; } actions = { swap; NoAction; } }
    table acl { key = { hdr.ipv4.src: ternary; hdr.ipv4.proto: exact; hdr.ipv4.len: range; }
                actions = { mark; drop; NoAction; } default_action = NoAction(); }
    apply {
        if (hdr.ipv4.isValid() && sm.checksum_error == 0) {
            switch (routes.apply().action_run) {
                fwd: { if (!acl.apply().hit) { hdr.ipv4.ecn = 2w3; } }
                default: { meta.group = 16w1; }
            }
            local = hdr.ipv4.ttl > 8w100 ? 8w2 : 8w0;
            if (local != 0) { hdr.ipv4.flags = (bit<3>) local; }
        } else if (l2.apply().miss) {
            sm.egress_spec = (bit<9>) (meta.group[3:0] ^ 4w7);
        }
        meta.port = sm.egress_spec;
        if (meta.port == 9w6 && meta.seen) { sm.egress_spec = 9w7; }
    }
}
"""


def _features_device() -> Device:
    from dataplane.runtime.tables import MatchValue
    dev = device_of(SKELETON + INGRESS + V1MODEL_MAIN)
    rng = random.Random(11)
    for i in range(40):
        plen = rng.choice([8, 16, 24, 32])
        addr = rng.getrandbits(32) & ((1 << 32) - (1 << (32 - plen)))
        try:
            dev.table_add("routes", [MatchValue(addr, prefix_len=plen)], "fwd", [rng.randrange(0, 8),
                                                                                rng.randrange(64)])
        except Exception:
            pass
    dev.table_add("routes", [MatchValue(0x0A000000, prefix_len=8)], "drop", [])
    for i in range(10):
        dev.table_add("l2", [MatchValue(0x000000000100 + i), MatchValue(i)], "swap", [])
    for i in range(12):
        action, args = ("mark", [rng.getrandbits(16)]) if i % 3 else ("drop", [])
        dev.table_add("acl", [MatchValue(rng.getrandbits(32), mask=rng.choice([0, 0xFF000000, 0xFFFFFFFF])),
                              MatchValue(rng.choice([6, 17])),
                              MatchValue(lo=rng.randrange(0, 60), hi=rng.randrange(60, 200))],
                      action, args, priority=rng.randrange(1, 5))
    return dev


def test_features_program_same_bytes():
    dev = _features_device()
    assert why_not_batch(dev.program) is None
    rng = random.Random(12)
    routes = [e.key for e in dev.tables["MyIngress.routes"].entries.values()]
    packets = mixed_packets(rng, routes, 800)
    for _ in range(300):         # VLAN-tagged frames: tag, then IPv4 or something else
        inner = ipv4_packet(rng.choice(routes), rng.randrange(256), rng.randbytes(rng.randrange(30)))
        tag = rng.getrandbits(16).to_bytes(2, "big") + rng.choice([b"\x08\x00", b"\x88\x47"])
        frame = (0x000000000100 + rng.randrange(12)).to_bytes(6, "big") + bytes(6) + \
            rng.choice([b"\x81\x00", b"\x91\x00", b"\x06\x10"]) + tag + inner[14:]
        packets.append((rng.randrange(4), frame[:rng.randrange(10, len(frame) + 1)] if rng.random() < 0.2 else frame))
    assert_same(dev, packets)


@pytest.mark.parametrize("body, what", [
    ("register<bit<32>>(4) r; apply { r.write(0, 1); }", "writing the register 'r'"),
    ("register<bit<9>>(4) r; apply { r.read(sm.egress_spec, 0); }", "the register 'r'"),
    ("apply { sm.mcast_grp = 1; }", "writing standard_metadata.mcast_grp"),
    ("apply { sm.egress_spec = (bit<9>) (hdr.eth.type >> hdr.eth.type); }", "a shift by a run-time amount"),
    ("apply { bit<32> h; hash(h, HashAlgorithm.crc32, 32w0, { hdr.eth.dst }, 32w16); }", "the extern function hash()"),
    ("apply { hdr.ipv4.minSizeInBits(); }", "minSizeInBits() on a header"),
])
def test_unsupported_constructs_are_named(body, what):
    text = SKELETON + "control MyIngress(inout headers_t hdr, inout metadata_t meta, " \
                      "inout standard_metadata_t sm) {\n" + body + "\n}\n" + V1MODEL_MAIN
    why = why_not_batch(device_of(text, "features.p4").program)
    assert why is not None and why.what == what
    assert why.sentence() == f"{what} (features.p4:{SKELETON.count(chr(10)) + 2})"


# Encapsulation and decapsulation: a VLAN tag pushed onto untagged IPv4 frames (its fields from a
# table, the rest left at zero), popped from tagged ones, and headers made invalid and valid again.
TUNNEL = """
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    action push(bit<12> vid, bit<9> port) { hdr.tag.setValid(); hdr.tag.vid = vid; hdr.tag.type = hdr.eth.type;
        hdr.eth.type = 0x8100; sm.egress_spec = port; }
    action pop(bit<9> port) { hdr.eth.type = hdr.tag.type; hdr.tag.setInvalid(); sm.egress_spec = port; }
    table tunnel { key = { hdr.eth.dst: exact; hdr.tag.isValid(): exact; } actions = { push; pop; NoAction; } }
    apply {
        sm.egress_spec = 2;
        if (!tunnel.apply().hit) {
            if (hdr.ipv4.isValid() && hdr.ipv4.ttl < 8w16) {
                hdr.ipv4.setInvalid();               // the IPv4 header is cut out, its bytes left behind
            } else if (hdr.ipv4.isValid() && hdr.ipv4.ttl > 8w200) {
                hdr.ipv4.setInvalid(); hdr.ipv4.ttl = 1; hdr.ipv4.setValid();   // the write is lost
                hdr.ipv4.setValid();
            } else if (!hdr.ipv4.isValid()) {
                hdr.ipv4.setValid(); hdr.ipv4.proto = 8w99; sm.egress_spec = 3;  // a header never extracted
            }
        }
    }
}
"""


def _tunnel_device() -> Device:
    from dataplane.runtime.tables import MatchValue
    dev = device_of(SKELETON + TUNNEL + V1MODEL_MAIN, "tunnel.p4")
    for i in range(6):
        dev.table_add("tunnel", [MatchValue(0x000000000100 + i), MatchValue(0)], "push", [100 + i, 4])
        dev.table_add("tunnel", [MatchValue(0x000000000100 + i), MatchValue(1)], "pop", [5])
    return dev


def tunnel_frames(rng: random.Random, n: int) -> list[tuple[int, bytes]]:
    out = []
    for _, pkt in mixed_packets(rng, [0x0A000001], n):
        dst = (0x000000000100 + rng.randrange(8)).to_bytes(6, "big") if rng.random() < 0.7 else pkt[:6]
        frame = dst + pkt[6:]
        if rng.random() < 0.4 and len(frame) >= 14:
            frame = frame[:12] + b"\x81\x00" + rng.getrandbits(16).to_bytes(2, "big") + frame[12:]
        out.append((rng.randrange(4), frame[:rng.randrange(0, len(frame) + 1)] if rng.random() < 0.1 else frame))
    return out


def test_encapsulation_and_decapsulation_same_bytes():
    dev = _tunnel_device()
    assert why_not_batch(dev.program) is None
    assert_same(dev, tunnel_frames(random.Random(21), 1500))


# IPv6: 128-bit addresses read, compared, copied, sliced, cast and looked up (exact and lpm), and
# 128-bit action data.
IPV6 = """
#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
header ipv6_t { bit<4> version; bit<8> tclass; bit<20> flow; bit<16> len; bit<8> next; bit<8> hops;
                bit<128> src; bit<128> dst; }
struct headers_t { ethernet_t eth; ipv6_t ipv6; }
struct metadata_t { bit<128> nhop; bit<8> top; bit<64> low; }
parser MyParser(packet_in pkt, out headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition select(hdr.eth.type) { 0x86DD: ipv6; default: accept; } }
    state ipv6 { pkt.extract(hdr.ipv6); transition accept; }
}
control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    action drop() { mark_to_drop(sm); }
    action route(bit<9> port, bit<128> nhop) { sm.egress_spec = port; meta.nhop = nhop; hdr.ipv6.hops = hdr.ipv6.hops - 1; }
    action local() { sm.egress_spec = 9; }
    action rewrite(bit<48> mac) { hdr.eth.dst = mac; }
    table routes { key = { hdr.ipv6.dst: lpm; } actions = { route; drop; } default_action = drop(); }
    table mine { key = { hdr.ipv6.dst: exact; sm.ingress_port: exact; } actions = { local; NoAction; }
                 default_action = NoAction(); }
    table neighbours { key = { meta.nhop: exact; } actions = { rewrite; NoAction; } default_action = NoAction(); }
    apply {
        if (hdr.ipv6.isValid()) {
            if (!mine.apply().hit) {
                routes.apply();
                if (meta.nhop == 0) { meta.nhop = hdr.ipv6.dst; }
                neighbours.apply();
            }
            meta.top = hdr.ipv6.dst[127:120];
            meta.low = (bit<64>) hdr.ipv6.src;
            if (meta.top == 0xFF || hdr.ipv6.src == 128w1) { hdr.ipv6.src = hdr.ipv6.dst; hdr.ipv6.dst = meta.nhop; }
            hdr.ipv6.flow = (bit<20>) (hdr.ipv6.src[71:56] ^ (bit<16>) meta.low);
            if (hdr.ipv6.hops == 0) { drop(); }
        } else {
            drop();
        }
    }
}
control MyEgress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) { apply { } }
control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyDeparser(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }
""" + V1MODEL_MAIN

PREFIXES = [(0x20010DB8 << 96, 32), (0x20010DB8_00010000 << 64, 48), (0x20010DB8_0001FFFF << 64, 64),
            (0xFF02 << 112, 16), (0, 0), ((0x20010DB8_00020000 << 64) | 7, 128), ((1 << 128) - 1, 128)]


def _ipv6_device() -> Device:
    from dataplane.runtime.tables import MatchValue
    dev = device_of(IPV6, "ipv6.p4")
    for i, (addr, plen) in enumerate(PREFIXES):
        nhop = 0 if i % 3 == 0 else (0xFE80 << 112) | i
        dev.table_add("routes", [MatchValue(addr, prefix_len=plen)], "route", [i + 1, nhop])
        dev.table_add("neighbours", [MatchValue(nhop)], "rewrite", [0x020000000000 + i]) if nhop else None
    dev.table_add("mine", [MatchValue(0x20010DB8 << 96 | 1), MatchValue(2)], "local", [])
    dev.table_add("neighbours", [MatchValue(0x20010DB8 << 96 | 1)], "rewrite", [0x02AAAAAAAAAA])
    return dev


def ipv6_address(rng: random.Random) -> int:
    addr, plen = rng.choice(PREFIXES)
    return addr | (rng.getrandbits(128 - plen) if plen < 128 and rng.random() < 0.8 else 0)


def ipv6_frames(rng: random.Random, n: int) -> list[tuple[int, bytes]]:
    out = []
    for _ in range(n):
        hops = rng.choice([0, 1, 2, 64, 255])
        src = rng.choice([1, ipv6_address(rng), rng.getrandbits(128)])
        dst = ipv6_address(rng) if rng.random() < 0.8 else rng.choice([0x20010DB8 << 96 | 1, rng.getrandbits(128)])
        ip = (6 << 28 | rng.getrandbits(28)).to_bytes(4, "big") + rng.getrandbits(16).to_bytes(2, "big") + \
            bytes([rng.choice([6, 17, 58]), hops]) + src.to_bytes(16, "big") + dst.to_bytes(16, "big")
        frame = bytes(6) + rng.randbytes(6) + rng.choice([b"\x86\xdd"] * 5 + [b"\x08\x00"]) + ip + \
            rng.randbytes(rng.randrange(0, 40))
        out.append((rng.randrange(4), frame[:rng.randrange(0, len(frame) + 1)] if rng.random() < 0.1 else frame))
    return out


def test_ipv6_wide_fields_and_keys_same_bytes():
    dev = _ipv6_device()
    assert why_not_batch(dev.program) is None
    assert_same(dev, ipv6_frames(random.Random(31), 1500))


# Enums (plain and serializable), errors, and a parser's own variables and constants.
ENUMS = """
#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
header ipv4_t { bit<4> version; bit<4> ihl; bit<8> tos; bit<16> len; bit<16> id; bit<16> frag; bit<8> ttl;
                bit<8> proto; bit<16> csum; bit<32> src; bit<32> dst; }
enum bit<16> EtherType { IPV4 = 0x0800, IPV6 = 0x86DD, VLAN = 0x8100 }
enum Color { RED, GREEN, BLUE }
struct headers_t { ethernet_t eth; ipv4_t ipv4; }
struct metadata_t { Color color; EtherType type; bit<8> seen; }
parser MyParser(packet_in pkt, out headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    bit<8> count = 1;
    const bit<8> STEP = 2;
    bit<8> later;
    state start { pkt.extract(hdr.eth); meta.type = (EtherType) hdr.eth.type; count = count + STEP;
        transition select(meta.type) { EtherType.IPV4: ipv4; default: accept; } }
    state ipv4 { bit<8> inner = count + 1; later = inner; pkt.extract(hdr.ipv4); meta.seen = inner + later;
        transition accept; }
}
control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    action paint(Color c) { meta.color = c; }
    table colors { key = { hdr.ipv4.proto: exact; } actions = { paint; NoAction; } default_action = paint(Color.BLUE); }
    apply {
        sm.egress_spec = 1;
        if (sm.parser_error == error.PacketTooShort) { sm.egress_spec = 2; }
        else if (sm.parser_error != error.NoError) { mark_to_drop(sm); }
        else if (meta.type == EtherType.IPV4) {
            colors.apply();
            if (meta.color == Color.RED) { sm.egress_spec = 3; }
            else if (meta.color != Color.BLUE) { sm.egress_spec = 4; hdr.ipv4.ttl = meta.seen; }
            hdr.eth.type = (bit<16>) EtherType.VLAN;
        }
    }
}
control MyEgress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) { apply { } }
control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyDeparser(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }
""" + V1MODEL_MAIN


def test_enums_errors_and_parser_variables_same_bytes():
    from dataplane.runtime.tables import MatchValue
    dev = device_of(ENUMS, "enums.p4")
    assert why_not_batch(dev.program) is None
    dev.table_add("colors", [MatchValue(6)], "paint", [0])
    dev.table_add("colors", [MatchValue(17)], "paint", [1])
    assert_same(dev, mixed_packets(random.Random(41), [0x0A000001], 1200))


# exit and return: the control block ends for the packets that reach them (in an action, a branch, a
# switch case), the statements after them run for the others, and the next control runs for all.
EXITS = """
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    action leave(bit<9> port) { sm.egress_spec = port; exit; }
    action stay(bit<9> port) { sm.egress_spec = port; }
    table first { key = { hdr.ipv4.proto: exact; } actions = { leave; stay; NoAction; } default_action = NoAction(); }
    apply {
        sm.egress_spec = 1;
        if (!hdr.ipv4.isValid()) { return; }
        if (first.apply().hit) { hdr.ipv4.ttl = hdr.ipv4.ttl - 1; }
        switch (first.apply().action_run) {
            stay: { if (hdr.ipv4.ttl < 8w32) { sm.egress_spec = 5; exit; } }
            default: { }
        }
        if (hdr.ipv4.ttl > 8w200) { return; }
        hdr.ipv4.dscp = 6w9;
        sm.egress_spec = sm.egress_spec + 1;
    }
}
"""


def test_exit_and_return_same_bytes():
    from dataplane.runtime.tables import MatchValue
    dev = device_of(SKELETON + EXITS + V1MODEL_MAIN, "exits.p4")
    assert why_not_batch(dev.program) is None
    dev.table_add("first", [MatchValue(6)], "leave", [3])
    dev.table_add("first", [MatchValue(17)], "stay", [4])
    assert_same(dev, mixed_packets(random.Random(51), [0x0A000001], 1200))


# Actions called with out and inout arguments: copied in (out ones start at 0) and copied out after the
# body, also for the packets that left the block with exit inside the action.
INOUT = """
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    action swap(inout bit<16> x, out bit<16> y, in bit<16> z) {
        y = x; x = z + 1; if (z == 16w0x0800 && hdr.ipv4.ttl[0:0] == 1w1) { sm.egress_spec = 3; exit; } x = x + 1; }
    action bump(inout bit<8> ttl, out bit<9> port) { ttl = ttl - 1; port = (bit<9>) ttl[2:0]; }
    apply {
        sm.egress_spec = 1;
        meta.group = hdr.eth.type;
        swap(meta.group, hdr.ipv4.id, hdr.eth.type);
        hdr.eth.type = meta.group ^ hdr.ipv4.len;
        bump(hdr.ipv4.ttl, sm.egress_spec);
    }
}
"""


def test_out_and_inout_arguments_same_bytes():
    dev = device_of(SKELETON + INOUT + V1MODEL_MAIN, "inout.p4")
    assert why_not_batch(dev.program) is None
    rng = random.Random(61)
    packets = mixed_packets(rng, [0x0A000001], 800)
    packets += [(p, f[:12] + rng.randbytes(2) + f[14:]) for p, f in packets[:400]]
    assert_same(dev, packets)


# Whole headers copied: Ethernet in Ethernet pushed (the outer header copied inward) and popped (the
# inner header copied outward), a copy of an invalid header, and a header copied onto itself.
COPIES = """
#include <core.p4>
#include <v1model.p4>
header ethernet_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { ethernet_t outer; ethernet_t inner; ethernet_t spare; }
struct metadata_t { }
parser MyParser(packet_in pkt, out headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.outer); transition select(hdr.outer.type) { 0x6558: inner; default: accept; } }
    state inner { pkt.extract(hdr.inner); transition accept; }
}
control MyVerifyChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        if (hdr.inner.isValid()) {
            hdr.outer = hdr.inner; hdr.inner.setInvalid(); sm.egress_spec = 2;
        } else if (hdr.outer.src[0:0] == 1) {
            hdr.inner = hdr.outer; hdr.outer.type = 0x6558; hdr.outer.dst = 48w0x020000000002; sm.egress_spec = 3;
        } else if (hdr.outer.dst[0:0] == 1) {
            hdr.outer = hdr.spare; sm.egress_spec = 4;        // spare is never valid: outer is dropped
        }
        hdr.outer = hdr.outer;
    }
}
control MyEgress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) { apply { } }
control MyComputeChecksum(inout headers_t hdr, inout metadata_t meta) { apply { } }
control MyDeparser(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr); } }
""" + V1MODEL_MAIN


def test_header_copies_same_bytes():
    dev = device_of(COPIES, "copies.p4")
    assert why_not_batch(dev.program) is None
    rng = random.Random(71)
    packets = mixed_packets(rng, [0x0A000001], 600)
    packets += [(p, rng.randbytes(12) + b"\x65\x58" + f) for p, f in packets[:400]]
    packets = [(p, rng.randbytes(12) + f[12:]) for p, f in packets]
    assert_same(dev, packets)


# switch on a value: constant labels, labels falling through to the next body, default.
SWITCH = """
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    apply {
        sm.egress_spec = 1;
        switch (hdr.ipv4.proto) {
            6: { sm.egress_spec = 2; }
            17:
            1: { sm.egress_spec = 3; hdr.ipv4.ttl = 8w9; }
            default: { switch (hdr.eth.type[3:0]) { 0: { sm.egress_spec = 4; } 4w13: { exit; } } }
        }
        sm.egress_spec = sm.egress_spec + 1;
    }
}
"""


def test_switch_on_a_value_same_bytes():
    dev = device_of(SKELETON + SWITCH + V1MODEL_MAIN, "switch.p4")
    assert why_not_batch(dev.program) is None
    assert_same(dev, mixed_packets(random.Random(81), [0x0A000001], 1000))


# Actions bound to arguments in a table's action list: a field (copied in and out) and the whole
# standard_metadata (the struct itself), with the rest of their parameters from the entries.
BOUND = """
control MyIngress(inout headers_t hdr, inout metadata_t meta, inout standard_metadata_t sm) {
    action out_to(inout standard_metadata_t s, bit<9> port) { s.egress_spec = port; }
    action age(inout bit<8> ttl, bit<8> by) { ttl = ttl - by; meta.group = 16w7; }
    action gone(inout standard_metadata_t s) { mark_to_drop(s); }
    table ports { key = { hdr.ipv4.dst: lpm; } actions = { out_to(sm); gone(sm); NoAction; }
                  default_action = gone(sm); }
    table ages { key = { hdr.ipv4.proto: exact; } actions = { age(hdr.ipv4.ttl); NoAction; }
                 default_action = NoAction(); }
    apply { ports.apply(); ages.apply(); if (meta.group == 7) { hdr.ipv4.dscp = 6w1; } }
}
"""


def test_actions_bound_to_arguments_same_bytes():
    from dataplane.runtime.tables import MatchValue
    dev = device_of(SKELETON + BOUND + V1MODEL_MAIN, "bound.p4")
    assert why_not_batch(dev.program) is None
    dev.table_add("ports", [MatchValue(0x0A000000, prefix_len=8)], "out_to", [3])
    dev.table_add("ports", [MatchValue(0x0A000000, prefix_len=16)], "out_to", [4])
    dev.table_add("ports", [MatchValue(0x0A000100, prefix_len=24)], "gone", [])
    dev.table_add("ages", [MatchValue(6)], "age", [3])
    dev.table_add("ages", [MatchValue(17)], "age", [200])
    rng = random.Random(91)
    assert_same(dev, mixed_packets(rng, [0x0A000001, 0x0A000101, 0x0A010001], 1000))
