"""`dataplane run | ping | traceroute | generate` on the shipped topologies, as a user types them.

Most tests call `dataplane.cli.main` in this process (the compiled programs
are cached); one runs the installed entry point in a subprocess.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest

from dataplane.net.show import traffic_item

from toplab import STORM, TOPOLOGY_DIR, parse_ping, parse_traceroute, shipped_run
from dataplane.cli import main
from dataplane.locate import shipped_topologies
from dataplane.pcap import read_pcap


def dataplane(capsys, *argv: str) -> tuple[int, str, str]:
    rc = main(list(argv))
    out, err = capsys.readouterr()
    return rc, out, err


# ---------------------------------------------------------------------------- run


def test_run_line_prints_every_application_then_the_summary(capsys, tmp_path_factory):
    rc, out, err = dataplane(capsys, "run", "line", "--no-progress")
    assert (rc, err) == (0, "")
    # The same text as the applications and summary of an in-process run of the same file.
    # Each application's block is labelled with the traffic item that started it.
    run = shipped_run("line", tmp_path_factory)
    labels = [f"### traffic {i}: {traffic_item(t)}\n" for i, t in enumerate(run.net.topo.traffic, 1)]
    assert out == "".join(l + a.render() + "\n\n" for l, a in zip(labels, run.apps)) + run.summary.render() + "\n"
    blocks = out.split("\n\n")
    assert blocks[0].splitlines()[:2] == ["### traffic 1: at 0 s: ping h1 -> h2 (count 2)",
                                          "PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data."]
    assert "traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets" in out
    assert "tcp h1" in out and "delivered 50000 bytes intact" in out
    assert blocks[-1].startswith("three routers in a line: 5 nodes, 4 links; simulated ")
    assert "accounting problem" not in out


def test_run_until_stops_at_that_simulated_time(capsys):
    rc, out, err = dataplane(capsys, "run", "single-switch", "--until", "1500ms")
    assert (rc, err) == (0, "")
    assert "single switch, two hosts: 3 nodes, 2 links; simulated 1.500 s" in out
    # Two of the first ping's three requests have gone and come back; the later applications have not started.
    assert out.count("icmp_seq=") == 2 and "2 packets transmitted, 2 received" in out
    assert "udp on h1: not started, the run stopped first (due at 7.000 s)" in out
    assert "frames on links: 12 sent, 12 arrived, 0 dropped on links, 0 in flight" in out
    rc, out, err = dataplane(capsys, "run", "line", "--until", "soon")
    assert rc == 1 and err.startswith("error: --until: ") and "Traceback" not in err


def test_run_until_before_a_transfer_starts(capsys):
    rc, out, err = dataplane(capsys, "run", "line", "--until", "1500ms")
    assert "internal error" not in err
    assert rc == 0
    assert "tcp on h1: not started, the run stopped first (due at 20.000 s)" in out and "simulated 1.500 s" in out


def test_run_pcap_writes_one_file_per_link(capsys, tmp_path):
    rc, out, err = dataplane(capsys, "run", "line", "--pcap", str(tmp_path))
    assert rc == 0
    assert out.endswith(f"\npcap: 4 files in {tmp_path}\n")
    assert sorted(os.listdir(tmp_path)) == ["h1-r1.pcapng", "r1-r2.pcapng", "r2-r3.pcapng", "r3-h2.pcapng"]
    m = re.search(r"frames on links: (\d+) sent, (\d+) arrived, 0 dropped on links", out)
    counts = {name: len(read_pcap(str(tmp_path / name))) for name in os.listdir(tmp_path)}
    assert all(counts.values()) and sum(counts.values()) == int(m.group(1)) == int(m.group(2))
    # The 1280 link carries nothing bigger.
    assert max(len(r.data) for r in read_pcap(str(tmp_path / "r2-r3.pcapng"))) == 1280 + 14


def test_run_pcap_options_format_links_and_epoch(capsys, tmp_path):
    rc, out, err = dataplane(capsys, "run", "line", "--pcap", str(tmp_path / "a"), "--pcap-format", "pcap",
                             "--links", "r2-r3,h1-r1", "--pcap-epoch", "2026-12-06T09:00:00")
    assert rc == 0 and out.endswith(f"\npcap: 2 files in {tmp_path / 'a'}\n")
    assert sorted(os.listdir(tmp_path / "a")) == ["h1-r1.pcap", "r2-r3.pcap"]
    first = read_pcap(str(tmp_path / "a" / "h1-r1.pcap"))[0]
    assert first.interface is None and first.time_ns // 10 ** 9 == 1_796_547_600      # 2026-12-06 09:00 UTC
    rc, out, err = dataplane(capsys, "run", "line", "--pcap", str(tmp_path / "b"), "--links", "r9-r10")
    assert rc == 1 and err.startswith("error: no link 'r9-r10' to capture; the links are: h1-r1, r1-r2")
    rc, out, err = dataplane(capsys, "run", "line", "--pcap", str(tmp_path / "b"), "--pcap-epoch", "soon")
    assert rc == 1 and "--pcap-epoch: 'soon' is neither a date and time" in err
    rc, out, err = dataplane(capsys, "run", "line", "--links", "r2-r3")
    assert rc == 1 and "give --pcap DIR too" in err


def test_replay_of_a_link_capture_takes_one_end(capsys, tmp_path):
    # A pcapng of a link holds both directions; replay wants the end whose packets enter the port.
    assert dataplane(capsys, "run", "single-switch", "--pcap", str(tmp_path))[0] == 0
    capture = tmp_path / "h1-s1.pcapng"
    program = str(TOPOLOGY_DIR.parent / "programs" / "basic_ipv4.p4")
    rc, out, err = dataplane(capsys, "replay", program, "-i", f"1={capture}", "--out-dir", str(tmp_path / "o"))
    assert rc == 1 and f"choose the end whose packets enter port 1: -i 1={capture}@h1:eth0" in err
    rc, out, err = dataplane(capsys, "replay", program, "-i", f"1={capture}@h1:eth0", "--out-dir", str(tmp_path / "o"))
    sent_by_h1 = [r for r in read_pcap(str(capture)) if r.interface == "h1:eth0"]
    assert rc == 0 and out.startswith(f"replay: {len(sent_by_h1)} packets in;")


def test_run_a_topology_file_by_path(capsys, tmp_path):
    path = tmp_path / "mine.yaml"
    path.write_text((TOPOLOGY_DIR / "single-switch.yaml").read_text().replace("count: 3", "count: 1"))
    rc, out, err = dataplane(capsys, "run", str(path))
    assert rc == 0 and out.count("icmp_seq=") == 1 + 2


# ---------------------------------------------------------------------------- ping


def test_ping_prints_like_iputils(capsys):
    rc, out, err = dataplane(capsys, "ping", "line", "h1", "h2", "-c", "2")
    assert (rc, err) == (0, "")
    lines = out.rstrip("\n").split("\n")
    assert lines[0] == "PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data."
    assert re.fullmatch(r"64 bytes from 10\.0\.2\.2: icmp_seq=1 ttl=61 time=\d+\.\d+ ms", lines[1])
    assert re.fullmatch(r"64 bytes from 10\.0\.2\.2: icmp_seq=2 ttl=61 time=\d+\.\d+ ms", lines[2])
    assert lines[3:5] == ["", "--- 10.0.2.2 ping statistics ---"]
    assert lines[5] == "2 packets transmitted, 2 received, 0% packet loss, time 1000ms"
    assert re.fullmatch(r"rtt min/avg/max/mdev = [\d.]+/[\d.]+/[\d.]+/[\d.]+ ms", lines[6]) and len(lines) == 7
    # The first reply waited for ARP at every hop: about 12 ms; the second about 8 ms (1 ms a link each way).
    rep = parse_ping(out.rstrip("\n"))
    assert [round(r[4]) for r in rep.replies] == [12, 8]


def test_ping_ipv6(capsys):
    rc, out, err = dataplane(capsys, "ping", "line", "h1", "h2", "-6", "-c", "1")
    assert rc == 0
    rep = parse_ping(out.rstrip("\n"))
    assert out.startswith("PING 2001:db8:2::2(2001:db8:2::2) 56 data bytes\n")
    assert [(r[0], r[1], r[2], r[3]) for r in rep.replies] == [(64, "2001:db8:2::2", 1, 61)]


def test_ping_large_and_with_df(capsys):
    rc, out, err = dataplane(capsys, "ping", "line", "h1", "h2", "-s", "2000", "-c", "1")
    assert rc == 0 and "2008 bytes from 10.0.2.2: icmp_seq=1 ttl=61" in out
    rc, out, err = dataplane(capsys, "ping", "line", "h1", "h2", "-s", "1400", "--df", "-c", "2")
    assert rc == 1                                          # no reply: ping's status
    assert "From 10.0.12.2 icmp_seq=1 Frag needed and DF set (mtu = 1280)\n" \
           "ping: local error: message too long, mtu=1280\n" in out
    assert "2 packets transmitted, 0 received, +2 errors, 100% packet loss" in out
    rc, out, err = dataplane(capsys, "ping", "line", "h1", "h2", "-s", "1400", "-6", "-c", "3")
    assert rc == 0 and "From 2001:db8:12::2 icmp_seq=1 Packet too big: mtu=1280" in out
    assert "1408 bytes from 2001:db8:2::2: icmp_seq=3 ttl=61" in out


def test_ping_ttl_and_interval(capsys):
    rc, out, err = dataplane(capsys, "ping", "line", "h1", "h2", "-t", "2", "-c", "1")
    assert rc == 1 and "From 10.0.12.2 icmp_seq=1 Time to live exceeded" in out
    rc, out, err = dataplane(capsys, "ping", "line", "h1", "h2", "-c", "3", "-i", "0.2")
    assert rc == 0 and "3 packets transmitted, 3 received, 0% packet loss, time 400ms" in out


# ---------------------------------------------------------------------------- traceroute


def test_traceroute_prints_each_hop(capsys):
    rc, out, err = dataplane(capsys, "traceroute", "line", "h1", "h2")
    assert (rc, err) == (0, "")
    tr = parse_traceroute(out.rstrip("\n"))
    assert out.startswith("traceroute to 10.0.2.2 (10.0.2.2), 30 hops max, 60 byte packets\n")
    assert [(n, a, len(t)) for _, n, a, t in tr.hops] == [("r1", "10.0.1.254", 3), ("r2", "10.0.12.2", 3),
                                                          ("r3", "10.0.23.2", 3), ("h2", "10.0.2.2", 3)]
    assert re.search(r"^ 1  r1 \(10\.0\.1\.254\)  \d+\.\d{3} ms  \d+\.\d{3} ms  \d+\.\d{3} ms$", out, re.M)


def test_traceroute_ipv6_with_options(capsys):
    rc, out, err = dataplane(capsys, "traceroute", "line", "h1", "h2", "-6", "-q", "1")
    assert rc == 0
    tr = parse_traceroute(out.rstrip("\n"))
    assert tr.packet_size == 80
    assert [(n, a, len(t)) for _, n, a, t in tr.hops] == [("r1", "2001:db8:1::fe", 1), ("r2", "2001:db8:12::2", 1),
                                                          ("r3", "2001:db8:23::2", 1), ("h2", "2001:db8:2::2", 1)]
    rc, out, err = dataplane(capsys, "traceroute", "line", "h1", "h2", "-m", "2")
    tr = parse_traceroute(out.rstrip("\n"))
    assert tr.max_hops == 2 and [n for _, n, _, _ in tr.hops] == ["r1", "r2"]


# ---------------------------------------------------------------------------- --trace


def test_trace_shows_every_hop_of_a_ping(capsys):
    pytest.importorskip("dataplane.net.tracing")
    rc, out, err = dataplane(capsys, "ping", "line", "h1", "h2", "-c", "1", "--trace")
    assert rc == 0
    trace, _, ping = out.rpartition("--- 10.0.2.2 ping statistics ---")
    assert "1 received" in ping
    # The ping's own lines are among the packets, at their times: the reply after the frame that brought it.
    assert re.search(r"^\[ +0\.000 ms\] h1 ping: PING 10\.0\.2\.2 ", trace, re.M)
    reply_frame = re.search(r"^\[[ \d.]+ ms\] h1 eth0 <- r1: .*ICMP echo reply", trace, re.M)
    reply_line = re.search(r"^\[[ \d.]+ ms\] h1 ping: 64 bytes from 10\.0\.2\.2: icmp_seq=1", trace, re.M)
    assert reply_frame and reply_line and reply_frame.start() < reply_line.start()
    assert "icmp_seq=1" not in ping
    # Each router receives the request and decrements its TTL once: 64 -> 63 -> 62 -> 61.
    for router, port, (old, new) in (("r1", 1, (64, 63)), ("r2", 1, (63, 62)), ("r3", 1, (62, 61))):
        assert re.search(rf"^\[[ \d.]+ ms\] {router} port {port} \(eth1\) <- ", trace, re.M), router
        assert f"ipv4.ttl {old} -> {new}" in trace
    assert re.search(r"^\[[ \d.]+ ms\] h2 eth0 <- r3: .*ICMP echo request", trace, re.M)
    assert re.search(r"^\[[ \d.]+ ms\] h1 eth0 <- r1: .*ICMP echo reply", trace, re.M)


# ---------------------------------------------------------------------------- errors


@pytest.mark.parametrize("argv, message", [
    (["ping", "line", "h9", "h2"], "error: 'h9' is not a host of three routers in a line (hosts: h1, h2)"),
    (["ping", "line", "r1", "h2"], "error: 'r1' is not a host of three routers in a line (hosts: h1, h2)"),
    (["traceroute", "line", "h1", "nowhere"], "error: no node or address 'nowhere'"),
    (["ping", "dual-stack", "h1", "h2"], "error: 'h2' has no IPv4 address"),
    (["ping", "dual-stack", "h1", "h3", "-6"], "error: 'h3' has no IPv6 address"),
    (["ping", "line", "h1", "2001:db8:2::2"], "error: 2001:db8:2::2 is not an IPv4 address"),
    (["ping", "line", "h1", "h2", "-c", "0"], "error: ping: -c must be at least 1"),
    (["run", "nosuch"], "error: no topology 'nosuch': not a file, nor one we ship (" +
     ", ".join(shipped_topologies()) + ")"),
])
def test_user_errors_are_one_line_and_status_1(capsys, argv, message):
    rc, out, err = dataplane(capsys, *argv)
    assert rc == 1
    assert err.split("\n")[0].startswith(message), err
    assert "Traceback" not in err and "internal error" not in err and out == ""


def test_a_topology_with_an_error_is_reported_at_its_line(capsys, tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text((TOPOLOGY_DIR / "lan.yaml").read_text().replace("kind: switch", "kind: swtich"))
    rc, out, err = dataplane(capsys, "run", str(path))
    line = next(i for i, l in enumerate(path.read_text().split("\n"), 1) if "swtich" in l)
    assert rc == 1 and re.match(rf"{re.escape(str(path))}:{line}:\d+: error: node 's1' needs a kind", err), err


# ---------------------------------------------------------------------------- generate


@pytest.mark.parametrize("argv, shipped", [(["generate", "fat-tree", "-k", "4"], "fat-tree.yaml"),
                                           (["generate", "routers", "-n", "500"], "routers-500.yaml")])
def test_the_shipped_generated_topologies_are_what_generate_prints(capsys, argv, shipped):
    rc, out, err = dataplane(capsys, *argv)
    assert (rc, err) == (0, "")
    assert out == (TOPOLOGY_DIR / shipped).read_text()


def test_generate_refuses_bad_sizes(capsys):
    rc, out, err = dataplane(capsys, "generate", "fat-tree", "-k", "3")
    assert rc == 1 and err.startswith("error: k must be an even number of at least 2")
    rc, out, err = dataplane(capsys, "generate", "routers", "-n", "2")
    assert rc == 1 and err.startswith("error: at least 3 routers")


def test_a_generated_topology_runs(capsys, tmp_path):
    rc, out, err = dataplane(capsys, "generate", "routers", "-n", "12", "--seed", "3", "--hosts", "2")
    assert rc == 0
    path = tmp_path / "small.yaml"
    path.write_text(out)
    rc, out, err = dataplane(capsys, "run", str(path))
    assert rc == 0 and "3 packets transmitted, 3 received" in out and "12 routers: 14 nodes, " in out


# ---------------------------------------------------------------------------- progress



def test_progress_line_on_stderr_and_the_storm_limit_in_the_summary(capsys, tmp_path):
    path = tmp_path / "loop.yaml"
    path.write_text(STORM)
    rc, out, err = dataplane(capsys, "run", str(path), "--progress")
    assert rc == 0
    # One line, rewritten in place with \r, ended by a newline.
    assert re.match(r"^\r\[ +\d+\.\d{3} s simulated\] \d+ events, \d+ frames, \d+\.\d s", err), repr(err)
    assert err.endswith("\n") and err.count("\n") == 1
    assert "stopped: stopped after 20000 frames on links (a forwarding loop or a storm); raise the limit with " \
           "max_frames" in out
    rc, out, err = dataplane(capsys, "run", str(path), "--no-progress")
    assert err == ""
    rc, out, err = dataplane(capsys, "run", str(path))             # stderr is not a terminal here
    assert err == ""


# ---------------------------------------------------------------------------- the installed command


def test_the_dataplane_command_in_a_subprocess():
    out = subprocess.run([sys.executable, "-m", "dataplane", "ping", "single-switch", "h1", "h2", "-c", "1"],
                         capture_output=True, text=True, timeout=120, cwd="/")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data.\n64 bytes from 10.0.0.2: "
                                 "icmp_seq=1 ttl=64 time=")
    assert out.stderr == ""
