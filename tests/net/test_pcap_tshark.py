"""Wireshark's verdict on the pcap files of every shipped topology.

Each topology is run with one pcap per link; tshark then reads every file
that has frames, with checksum validation on for IP, TCP, UDP and SCTP
(CRC32c); ICMP and ICMPv6 checksums are always checked. A file passes when
tshark reads as many frames as the simulator wrote, finds no malformed
packet, no bad checksum, no expert note of severity warning or above, and
has verified the outermost checksum of every protocol that has one.
capinfos (from the same package) counts the frames of every file, empty
ones included, in one process.

CI installs tshark (.ci/run); without it these tests are skipped.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor

import pytest

from toplab import TOPOLOGY_DIR, run_topology, shipped_run, topology_names
from dataplane.net import appdata
from dataplane.net.host.tcp import parse_segment
from dataplane.net.network import PCAP_EPOCH_NS
from dataplane.net.topology import load_topology
from dataplane.pcap import PcapWriter, read_pcap

TSHARK = shutil.which("tshark")
CAPINFOS = shutil.which("capinfos")
pytestmark = pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (CI installs it: see .ci/run)")

PREFS = ["-o", "ip.check_checksum:TRUE", "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
         "-o", "sctp.checksum:CRC 32c"]
CHECKSUMS = ["ip", "tcp", "udp", "icmp", "icmpv6", "sctp"]
FIELDS = ["frame.number", "frame.protocols", "_ws.malformed", "_ws.expert.severity", "_ws.expert.group",
          "_ws.expert.message"] + [f"{p}.checksum.status" for p in CHECKSUMS]

SEVERITY_WARN = 0x00600000            # PI_WARN; PI_ERROR is 0x00800000
GROUP_CHECKSUM, GROUP_MALFORMED = 0x01000000, 0x07000000
GOOD = "1"                            # PROTO_CHECKSUM_E_GOOD

def tshark(path: str, *extra: str) -> list[dict]:
    """One dict per frame: field name -> list of values (empty when absent)."""
    out = subprocess.run([TSHARK, "-n", "-r", path, *PREFS, *extra, "-T", "fields",
                          "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
                         + [a for f in FIELDS for a in ("-e", f)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, f"tshark failed on {path}: {out.stderr}"
    frames = []
    for line in out.stdout.splitlines():
        cols = line.split("\t")
        cols += [""] * (len(FIELDS) - len(cols))
        frames.append({f: (c.split("|") if c else []) for f, c in zip(FIELDS, cols)})
    return frames


# What a capture beyond a link that lost frames shows, rightly: TCP segments that never reached it.
LOSS_GAPS = ("Previous segment(s) not captured", "ACKed segment that wasn't captured")


def problems(path: str, frames: list[dict], links_lost_frames: bool = False) -> list[str]:
    """What tshark found wrong in one file, one line per finding (gaps of TCP sequence numbers are expected
    when a link lost frames on the way)."""
    out = []
    for fr in frames:
        n = fr["frame.number"][0]
        where = f"{os.path.basename(path)} frame {n} ({fr['frame.protocols'][0]})"
        notes = list(zip(fr["_ws.expert.severity"], fr["_ws.expert.group"], fr["_ws.expert.message"]))
        for sev, group, msg in notes:
            if links_lost_frames and msg.startswith(LOSS_GAPS):
                continue
            if int(sev) >= SEVERITY_WARN or int(group) in (GROUP_CHECKSUM, GROUP_MALFORMED):
                out.append(f"{where}: {msg}")
        if fr["_ws.malformed"]:
            out.append(f"{where}: malformed")
        layers = fr["frame.protocols"][0].split(":")
        for proto in CHECKSUMS:
            status = fr[f"{proto}.checksum.status"]
            if any(s == "0" for s in status):
                out.append(f"{where}: bad {proto} checksum")
            # The outermost occurrence of the protocol has its checksum verified (inner ones may be
            # truncated quotes inside ICMP errors).
            if proto in layers and not (proto == "ip" and "ipv6" in layers[:layers.index("ip")]):
                if not status or status[0] != GOOD:
                    out.append(f"{where}: {proto} checksum not verified ({status})")
    return out


def frame_counts(paths: list[str]) -> dict[str, int]:
    """Frames per file as Wireshark's library counts them (capinfos: one process for all files)."""
    if CAPINFOS is None:
        return {p: len(tshark(p)) for p in paths}
    out = subprocess.run([CAPINFOS, "-T", "-r", "-c", "-M", *paths], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    counts = {}
    for line in out.stdout.splitlines():
        name, _, n = line.rpartition("\t")
        counts[name] = int(n)
    return counts


@pytest.mark.parametrize("name", topology_names())
def test_tshark_finds_nothing_wrong_in_the_pcaps(name, tmp_path_factory):
    run = shipped_run(name, tmp_path_factory)
    pcap_dir = run.pcap_dir
    files = sorted(str(p) for p in pcap_dir.glob("*.pcapng"))
    links = run.net.links
    assert len(files) == len(links)                                 # one file per link
    # The simulator's books: what each link carried, what each file holds, what Wireshark counts.
    written = {str(pcap_dir / f"{name_}.pcapng"): n for name_, n in run.pcap_counts.items()}
    assert set(written) == set(files)
    for link_name, link in links.items():
        assert run.pcap_counts[link_name] == sum(e.sent for e in link.ends.values()) == \
            len(run.frames_on(link_name))
    losses_after_the_wire = sum(1 for d in run.net.sim.ledger.drops if d.reason.name == "LINK_LOSS")
    assert sum(written.values()) == run.summary.transmitted - run.summary.link_drops + losses_after_the_wire
    assert frame_counts(files) == written
    busy = [f for f in files if written[f]]
    assert busy
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(tshark, busy))
    found = []
    for path, frames in zip(busy, results):
        assert len(frames) == written[path], path
        assert [int(fr["frame.number"][0]) for fr in frames] == list(range(1, written[path] + 1))
        found += problems(path, frames, links_lost_frames=losses_after_the_wire > 0)
    assert found == []


