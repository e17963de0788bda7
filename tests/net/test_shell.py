"""`dataplane cli TOPO`: Mininet's and simple_switch_CLI's words over a simulation, through the Python
API of the shell, through scripts on standard input, and once under tmux as a person types."""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dataplane.cli import main
from dataplane.net.network import PCAP_EPOCH_NS, Network
from dataplane.net.shell import HOST_COMMANDS, PROMPT, Shell, run_script
from dataplane.net.topology import load_topology

ROOT = Path(__file__).resolve().parents[2]
LPM = "MyIngress.ipv4_lpm"


def shell_for(name: str, **options) -> tuple[Shell, io.StringIO]:
    out = io.StringIO()
    return Shell(Network(load_topology(name), **options), stdout=out), out


def run(shell: Shell, out: io.StringIO, line: str, ok: bool = True) -> str:
    """Run one command; return what it printed."""
    start = len(out.getvalue())
    assert shell.run_line(line) is ok, out.getvalue()[start:]
    return out.getvalue()[start:]


@pytest.fixture
def basic():
    return shell_for("basic-v1model")


@pytest.fixture
def lan():
    return shell_for("single-switch")


# ---------------------------------------------------------------------------- Mininet's words


def test_looking_at_the_network(basic):
    shell, out = basic
    assert run(shell, out, "nodes") == "available nodes are: \nh1 h2 h3 s1 s2 s3\n"
    net = run(shell, out, "net").splitlines()
    assert net[0] == "h1 h1-eth0:s1-p1"
    assert net[3] == "s1 s1-p1:h1-eth0 s1-p2:s2-p2 s1-p3:s3-p2"
    assert run(shell, out, "links").splitlines()[3] == "s1-p2<->s2-p2 (OK OK)"
    dump = run(shell, out, "dump").splitlines()
    assert dump[0] == "<Host h1: h1-eth0:10.0.1.1>"
    assert dump[3] == "<P4Switch s1: s1-p1:None,s1-p2:None,s1-p3:None program=basic_ipv4.p4>"
    assert run(shell, out, "intfs").splitlines()[3] == "s1: s1-p1,s1-p2,s1-p3"
    # Looking costs no simulated time.
    assert run(shell, out, "time") == "simulated time 0 s\n"


def test_pingall_and_ping_run_the_simulation_until_done(basic):
    shell, out = basic
    text = run(shell, out, "pingall")
    assert "h1 -> h2 h3\n" in text and "*** Results: 0% dropped (6/6 received)" in text
    after_pingall = shell.net.sim.now_ns
    assert 0 < after_pingall < 100_000_000                 # one ping after another, no waiting
    text = run(shell, out, "h1 ping -c 3 h2")
    assert text.count("bytes from 10.0.2.2: icmp_seq=") == 3
    assert "3 packets transmitted, 3 received, 0% packet loss" in text
    # The third reply came about 2 s after the first request: the ping returned then, not after a timeout.
    assert 2_000_000_000 < shell.net.sim.now_ns - after_pingall < 2_100_000_000
    assert re.search(r"\*\*\* simulated time 2\.\d+ s \(\+2\.\d+ ms\)|\*\*\* simulated time 2\.\d+ s \(\+2\.\d+ s\)",
                     text)
    assert "1 received" in run(shell, out, "h1 ping -c 1 10.0.3.3")     # an address instead of a name


def test_ping_over_ipv6_by_name_option_and_address(lan):
    shell, out = lan
    assert "PING 2001:db8::2(2001:db8::2)" in run(shell, out, "h1 ping6 -c 1 h2")
    assert "1 received" in run(shell, out, "h1 ping -6 -c 1 h2")
    assert "64 bytes from 2001:db8::1" in run(shell, out, "h2 ping -c 1 2001:db8::1")


