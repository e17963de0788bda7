"""The --trace view: hop-by-hop records of a run, with changed fields, tables, new packets and drops."""

from __future__ import annotations

import re

import pytest

from dataplane.net.apps import Ping, UdpFlow
from dataplane.net.network import Network
from dataplane.net.topology import load_topology_text
from dataplane.net.tracing import Tracer, checksum_problems, field_changes, pipeline_lines, table_line
from dataplane.protocols import packets as P
from dataplane.protocols.dissect import dissect
from dataplane.runtime.trace import ActionRun, ProfileSelect, TableApply

# h1 - r1 - r2 - h2; the middle link has a small MTU, so r1 fragments what h1 sends at 1500.
H1_MAC, R1_1_MAC, R1_2_MAC = "02:00:00:00:01:01", "02:00:00:00:0a:01", "02:00:00:00:0a:02"
R2_1_MAC, R2_2_MAC, H2_MAC = "02:00:00:00:0b:01", "02:00:00:00:0b:02", "02:00:00:00:02:02"

TOPOLOGY = f"""
name: two routers
defaults:
  link: {{latency: 1ms, bandwidth: 100Mbps}}
nodes:
  h1:
    kind: host
    interfaces:
      eth0: {{mac: "{H1_MAC}", ipv4: 10.0.1.1/24, ipv6: "2001:db8:1::1/64"}}
  r1:
    kind: router
    program: dual_stack_router
    interfaces:
      eth1: {{mac: "{R1_1_MAC}", ipv4: 10.0.1.254/24, ipv6: "2001:db8:1::fe/64"}}
      eth2: {{mac: "{R1_2_MAC}", ipv4: 10.0.12.1/30, ipv6: "2001:db8:12::1/64"}}
  r2:
    kind: router
    program: dual_stack_router
    interfaces:
      eth1: {{mac: "{R2_1_MAC}", ipv4: 10.0.12.2/30, ipv6: "2001:db8:12::2/64"}}
      eth2: {{mac: "{R2_2_MAC}", ipv4: 10.0.2.254/24, ipv6: "2001:db8:2::fe/64"}}
  h2:
    kind: host
    interfaces:
      eth0: {{mac: "{H2_MAC}", ipv4: 10.0.2.2/24, ipv6: "2001:db8:2::2/64"}}
links:
  - {{ends: [h1:eth0, r1:eth1]{{first_link}}}}
  - {{ends: [r1:eth2, r2:eth1], mtu: 1280{{middle_link}}}}
  - [r2:eth2, h2:eth0]
"""


def network(first_link: str = "", middle_link: str = "", trace: bool = True) -> tuple[Network, Tracer]:
    text = TOPOLOGY.replace("{first_link}", first_link).replace("{middle_link}", middle_link)
    net = Network(load_topology_text(text), trace=trace)
    return net, Tracer(net)


def records(text: str) -> list[str]:
    """The rendered records: each starts with its time stamp and runs until the next one."""
    return [r for r in re.split(r"(?m)^(?=\[ *\d+\.\d{3} ms\] )", text) if r]


def record(text: str, head: str, containing: str = "") -> int:
    """The index of the first record whose first line, past the time, starts with `head`."""
    for i, r in enumerate(records(text)):
        if r.split("] ", 1)[1].startswith(head) and containing in r:
            return i
    raise AssertionError(f"no record '{head}' with '{containing}' in:\n{text}")


def ping(**kw) -> tuple[Network, Tracer, str]:
    net, tracer = network()
    Ping(net, "h1", "h2", count=1, **kw).start(0)
    net.run()
    return net, tracer, tracer.render()


# ---------------------------------------------------------------------------- a ping across two routers


def test_ping_shows_each_router_rewriting_the_packet():
    _, _, text = ping()
    recs = records(text)
    at_r1 = record(text, "r1 port 1 (eth1) <- h1: ", "echo request")
    at_r2 = record(text, "r2 port 1 (eth1) <- r1: ", "echo request")
    r1, r2 = recs[at_r1], recs[at_r2]
    assert at_r1 < at_r2
    assert f"table MyIngress.ipv4_lpm: hit 10.0.2.0/24 -> forward({R2_1_MAC}, 2)" in r1
    assert "table MyIngress.local_addresses: miss 10.0.2.2 -> default NoAction()" in r1
    assert "-> port 2 (eth2 to r2): " in r1
    assert f"ethernet.dstAddr {R1_1_MAC} -> {R2_1_MAC}" in r1
    assert f"ethernet.srcAddr {H1_MAC} -> {R1_2_MAC}" in r1
    assert "ipv4.ttl 64 -> 63" in r1 and "ipv4.ttl 63 -> 62" not in r1
    assert "ipv4.ttl 63 -> 62" in r2
    assert f"forward({H2_MAC}, 2)" in r2
    # Only the fields that changed are listed; TTL down by one raises the checksum by 0x0100.
    old, new = (int(v, 16) for v in re.search(r"ipv4\.hdrChecksum 0x(\w+) -> 0x(\w+)", r1).groups())
    assert new == old + 0x100
    assert "ipv4.srcAddr" not in r1 and "icmp." not in r1 and "is wrong" not in r1