def test_tshark_reads_our_frames_byte_for_byte(tmp_path_factory):
    """The pcap holds exactly the frames the link carried (compared with our reader and tshark's hex dump)."""
    run = shipped_run("line", tmp_path_factory)
    path = str(run.pcap_dir / "r2-r3.pcapng")
    records = read_pcap(path)
    frames = run.frames_on("r2-r3")
    assert [r.data for r in records] == [c.frame for c in frames]
    # pcapng: each frame on the interface of the end that sent it, outbound from there, in nanoseconds
    # from the documented epoch (2000-01-01 UTC).
    assert [(r.interface, r.direction) for r in records] == \
        [("r2:eth2" if c.sender == "r2" else "r3:eth1", "out") for c in frames]
    assert all(r.time_ns >= PCAP_EPOCH_NS for r in records)
    out = subprocess.run([TSHARK, "-n", "-r", path, "-T", "fields", "-e", "frame.len", "-e", "frame.interface_name",
                          "-e", "frame.packet_flags_direction", "-e", "frame.time_epoch"],
                         capture_output=True, text=True, timeout=60)
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    assert [(int(n), name, int(flags, 16) & 3) for n, name, flags, _ in rows] == \
        [(len(r.data), r.interface, 2) for r in records]
    assert rows[0][3].startswith("946684800.")