def test_traceroute_through_routers():
    shell, out = shell_for("line")
    text = run(shell, out, "h1 traceroute h2")
    hops = [line for line in text.splitlines() if re.match(r"\s*\d+ ", line)]
    assert len(hops) == 4 and "h2 (10.0.2.2)" in hops[-1]
    assert "traceroute to 2001:db8:2::2" in run(shell, out, "h1 traceroute6 h2")


def test_tcp_udp_and_sctp_print_their_reports(lan):
    shell, out = lan
    text = run(shell, out, "h1 tcp h2 80 50000")
    assert "tcp h1 10.0.0.1:" in text and "-> 10.0.0.2:80, 50000 bytes" in text
    assert "delivered 50000 bytes intact" in text
    # Back at the prompt when the transfer is over, not after the client's TIME-WAIT.
    assert shell.net.sim.now_ns < 1_000_000_000
    text = run(shell, out, "h1 udp h2 9000 5 100")
    assert "5 datagrams of 100 bytes sent, 5 received, 0 lost" in text
    assert "delivered 3 of 3 messages intact" in run(shell, out, "h1 sctp h2")
    assert "delivered 2000 bytes intact" in run(shell, out, "h2 tcp h1 22 2000 -6")


def test_a_link_taken_down_drops_what_is_sent_on_it(basic):
    shell, out = basic
    assert run(shell, out, "link s1 s3 down") == "*** link s1-s3 down\n"
    assert "(DOWN DOWN)" in run(shell, out, "links")
    assert "1 packets transmitted, 0 received, 100% packet loss" in run(shell, out, "h1 ping -c 1 h3")
    summary = run(shell, out, "summary")
    assert "link down 1" in summary
    assert "accounting problem" not in summary
    drop = next(d for d in shell.net.sim.ledger.drops if d.reason.name == "LINK_DOWN")
    assert (drop.node, drop.detail) == ("s1", "link s1-s3 is down")
    run(shell, out, "link s3 s1 up")
    assert "1 received" in run(shell, out, "h1 ping -c 1 h3")


def test_wait_and_sleep_move_simulated_time(lan):
    shell, out = lan
    assert run(shell, out, "wait 2s") == "*** simulated time 2 s (+2 s)\n"
    assert run(shell, out, "sleep 1.5") == "*** simulated time 3.5 s (+1.5 s)\n"
    assert run(shell, out, "wait 250ms").startswith("*** simulated time 3.75 s")
    assert shell.net.sim.now_ns == 3_750_000_000


# ---------------------------------------------------------------------------- simple_switch_CLI's words


def test_table_commands_change_what_the_network_does(basic):
    shell, out = basic
    dump = run(shell, out, f"s1 table_dump {LPM}")
    assert "* hdr.ipv4.dstAddr: LPM       0a000303/32" in dump
    assert run(shell, out, "s1 table_num_entries ipv4_lpm") == "3\n"
    run(shell, out, f"s1 table_delete {LPM} 2")
    assert "100% packet loss" in run(shell, out, "h1 ping -c 1 h3")
    text = run(shell, out, f"s1 table_add {LPM} ipv4_forward 10.0.3.3/32 => 08:00:00:00:03:00 3")
    assert text == f"Adding entry to lpm match table {LPM}\nEntry has been added with handle 3\n"
    assert "0% packet loss" in run(shell, out, "h1 ping -c 1 h3")
    assert "MyIngress.ipv4_forward         [dstAddr(48), port(9)]" in run(shell, out, "s1 show_actions")