def test_ping_shows_the_echo_reply_coming_back():
    _, _, text = ping()
    request_at_h2 = record(text, "h2 eth0 <- r2: ", "echo request id")
    reply_from_h2 = record(text, "h2 eth0 -> r2: ", "echo reply")
    reply_at_r1 = record(text, "r1 port 2 (eth2) <- r2: ", "echo reply")
    reply_at_h1 = record(text, "h1 eth0 <- r1: ", "echo reply")
    assert request_at_h2 < reply_from_h2 < reply_at_r1 < reply_at_h1
    recs = records(text)
    assert "delivered" in recs[request_at_h2] and "delivered" in recs[reply_at_h1]
    assert "IP 10.0.2.2 > 10.0.1.1 ttl 62" in recs[reply_at_h1]
    assert "ipv4.ttl 63 -> 62" in recs[reply_at_r1]


def test_host_events_and_arp_appear_in_time_order():
    _, _, text = ping()
    who_has = record(text, "h1: ARP who-has 10.0.1.254")
    sent = record(text, "h1 eth0 -> r1: ", "ARP who-has")
    answered = record(text, "r1 port 1 (eth1) <- h1: ", "ARP who-has")
    assert who_has < sent < answered
    r1 = records(text)[answered]
    assert "to the agent (CPU port)" in r1
    assert re.search(rf"new: #\d+ {R1_1_MAC} > {H1_MAC}, ARP reply 10.0.1.254 is-at {R1_1_MAC}", r1)
    assert "consumed by the control plane" in r1
    times = [float(m) for m in re.findall(r"(?m)^\[ *(\d+\.\d{3}) ms\]", text)]
    assert times == sorted(times) and len(times) == len(records(text))


# ---------------------------------------------------------------------------- errors, fragments, IPv6


def test_ttl_expiry_shows_the_drop_and_the_icmp_error_as_a_new_packet():
    _, _, text = ping(ttl=1)
    r1 = records(text)[record(text, "r1 port 1 (eth1) <- h1: ", "echo request")]
    new = r1.index("-> port 1 (eth1 to h1): new: ")
    assert "IP 10.0.1.254 > 10.0.1.1" in r1[new:] and "ICMP time exceeded in transit" in r1[new:]
    assert r1.index("x dropped: TTL or hop limit exceeded (ICMP 11/0 sent)") > new
    assert "ipv4.ttl" not in r1                       # a new packet is shown whole, not as a diff
    assert record(text, "h1 eth0 <- r1: ", "time exceeded") > record(text, "r1 port 1 (eth1) <- h1: ", "echo")
    with pytest.raises(AssertionError):
        record(text, "r2 ")                           # it never got past r1


def test_a_big_packet_without_df_is_fragmented_onto_the_small_link():
    _, tracer, text = ping(size=1400)
    r1 = records(text)[record(text, "r1 port 1 (eth1) <- h1: ", "len 1428")]
    fragments = re.findall(r"-> port 2 \(eth2 to r2\): fragment: .*", r1)
    assert len(fragments) == 2
    assert "ttl 63 len 1276" in fragments[0] and "off 0 MF" in fragments[0]
    assert "len 172" in fragments[1] and "off 1256" in fragments[1] and " MF" not in fragments[1]
    only_fragments = tracer.render(only="fragment")
    assert ", ARP " not in only_fragments and "h1 eth0 -> r1: " not in only_fragments   # h1 sent it whole
    assert "-> port 2 (eth2 to r2): fragment: " in only_fragments and "h2 eth0 <- r2: " in only_fragments
    first_at_h2 = records(text)[record(text, "h2 eth0 <- r2: ", "off 0 MF")]
    assert "kept for reassembly" in first_at_h2
    assert record(text, "h2 eth0 -> r2: ", "echo reply") > record(text, "h2 eth0 <- r2: ", "off 1256")