def test_the_tshark_check_catches_a_bad_checksum_and_a_truncated_packet(tmp_path_factory, tmp_path):
    """The check itself can fail: corrupt one IPv4 header checksum and cut one packet short."""
    run = shipped_run("lan", tmp_path_factory)
    # The corruption below is done on a classic pcap copy of the link's capture (a simpler layout).
    src = tmp_path / "r1-srv.pcap"
    with PcapWriter(str(src)) as w:
        for r in read_pcap(str(run.pcap_dir / "r1-srv.pcapng")):
            w.write(r.data, r.time_ns)
    blob = bytearray(src.read_bytes())
    # The first record: 24-byte file header, 16-byte record header, then the frame.
    first = 24 + 16
    assert blob[first + 12:first + 14] in (b"\x08\x00", b"\x08\x06")
    records = read_pcap(str(src))
    pos, corrupted, cut = 24, None, None
    for i, r in enumerate(records):
        frame_at = pos + 16
        if corrupted is None and r.data[12:14] == b"\x08\x00":
            blob[frame_at + 14 + 10] ^= 0xFF                         # IPv4 header checksum
            corrupted = i + 1
        elif corrupted is not None and cut is None and r.data[12:14] == b"\x08\x00" and r.data[23] == 6 \
                and len(r.data) > 100:
            # Claim a longer IP total length than the frame holds: a truncated TCP segment.
            total = int.from_bytes(r.data[16:18], "big")
            blob[frame_at + 16:frame_at + 18] = (total + 200).to_bytes(2, "big")
            cut = i + 1
        pos = frame_at + len(r.data)
    assert corrupted and cut
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(bytes(blob))
    found = problems(str(bad), tshark(str(bad)))
    assert any(f"frame {corrupted} " in f and ("checksum" in f.lower()) for f in found), found
    assert any(f"frame {cut} " in f for f in found), found
    assert problems(str(src), tshark(str(src))) == []


def test_tshark_accepts_the_sctp_init_chunk_padding(tmp_path_factory):
    """RFC 9260 3.2: the INIT's length leaves out its last parameter's padding (tshark calls it malformed if not)."""
    run = shipped_run("dual-stack", tmp_path_factory)
    path = str(run.pcap_dir / "r2-h3.pcapng")
    frames = tshark(path)
    assert any("sctp" in f["frame.protocols"][0] for f in frames)
    assert problems(path, frames) == []