def test_errors_print_one_line_and_the_session_goes_on(basic):
    shell, out = basic
    cases = {
        "foo": "*** unknown command: foo\n",
        f"s1 table_add {LPM} ipv4_forward 10.0.1.1/32 => 08:00:00:00:01:11 1":
            f"Invalid table operation (DUPLICATE_ENTRY): table '{LPM}' already has an entry with this key "
            f"(handle 0)\n",
        "s1 table_dump nosuch": "Error: Invalid table name (nosuch): no table named 'nosuch' (the tables are: "
                                f"{LPM})\n",
        "s1 frob": "*** unknown command for device s1: frob (type 'help' for simple_switch_CLI's commands)\n",
        "h1 frob": "*** unknown command for host h1: frob (its commands: "
                   f"{', '.join(sorted(HOST_COMMANDS))})\n",
        "h1 ping h9": "*** no node or address 'h9'\n",
        "h1 ping -c x h2": "*** ping: argument -c: invalid int value: 'x' (usage: "
                           f"{HOST_COMMANDS['ping'].usage})\n",
        "link s1 s9 down": "*** no node 's9' in basic v1model program\n",
        "link h1 h2 down": "*** no link between h1 and h2\n",
        "wait soon": "*** wait: 'soon' is not a duration such as 1ms, 250us or 2s\n",
        "trace on zzz": "*** trace filter term 'zzz' is not a node (h1, h2, h3, s1, s2, s3), a protocol (arp, ipv4, "
                        "ipv6, icmp, icmpv6, tcp, udp, sctp, nd, fragment), a flow (h1>h2, 10.0.1.1<>10.0.2.2), "
                        "'port N' or a packet number (#12)\n",
        "h1 ping 'unclosed": "*** cannot read the command: No closing quotation\n",
        "help frob": "*** no help on 'frob': not a command\n",
    }
    for line, expected in cases.items():
        assert run(shell, out, line, ok=False) == expected, line
    assert shell.failures == len(cases)
    assert "1 received" in run(shell, out, "h1 ping -c 1 h2")


def test_help(basic):
    shell, out = basic
    text = run(shell, out, "help")
    for word in ("pingall", "link NODE1 NODE2 up|down", "h1 ping", "h1 tcp", "table_add", "counter_read"):
        assert word in text
    assert run(shell, out, "help table_add") == ("s1 table_add <table> <action> <match fields> => <action "
                                                 "parameters> [<priority>]: add an entry (match fields: v, "
                                                 "v/len, v&&&mask, lo->hi; the smaller priority wins)\n")
    assert run(shell, out, "help ping").startswith("h1 ping [-c COUNT]")
    assert run(shell, out, "help link") == ("link NODE1 NODE2 up|down: take the link(s) between two nodes down, "
                                            "or up again\n")


def test_send_builds_a_frame_from_the_programs_headers_and_shows_what_hosts_received(basic):
    shell, out = basic
    text = run(shell, out, "h1 send '{ipv4: {dstAddr: 10.0.2.2, ttl: 9}}' --payload hello")
    assert "1 frame of" in text and "ipv4(" in text
    [line] = [l for l in text.splitlines() if l.startswith("h2 received from port 1 at ")]
    assert "dstAddr=10.0.2.2" in line and "ttl=7" in line and "hello" in line   # s1 and s2 lowered the TTL
    assert "h1 send" in HOST_COMMANDS["send"].usage
    assert "no field 'ttll'" in run(shell, out, "h1 send '{ipv4: {ttll: 1}}'", ok=False)
    unquoted = run(shell, out, "h1 send {ipv4: {dstAddr: 10.0.2.2}} --payload hi")      # several words
    assert "h2 received from port 1" in unquoted and '"hi"' in unquoted
    assert "not both" in run(shell, out, "h1 send '{ipv4: {}}' --hex 00", ok=False)
    assert "not valid YAML" in run(shell, out, "h1 send '{ipv4: ['", ok=False)


def test_host_commands_are_a_table():
    # The lead adds `send` as one entry: every entry has a usage that starts with the host and the word.
    for word, command in HOST_COMMANDS.items():
        assert command.usage.startswith(f"h1 {word}") and callable(command.run) and command.summary


# ---------------------------------------------------------------------------- traces and captures