def test_df_set_packet_gets_fragmentation_needed():
    _, _, text = ping(size=1400, df=True)
    r1 = records(text)[record(text, "r1 port 1 (eth1) <- h1: ", "len 1428 DF")]
    assert "new: " in r1 and "ICMP fragmentation needed" in r1
    assert "x dropped: fragmentation needed but DF set (MTU 1280 on port 2; DF set; ICMP 3/4 sent)" in r1
    assert "fragment: " not in r1


def test_ipv6_hop_shows_the_hop_limit_change_and_no_checksum():
    _, _, text = ping(v6=True)
    r1 = records(text)[record(text, "r1 port 1 (eth1) <- h1: ", "ICMP6 echo request")]
    r2 = records(text)[record(text, "r2 port 1 (eth1) <- r1: ", "ICMP6 echo request")]
    assert "table MyIngress.ipv6_lpm: hit 2001:db8:2::/64 -> forward(" in r1
    assert "ipv6.hopLimit 64 -> 63" in r1 and "ipv6.hopLimit 63 -> 62" in r2
    assert f"ethernet.dstAddr {R1_1_MAC} -> {R2_1_MAC}" in r1
    assert "Checksum" not in r1


# ---------------------------------------------------------------------------- drops on links


def test_frames_lost_on_a_link_are_shown_with_the_frame():
    net, tracer = network(first_link=", loss: 0.99")
    Ping(net, "h1", "h2", count=1).start(0)
    net.run()
    text = tracer.render()
    lost = records(text)[record(text, "link h1-r1 (h1 eth0 -> r1): ", "ARP who-has 10.0.1.254")]
    assert "x dropped: lost on the link (random loss) (h1-r1)" in lost
    losses = [d for d in net.sim.ledger.drops if d.reason.name == "LINK_LOSS"]
    assert len(losses) == text.count("x dropped: lost on the link") > 0
    # Every ARP try was lost, so the ping itself could not be sent.
    last_loss = max(i for i, r in enumerate(records(text)) if "lost on the link" in r)
    assert record(text, "h1: x cannot send: no route to the destination") > last_loss


def test_frames_refused_by_a_full_queue_are_shown_with_the_frame():
    # A burst waiting for ARP is released at once onto a slow link with a one-frame queue.
    net, tracer = network(first_link=", bandwidth: 1Mbps, queue: 1")
    UdpFlow(net, "h1", "h2", count=5, size=1000, interval_ns=1000).start(0)
    net.run()
    text = tracer.render()
    full = records(text)[record(text, "link h1-r1 (h1 eth0 -> r1): ", "UDP")]
    assert "x dropped: queue full (drop-tail)" in full
    drops = [d for d in net.sim.ledger.drops if d.reason.name == "QUEUE_FULL"]
    assert len(drops) == text.count("x dropped: queue full") > 0


def test_a_frame_a_router_cannot_queue_follows_the_hop_that_sent_it():
    net, tracer = network(middle_link=", bandwidth: 1Mbps, queue: 1")
    UdpFlow(net, "h1", "h2", count=4, size=1000, interval_ns=1000).start(0)
    net.run()
    recs = records(tracer.render())
    refused = [i for i, r in enumerate(recs) if r.split("] ", 1)[1].startswith("link r1-r2 (r1 eth2 -> r2): ")]
    assert refused and all("x dropped: queue full (drop-tail)" in recs[i] for i in refused)
    for i in refused:
        assert recs[i - 1].split("] ", 1)[1].startswith("r1 port 1 (eth1) <- h1: ")
        assert recs[i - 1].split("]")[0] == recs[i].split("]")[0]          # the same time


# ---------------------------------------------------------------------------- filters and limits


def test_only_a_protocol_or_a_node():
    _, tracer, text = ping()
    icmp = tracer.render(only="icmp")
    assert "echo request" in icmp and "echo reply" in icmp
    assert "ARP reply" in text and "ARP reply" not in icmp and ", ARP who-has" not in icmp
    # What a host did about an echo request (asking for its gateway's MAC to reply) stays with it.
    assert "h2: ARP who-has 10.0.2.254" in icmp
    at_r2 = tracer.render(only="r2")
    heads = [r.split("] ", 1)[1] for r in records(at_r2)]
    assert heads and all(h.startswith("r2 ") for h in heads)
    assert "h1 eth0" not in at_r2
    arp = tracer.render(only=lambda frame: frame[12:14] == b"\x08\x06")
    assert "ARP" in arp and "ICMP" not in arp
    with pytest.raises(ValueError, match="'carrier-pigeon' is not a node"):
        tracer.render(only="carrier-pigeon")