def test_wireshark_shows_the_packet_number_of_the_trace_line(tmp_path, capsys):
    """A frame's pcapng comment carries the number its trace line shows: the echo request r1 forwards
    to r2 is the same packet, with the same number, in both."""
    from dataplane.cli import main
    main(["ping", "line", "h1", "h2", "-c", "1", "--trace-filter", "r1, icmp", "--pcap", str(tmp_path)])
    trace = capsys.readouterr().out
    number = re.search(r"-> port 2 \(eth2 to r2\): #(\d+) .*ICMP echo request", trace).group(1)
    out = subprocess.run([TSHARK, "-n", "-r", str(tmp_path / "r1-r2.pcapng"), "-Y", "icmp.type == 8",
                          "-T", "fields", "-e", "frame.comment"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n")[0] == f"dataplane packet #{number} hop 2"


def test_tsharks_tcp_analysis_finds_nothing_to_flag_in_a_clean_transfer(tmp_path_factory):
    """A transfer without loss (the line demo's: slow start, delayed ACKs, Nagle, both FINs) gives tshark's
    TCP analysis nothing to say: no duplicate ACKs, retransmissions, window problems or lost segments."""
    run = shipped_run("line", tmp_path_factory)
    for name in ("h1-r1", "r3-h2"):
        out = subprocess.run([TSHARK, "-n", "-r", str(run.pcap_dir / f"{name}.pcapng"), "-Y", "tcp.analysis.flags",
                              "-T", "fields", "-e", "frame.number", "-e", "_ws.expert.message"],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0 and out.stdout == "", out.stdout


# ---------------------------------------------------------------------------- application messages

APP_FIELDS = ["frame.number", "frame.protocols", "tcp.stream", "tcp.srcport", "tcp.dstport", "tcp.len", "udp.srcport",
              "udp.dstport", "sctp.srcport", "sctp.dstport"]
APP_PROTOCOLS = {(transport, port): name for (transport, port), name in appdata.PROTOCOL.items()}


def app_layers(path: str) -> tuple[list[str], set[str]]:
    """What a student sees above the transport in a file: one finding per flow that is not as expected
    (a flow on a port of net/appdata.py shows its protocol, http or dns; any other payload plain data:
    no dissector claims the port), and the protocols seen. Frames quoted in ICMP errors are left out."""
    out = subprocess.run([TSHARK, "-n", "-r", path, *PREFS, "-T", "fields", "-E", "separator=\t",
                          "-E", "occurrence=f"] + [a for f in APP_FIELDS for a in ("-e", f)],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    found, streams, seen = [], {}, set()
    for line in out.stdout.splitlines():
        row = dict(zip(APP_FIELDS, line.split("\t") + [""] * len(APP_FIELDS)))
        layers = row["frame.protocols"].split(":")
        if "icmp" in layers or "icmpv6" in layers:
            continue
        where = f"{os.path.basename(path)} frame {row['frame.number']} ({row['frame.protocols']})"
        transport = next((t for t in ("tcp", "udp", "sctp") if t in layers), None)
        if transport is None:
            continue
        ports = {int(row[f"{transport}.srcport"]), int(row[f"{transport}.dstport"])}
        app = next((APP_PROTOCOLS[(transport, p)] for p in sorted(ports) if (transport, p) in APP_PROTOCOLS), None)
        above = layers[layers.index(transport) + 1:]
        seen.update(above)
        if transport == "tcp":
            # A request spans segments: the protocol shows on the one that completes it, once per connection.
            if int(row["tcp.len"] or 0):
                stream = streams.setdefault(row["tcp.stream"], [where, app, set()])
                stream[2].update(above)
            continue
        if not above:
            continue
        if app is not None and app not in above:
            found.append(f"{where}: not {app}")
        if app is None and set(above) != {"data"}:
            found.append(f"{where}: claimed by {above[0]}, not plain data")
    for where, app, shown in streams.values():
        if app is not None and app not in shown:
            found.append(f"{where}: a connection to a {app} port without {app}")
        if app is None and shown - {"data"}:
            found.append(f"{where}: claimed by {sorted(shown - {'data'})}, not plain data")
    return found, seen


@pytest.mark.parametrize("name", topology_names())
def test_every_flow_shows_its_application_or_plain_data(name, tmp_path_factory):
    """HTTP on the transfers to ports 80 and 8080, DNS on port 53, and nothing but data elsewhere."""
    run = shipped_run(name, tmp_path_factory)
    files = [str(run.pcap_dir / f"{link}.pcapng") for link, n in run.pcap_counts.items() if n]
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(app_layers, files))
    assert [f for found, _ in results for f in found] == []
    expected = {appdata.PROTOCOL[(t.kind, t.params["port"])] for t in run.topo.traffic
                if (t.kind, t.params.get("port")) in appdata.PROTOCOL}
    assert expected <= set().union(*(seen for _, seen in results))
    if name in ("line", "lan", "dual-stack", "syn-flood"):
        assert expected == {"http"}                    # the transfers to ports 80 and 8080


def claimed_ports() -> set[tuple[str, int]]:
    """(transport, port) that a Wireshark dissector takes by default (its Decode As table)."""
    out = subprocess.run([TSHARK, "-G", "decodes"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    claimed = set()
    for line in out.stdout.splitlines():
        table, _, rest = line.partition("\t")
        if table in ("tcp.port", "udp.port", "sctp.port"):
            claimed.add((table.split(".")[0], int(rest.split("\t")[0])))
    return claimed


def test_the_ports_that_carry_the_test_pattern_are_claimed_by_no_dissector():
    """The default ports, and every port a shipped topology's flows use for the pattern: what a student sees
    there is plain data, not another protocol's fields (UDP 4000 would be ICQ, 7000 AFS RX, 5001 CPFI)."""
    claimed = claimed_ports()
    assert ("udp", 4000) in claimed and ("tcp", 80) in claimed               # the table is read
    used = set(appdata.DEFAULT_PORT.items())
    for name in topology_names():
        for item in load_topology(str(TOPOLOGY_DIR / f"{name}.yaml")).traffic:
            if item.kind in ("tcp", "udp", "sctp") and "port" in item.params:
                used.add((item.kind, item.params["port"]))
    pattern_ports = used - set(appdata.PROTOCOL)
    assert pattern_ports and pattern_ports & claimed == set()
    assert set(appdata.PROTOCOL) <= claimed                                    # and the others are dissected


APP_TRAFFIC = """
  - {at: 0s, tcp: {from: h3, to: h1, port: 80, bytes: 30000}}
  - {at: 0s, tcp: {from: h2, to: h1, port: 8080, bytes: 5000, ipv6: true}}
  - {at: 0s, tcp: {from: h3, to: h1, port: 53, bytes: 3000}}
  - {at: 0s, udp: {from: h3, to: h1, port: 53, count: 5, size: 200}}
  - {at: 1s, udp: {from: h2, to: h1, port: 53, count: 3, size: 1400, ipv6: true}}
  - {at: 0s, sctp: {from: h3, to: h1, port: 80, messages: 2, size: 500}}
  - {at: 2s, tcp: {from: h3, to: h1, bytes: 5000}}
  - {at: 2s, udp: {from: h2, to: h1, count: 3, ipv6: true}}
  - {at: 2s, sctp: {from: h3, to: h1}}
"""


def tshark_verdict(pcap_dir) -> tuple[list[str], set[str]]:
    """Every finding of both checks over a directory of captures, and the protocols seen above transport."""
    files = sorted(str(p) for p in pcap_dir.glob("*.pcapng"))
    found, seen = [], set()
    for path in files:
        app_found, app_seen = app_layers(path)
        found += problems(path, tshark(path)) + app_found
        seen |= app_seen
    return found, seen


def test_every_application_port_gets_real_messages_that_tshark_dissects(tmp_path):
    topo_text = (TOPOLOGY_DIR / "dual-stack.yaml").read_text()
    path = tmp_path / "dual-stack.yaml"
    path.write_text(topo_text[:topo_text.index("traffic:")] + "traffic:" + APP_TRAFFIC)
    run = run_topology(load_topology(str(path)), tmp_path / "pcaps")
    assert all(a.intact for a in run.apps if hasattr(a, "intact"))
    found, seen = tshark_verdict(tmp_path / "pcaps")
    assert found == []
    assert {"http", "dns", "data"} <= seen


def test_a_generated_network_with_traffic_patterns_passes_tshark(tmp_path):
    """A generated router network with patterns of TCP flows to the default port and to port 80 and of
    UDP flows to port 53 (DNS queries, answered) and to the default port."""
    import yaml
    from dataplane.net.generate import routers
    doc = yaml.safe_load(routers(12, seed=3, hosts=4, traffic="{kind: permutation, size: {fixed: 20KB}}"))
    doc["traffic"] += [{"at": "1s", "pattern": {"kind": "random_pairs", "port": 80, "size": {"fixed": "30KB"}}},
                       {"at": "2s", "pattern": {"kind": "all_to_all", "flow": "udp", "port": 53,
                                                "size": {"fixed": "3KB"}}},
                       {"at": "3s", "pattern": {"kind": "permutation", "flow": "udp", "size": {"fixed": "2KB"}}}]
    path = tmp_path / "generated.yaml"
    path.write_text(yaml.safe_dump(doc))
    run = run_topology(load_topology(str(path)), tmp_path / "pcaps")
    assert all(f.done for a in run.apps for f in a.flows)
    found, seen = tshark_verdict(tmp_path / "pcaps")
    assert found == []
    assert {"http", "dns", "data"} <= seen

LOSSY_SACK = """
name: lossy-sack
seed: 1
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
links:
  - {ends: [h1:eth0, h2:eth0], loss: 0.03, latency: 10ms, bandwidth: 100Mbps}
traffic:
  - {tcp: {from: h1, to: h2, bytes: 300000}}
"""
SACK_FIELDS = ["frame.number", "tcp.srcport", "tcp.flags.syn", "tcp.seq_raw", "tcp.len", "tcp.options.sack_perm",
               "tcp.options.sack_le", "tcp.options.sack_re", "_ws.expert.message"]
OUT_OF_ORDER = "This frame is a (suspected) out-of-order segment"


def test_tshark_reads_sack_options_and_flags_nothing_but_the_loss_recovery(tmp_path):
    """A transfer through a link that loses 3% of the frames, with SACK: tshark finds SACK-permitted on the
    SYN and SYN,ACK and the same blocks as our parser on every ACK, nothing malformed, and no warning but
    "out-of-order segment", which its analysis gives a retransmission sent less than a round trip after new
    data (as SACK recovery sends them): each such frame repeats data sent earlier, so it is real recovery."""
    topo = tmp_path / "lossy-sack.yaml"
    topo.write_text(LOSSY_SACK)
    run = run_topology(load_topology(str(topo)), tmp_path / "pcap")
    path = str(run.pcap_dir / "h1-h2.pcapng")
    assert run.apps[0].intact and run.apps[0].client.sack_ok
    out = subprocess.run([TSHARK, "-n", "-r", path, *PREFS, "-o", "tcp.relative_sequence_numbers:FALSE", "-Y", "tcp", "-T",
                          "fields", "-E", "separator=\t", "-E", "occurrence=a", "-E", "aggregator=|"]
                         + [a for f in SACK_FIELDS for a in ("-e", f)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    rows = [dict(zip(SACK_FIELDS, line.split("\t"))) for line in out.stdout.splitlines()]
    ours = [parse_segment(r.data[34:]) for r in read_pcap(path) if r.data[12:14] == b"\x08\x00" and r.data[23] == 6]
    assert len(rows) == len(ours)
    assert [bool(r["tcp.options.sack_perm"]) for r in rows] == [s.sack_permitted for s in ours]
    assert [r["tcp.flags.syn"] for r in rows if r["tcp.options.sack_perm"]] == ["1", "1"]
    blocks = [tuple(zip(map(int, r["tcp.options.sack_le"].split("|")), map(int, r["tcp.options.sack_re"].split("|"))))
              if r["tcp.options.sack_le"] else () for r in rows]
    assert blocks == [s.sack for s in ours] and sum(map(bool, blocks)) > 10
    sent: set[tuple[str, int]] = set()
    out_of_order = 0
    for row in rows:
        key = (row["tcp.srcport"], int(row["tcp.seq_raw"]))
        if OUT_OF_ORDER in row["_ws.expert.message"]:
            assert key in sent, row                              # data sent before: a retransmission
            out_of_order += 1
        if int(row["tcp.len"]):
            sent.add(key)
    found = [f for f in problems(path, tshark(path)) if not f.endswith(OUT_OF_ORDER)]
    assert found == [] and out_of_order > 0

def test_tshark_reads_the_window_scale_and_timestamps_options(tmp_path_factory):
    """RFC 7323's options as Wireshark decodes them: shift 7 on both SYNs, timestamps on every segment, the
    SYN,ACK echoing the SYN's TSval, and the scaled window tshark computes from the handshake."""
    run = shipped_run("line", tmp_path_factory)
    out = subprocess.run([TSHARK, "-n", "-r", str(run.pcap_dir / "h1-r1.pcapng"), "-Y", "tcp", "-T", "fields",
                          "-E", "separator=\t", "-e", "tcp.flags.syn", "-e", "tcp.options.wscale.shift",
                          "-e", "tcp.options.timestamp.tsval", "-e", "tcp.options.timestamp.tsecr",
                          "-e", "tcp.window_size_scalefactor"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = [line.split("\t") for line in out.stdout.splitlines()]
    syns = [r for r in rows if r[0] in ("1", "True")]
    assert [r[1] for r in syns] == ["7", "7"]
    assert syns[1][3] == syns[0][2]                                  # the SYN,ACK echoes the SYN's TSval
    assert all(r[2] for r in rows) and len(rows) > 10
    assert {r[4] for r in rows if r[0] not in ("1", "True")} == {"128"}