def test_trace_shows_what_the_next_commands_do(lan):
    shell, out = lan
    assert run(shell, out, "trace on icmp") == ("*** tracing on (icmp): each command shows its packets hop by "
                                                "hop\n")
    text = run(shell, out, "h1 ping -c 1 h2")
    trace_lines = text[:text.index("--- ")]
    assert "table MyIngress.dmac: hit" in trace_lines and "ICMP echo reply" in trace_lines
    assert text.count("icmp_seq=1") == 1          # the reply's line among the packets, not again after them
    assert "ARP" not in trace_lines and "arp" not in trace_lines.lower().replace("parsed", "")
    run(shell, out, "trace off")
    text = run(shell, out, "h1 ping -c 1 h2")
    assert text.startswith("PING ")
    assert all(not d.trace for d in shell.net.devices.values())


def test_pcap_writes_what_follows(lan, tmp_path):
    from dataplane.pcap import read_pcap
    shell, out = lan
    run(shell, out, "h1 ping -c 1 h2")
    started = shell.net.sim.now_ns
    assert run(shell, out, f"pcap {tmp_path}") == f"*** writing pcapng captures of 2 links into {tmp_path}\n"
    run(shell, out, "h1 ping -c 2 h2")
    assert run(shell, out, f"pcap {tmp_path}", ok=False).startswith("*** pcap: captures are already being")
    shell.net.close()
    frames = read_pcap(str(tmp_path / "h1-s1.pcapng"))
    assert len(frames) == 4                 # two requests, two replies; the first ping was before
    assert frames[0].time_ns - PCAP_EPOCH_NS >= started     # stamped with the simulated time of sending


# ---------------------------------------------------------------------------- completion


def test_completion_of_commands_nodes_tables_and_actions(basic):
    shell, _ = basic
    assert shell.completenames("pi") == ["pingall"]
    assert shell.completenames("s") == ["sleep", "summary", "s1", "s2", "s3"]
    assert shell.completedefault("pi", "h1 pi", 3, 5) == ["ping", "ping6"]
    assert shell.completedefault("h", "h1 ping -c 1 h", 13, 14) == ["h1", "h2", "h3"]
    assert shell.completedefault("table_d", "s1 table_d", 3, 10) == ["table_delete", "table_dump",
                                                                     "table_dump_entry"]
    assert shell.completedefault("", "s1 table_dump ", 14, 14) == [LPM]
    assert shell.completedefault("ipv", "s1 table_dump ipv", 14, 17) == ["ipv4_lpm"]
    assert shell.completedefault("", f"s1 table_add {LPM} ", 27, 27) == ["MyIngress.drop", "MyIngress.ipv4_forward"]
    assert shell.complete_link("", "link s1 s2 ", 11, 11) == ["up", "down"]
    assert shell.complete_trace("o", "trace o", 6, 7) == ["on", "off"]


# ---------------------------------------------------------------------------- scripts


def test_a_script_echoes_each_command_and_fails_if_one_did(basic):
    shell, out = basic
    rc = run_script(shell, ["nodes", "# a comment", "h1 ping -c 1 h2", "bogus", "exit", "nodes"])
    text = out.getvalue()
    assert rc == 1
    assert text.startswith(f"{PROMPT}nodes\navailable nodes are: \n")
    assert f"{PROMPT}# a comment\n{PROMPT}h1 ping -c 1 h2\nPING 10.0.2.2" in text
    assert f"{PROMPT}bogus\n*** unknown command: bogus\n{PROMPT}exit\n" in text
    assert text.count("available nodes are") == 1          # nothing runs after exit


def test_the_command_line_with_c_and_script(capsys, tmp_path):
    assert main(["cli", "single-switch", "-c", "nodes; h1 ping -c 1 h2"]) == 0
    out = capsys.readouterr().out
    assert f"{PROMPT}nodes\navailable nodes are: \nh1 h2 s1\n{PROMPT}h1 ping -c 1 h2\n" in out
    script = tmp_path / "lesson.txt"
    script.write_text("pingall\ns1 table_dump nosuch\n")
    assert main(["cli", "single-switch", "--script", str(script)]) == 1
    out = capsys.readouterr().out
    assert "*** Results: 0% dropped (2/2 received)" in out and "Error: Invalid table name (nosuch)" in out
    assert main(["cli", "single-switch", "--script", str(tmp_path / "missing.txt")]) == 1
    assert "--script: cannot read" in capsys.readouterr().err