def test_limit_keeps_the_first_records():
    _, tracer, text = ping()
    short = tracer.render(limit=3)
    assert records(short)[:2] == records(text)[:2]
    assert len(records(short)) == 3
    assert short.endswith(f"... {len(records(text)) - 3} more records (raise the limit to see them)")


def test_a_network_built_without_trace_is_traced_anyway():
    net, tracer = network(trace=False)
    Ping(net, "h1", "h2", count=1).start(0)
    net.run()
    assert "table MyIngress.ipv4_lpm: hit" in tracer.render()


def test_detach_restores_the_nodes_and_stops_recording():
    net, tracer = network()
    tracer.detach()
    assert "receive" not in vars(net.hosts["h1"]) and "receive" not in vars(net.devices["r1"])
    assert not any(link.observers for link in net.links.values()) and net.sim.watchers == []
    Ping(net, "h1", "h2", count=1).start(0)
    net.run()
    assert tracer.records == []


def test_every_echo_of_a_long_run_is_rendered():
    net, tracer = network()
    Ping(net, "h1", "h2", count=150, interval_ns=1_000_000).start(0)
    net.run()
    assert tracer.render().count("echo reply id") >= 150 * 3


# ---------------------------------------------------------------------------- the pieces


def _frame(ttl: int, checksum_fix: bool = True) -> bytes:
    ip = bytearray(P.ipv4(P.ip4("10.0.0.1"), P.ip4("10.0.0.2"), P.IP_UDP, b"\x00" * 8, ttl=64))
    if ttl != 64:
        ip[8] = ttl
        if checksum_fix:
            ip[10:12] = b"\x00\x00"
            ip[10:12] = P.internet_checksum(bytes(ip[:20])).to_bytes(2, "big")
    return P.ethernet(P.mac("02:00:00:00:00:02"), P.mac("02:00:00:00:00:01"), P.ETH_IPV4, bytes(ip))


def test_field_changes_lists_only_what_changed():
    a, b = _frame(64), _frame(17)
    changes = field_changes(dissect(a), dissect(b), a, b)
    assert changes[0] == "ipv4.ttl 64 -> 17"
    assert len(changes) == 2 and changes[1].startswith("ipv4.hdrChecksum 0x")
    assert field_changes(dissect(a), dissect(a), a, a) == []


def test_a_wrong_checksum_is_flagged():
    good, bad = _frame(63), _frame(63, checksum_fix=False)
    assert checksum_problems(dissect(good), good) == []
    problem = checksum_problems(dissect(bad), bad)
    right = int.from_bytes(good[24:26], "big")
    assert problem == [f"ipv4.hdrChecksum 0x{int.from_bytes(bad[24:26], 'big'):04x} is wrong "
                       f"(should be 0x{right:04x})"]


def test_table_lines_show_addresses_and_the_action():
    keys = {"hdr.ipv4.dstAddr": (P.ip4("10.9.9.9"), 32)}
    hit = TableApply("MyIngress.ipv4_lpm", keys, True,
                     "entry 3 [hdr.ipv4.dstAddr=0x0a090000/16] -> MyIngress.forward(1, 2)", "MyIngress.forward")
    run = ActionRun("MyIngress.forward", {"nhop_mac": (P.mac("02:00:00:00:00:09"), 48), "port": (2, 9)})
    assert table_line(hit, run) == \
        "table MyIngress.ipv4_lpm: hit 10.9.0.0/16 -> forward(02:00:00:00:00:09, 2)"
    miss = TableApply("MyIngress.ipv4_lpm", keys, False, "default MyIngress.drop()", "MyIngress.drop")
    assert table_line(miss, ActionRun("MyIngress.drop", {})) == \
        "table MyIngress.ipv4_lpm: miss 10.9.9.9 -> default drop()"
    two = TableApply("t", {"a.port": (1, 9), "a.vid": (10, 12)}, True, "entry 0 [a.port=0x001, a.vid=0x00a] -> x()",
                     "x")
    assert table_line(two, None) == "table t: hit port=1, vid=10 -> x()"


def test_an_indirect_table_line_names_its_group_and_member():
    keys = {"hdr.ipv4.dstAddr": (P.ip4("10.9.9.9"), 32)}
    events = [TableApply("MyIngress.ecmp", keys, True, "entry 0 [hdr.ipv4.dstAddr=0x0a090909] -> group 1",
                         "MyIngress.forward"),
              ProfileSelect("MyIngress.sel", "action selector", 2, 1, 0x1234, 3),
              ActionRun("MyIngress.forward", {"port": (2, 9)})]
    assert pipeline_lines(events) == ["table MyIngress.ecmp: hit 10.9.9.9 -> forward(2) (group 1, member 2)"]
    events[1] = ProfileSelect("MyIngress.ap", "action profile", 4)
    assert pipeline_lines(events)[0].endswith("-> forward(2) (member 4)")
    assert events[1].render() == "    action profile MyIngress.ap: member 4"


def test_a_switch_flood_shows_unchanged_copies_and_the_copy_it_drops():
    net = Network(load_topology_text("""
name: one switch
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.1/24}}}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.2/24}}}
  h3: {kind: host, interfaces: {eth0: {ipv4: 10.0.0.3/24}}}
  s1: {kind: switch, interfaces: {p1: {}, p2: {}, p3: {}}}
links:
  - [h1:eth0, s1:p1]
  - [h2:eth0, s1:p2]
  - [h3:eth0, s1:p3]
"""), trace=True)
    tracer = Tracer(net)
    Ping(net, "h1", "h2", count=1).start(0)
    net.run()
    text = tracer.render()
    flood = records(text)[record(text, "s1 port 1 (p1) <- h1: ", "ARP who-has")]
    assert "action flood()" in flood
    to_h2, to_h3 = flood.index("-> port 2 (p2 to h2): "), flood.index("-> port 3 (p3 to h3): ")
    assert to_h2 < to_h3 and flood.count("unchanged") == 2
    assert "x copy dropped: dropped by the program" in flood
    assert "kept for reassembly" not in text and "x dropped" not in flood
    h3 = records(text)[record(text, "h3 eth0 <- s1: ", "ARP who-has")]
    assert "delivered" in h3


# ---------------------------------------------------------------------------- applications among the packets


def test_a_ping_s_lines_appear_at_their_times_and_its_statistics_stay_for_the_end():
    net, tracer = network()
    app = Ping(net, "h1", "h2", count=2).start(0)
    net.run()
    text = tracer.render()
    start = record(text, "h1 ping: PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data.")
    replies = [record(text, f"h1 ping: 64 bytes from 10.0.2.2: icmp_seq={seq} ") for seq in (1, 2)]
    frames = [record(text, "h1 eth0 <- r1: ", f"echo reply id {app.ident} seq {seq}") for seq in (1, 2)]
    # Each reply line right after the frame that brought it, before the next request goes out.
    assert start < frames[0] < replies[0] < frames[1] < replies[1]
    assert records(text)[replies[0]].startswith(records(text)[frames[0]][:16])     # the same time
    assert app.closing().splitlines()[0] == "--- 10.0.2.2 ping statistics ---"
    assert app.render() == "\n".join(app.lines) + "\n\n" + app.closing()


def test_a_traceroute_has_nothing_left_for_the_end():
    from dataplane.net.apps import Traceroute
    net, tracer = network()
    app = Traceroute(net, "h1", "h2", queries=1).start(0)
    net.run()
    assert app.closing() == ""
    hops = [r for r in records(tracer.render()) if " traceroute:  " in r]
    assert [h.split("traceroute:", 1)[1].split()[0] for h in hops] == ["1", "2", "3"]


def test_an_untraced_run_tells_nobody_and_prints_everything_at_the_end():
    plain = Network(load_topology_text(TOPOLOGY.replace("{first_link}", "").replace("{middle_link}", "")))
    app = Ping(plain, "h1", "h2", count=1).start(0)
    plain.run()
    assert plain.sim.watchers == [] and plain.sim.numbers is None
    assert app.render().startswith("PING 10.0.2.2 (10.0.2.2) 56(84) bytes of data.\n64 bytes from 10.0.2.2")


def test_a_learning_switch_s_digest_shows_the_mac_it_learns():
    from dataplane.net.topology import load_topology
    net = Network(load_topology("lan"), trace=True)
    tracer = Tracer(net)
    net.schedule_traffic()
    net.run(until_ns=1_000_000)
    assert "digest to receiver 1: mac=02:00:00:01:00:01, port=1" in tracer.render(only="s1")