def test_trace_from_the_start_with_the_run_option(capsys):
    assert main(["cli", "single-switch", "--trace", "-c", "h1 ping -c 1 h2; trace off; h1 ping -c 1 h2"]) == 0
    out = capsys.readouterr().out
    first, second = out.split(f"{PROMPT}trace off")
    assert "table MyIngress.dmac" in first and first.index("table MyIngress.dmac") < first.index("--- ")
    assert "table MyIngress" not in second


def test_standard_input_runs_as_a_script_in_a_subprocess():
    script = "nodes\nh1 ping -c 1 h2\ns1 table_add nosuch x 1 =>\nh2 ping -c 1 h1\n"
    done = subprocess.run([sys.executable, "-m", "dataplane", "cli", "single-switch"], input=script,
                          capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 1, done.stderr
    assert done.stderr == ""
    assert f"{PROMPT}s1 table_add nosuch x 1 =>\nError: Invalid table name (nosuch)" in done.stdout
    assert done.stdout.count("1 received") == 2           # the error did not end the session
    ok = subprocess.run([sys.executable, "-m", "dataplane", "cli", "single-switch"], input="pingall\n",
                        capture_output=True, text=True, timeout=120, cwd=ROOT)
    assert ok.returncode == 0 and "Traceback" not in ok.stderr


# ---------------------------------------------------------------------------- as a person types


def _wait_for(session: str, text: str, timeout_s: float = 60.0) -> str:
    """The pane's text once it shows `text` (polled; fails after timeout_s)."""
    deadline = time.monotonic() + timeout_s
    pane = ""
    while time.monotonic() < deadline:
        pane = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True,
                              timeout=10).stdout
        if text in pane:
            return pane
        time.sleep(0.2)
    raise AssertionError(f"the pane never showed {text!r}:\n{pane}")


@pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed")
def test_an_interactive_session_under_tmux(tmp_path):
    session = f"dataplane-shell-test-{os.getpid()}"
    history = tmp_path / "history"
    command = (f"cd {ROOT} && DATAPLANE_HISTORY={history} {sys.executable} -m dataplane cli basic-v1model; "
               f"echo SESSION-ENDED; sleep 30")
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "200", "-y", "50", command], check=True,
                   timeout=10)
    try:
        _wait_for(session, "type 'help' for the commands")
        keys = lambda *k: subprocess.run(["tmux", "send-keys", "-t", session, "--", *k], check=True, timeout=10)
        # Tab completes the command word (ping and ping6 share "ping") and the table name.
        keys("h1 pi", "Tab")
        _wait_for(session, f"{PROMPT}h1 ping")
        keys(" -c 2 h3", "Enter")
        pane = _wait_for(session, "2 packets transmitted, 2 received")
        assert "icmp_seq=2" in pane
        keys("s1 table_dump MyIn", "Tab")
        _wait_for(session, f"{PROMPT}s1 table_dump {LPM}")
        keys("Enter")
        _wait_for(session, "Dumping default entry")
        keys("bogus", "Enter")
        _wait_for(session, "*** unknown command: bogus")
        keys("Up", "Up", "Enter")          # history: the table_dump again
        pane = _wait_for(session, "unknown command: bogus")
        deadline = time.monotonic() + 30
        while pane.count("Dumping default entry") < 2 and time.monotonic() < deadline:
            time.sleep(0.2)
            pane = _wait_for(session, "Dumping default entry")
        assert pane.count("Dumping default entry") == 2
        keys("exit", "Enter")
        _wait_for(session, "SESSION-ENDED")
        assert "table_dump" in history.read_text()
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True, timeout=10)
