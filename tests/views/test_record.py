"""views/record.py: the run's data for the views matches the run's books and links every frame hop by hop."""

from __future__ import annotations

import json

import pytest

from dataplane.net.apps import Ping, Traceroute
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.views.record import FORMAT, Recording, field_changes
from viewlab import RECORDED, record, recorded


def events(data, kind):
    return [e for e in data["events"] if e["kind"] == kind]


def check_books(net, data) -> None:
    """One send per frame put on a link, one receive per frame that arrived, one drop per drop; every
    send leads to the receive or drop it ended in, and back."""
    ledger = net.sim.ledger
    sends, receives, drops = events(data, "send"), events(data, "receive"), events(data, "drop")
    assert len(sends) == ledger.transmitted
    assert len(receives) == ledger.arrived == sum(ledger.fates.values())
    assert len(drops) == ledger.total_drops
    fates: dict = {}
    for r in receives:
        fates[r["fate"]] = fates.get(r["fate"], 0) + 1
    assert {k: v for k, v in ledger.fates.items() if v} == fates
    assert data["ledger"]["transmitted"] == ledger.transmitted
    by_id = data["events"]
    for e in by_id:
        assert by_id[e["id"]] is e
    for s in sends:
        if s["outcome"] is None:
            continue                                  # in flight when the run stopped
        outcome = by_id[s["outcome"]]
        if outcome["kind"] == "receive":
            assert outcome["sent_by"] == s["id"] and outcome["node"] == s["to"] and outcome["frame"] == s["frame"]
        else:
            assert outcome["kind"] == "drop" and outcome["of"] == s["id"]
    for r in receives:
        assert r["sent_by"] is not None and by_id[r["sent_by"]]["outcome"] == r["id"]
        for c in r["caused"]:
            assert by_id[c]["kind"] == "send" and by_id[c]["caused_by"] == r["id"] and by_id[c]["node"] == r["node"]
    times = [e["time_ns"] for e in by_id]
    assert times == sorted(times)


@pytest.mark.parametrize("name", RECORDED)
def test_the_events_match_the_run_s_books(name):
    net, data = recorded(name)
    check_books(net, data)
    assert data["format"] == FORMAT
    assert json.loads(json.dumps(data)) == data


def test_frames_lost_on_links_and_refused_by_them_are_sends_that_end_in_drops():
    # Random loss drops frames as they arrive; a small queue refuses them as they are sent.
    net, data = recorded("line", "defaults.link.loss=0.2", "links.r1-r2.queue=2", "links.r1-r2.bandwidth=1Mbps",
                         until_ns=25_000_000_000)
    drops = events(data, "drop")
    reasons = {d["reason"] for d in drops}
    assert {"link_loss", "queue_full"} <= reasons
    check_books(net, data)
    for d in drops:
        if d["reason"] in ("link_loss", "queue_full"):
            send = data["events"][d["of"]]
            assert send["kind"] == "send" and send["outcome"] == d["id"] and d["link"] == send["link"]


def follow(data, send_id):
    """The path of a frame from a send: [(node, receive event)] hop by hop along what each node forwarded."""
    path = []
    send = data["events"][send_id]
    while send is not None and send["outcome"] is not None:
        receive = data["events"][send["outcome"]]
        path.append(receive)
        forwarded = [data["events"][c] for c in receive["caused"] if data["events"][c].get("made") == "forwarded"]
        send = forwarded[0] if forwarded else None
    return path


def test_a_ping_across_three_routers_links_in_to_out_hop_by_hop():
    net = Network(load_topology("line"))
    data = record(net, lambda n: Ping(n, "h1", "h2", count=1).start(0))
    request = next(e for e in events(data, "send")
                   if e["node"] == "h1" and "echo request" in data["frames"][e["frame"]]["summary"])
    path = follow(data, request["id"])
    assert [r["node"] for r in path] == ["r1", "r2", "r3", "h2"]
    assert [r["fate"] for r in path] == ["forwarded"] * 3 + ["delivered"]
    assert len({r["packet"] for r in path}) == 1           # one packet number on every hop
    for hop in path[:3]:
        out = data["events"][hop["caused"][0]]
        ttl = next(c for c in out["changes"] if c["field"] == "ttl")
        assert ttl["new"] == ttl["old"] - 1
        assert ttl["by"] == "MyIngress" and ttl["source"].startswith("programs/dual_stack_router.p4:")
        mac = next(c for c in out["changes"] if c["field"] == "srcAddr")
        assert mac["by"] == "MyIngress.set_egress" and mac["source"].startswith("programs/dual_stack_router.p4:")
        line = int(mac["source"].rsplit(":", 1)[1])
        assert "hdr.ethernet.srcAddr" in data["programs"]["programs/dual_stack_router.p4"].splitlines()[line - 1]
        tables = [s["table"] for s in hop["pipeline"] if s["kind"] == "table"]
        assert "MyIngress.ipv4_lpm" in tables
        lpm = next(s for s in hop["pipeline"] if s.get("table") == "MyIngress.ipv4_lpm")
        assert lpm["hit"] and lpm["source"].startswith("programs/dual_stack_router.p4:")
        assert hop["did"][0].startswith("forwarded out of eth2 to ")
    # The reply: made by h2 because of the request it received.
    reply = [data["events"][c] for c in path[-1]["caused"]]
    assert any("echo reply" in data["frames"][s["frame"]]["summary"] for s in reply) or \
        any(data["frames"][s["frame"]]["protocol"] == "ARP" for s in reply)


def test_fragmentation_at_a_router_is_said_and_each_fragment_is_linked_to_the_packet():
    net = Network(load_topology("line"))
    data = record(net, lambda n: Ping(n, "h1", "h2", count=1, size=2000).start(0))
    at_r2 = [r for r in events(data, "receive") if r["node"] == "r2" and r["from"] == "r1"]
    cut = next(r for r in at_r2 if any(s.startswith("fragmented:") for s in r["did"]))
    assert "fragmented: 1500 bytes > MTU 1280 of eth2 (RFC 791), into 2 fragments" in cut["did"]
    fragments = [data["events"][c] for c in cut["caused"]]
    assert [f["made"] for f in fragments] == ["fragment", "fragment"]
    assert all(data["frames"][f["frame"]]["length"] - 14 <= 1280 for f in fragments)
    assert any(c["field"] == "totalLen" for c in fragments[0]["changes"])
    # Where each fragment's bytes sit in the datagram: r2 cut the first 1480 bytes into 1256 and 224.
    assert [data["frames"][f["frame"]]["fragment"] for f in fragments] == [
        {"version": 4, "src": "10.0.1.1", "dst": "10.0.2.2", "id": 1, "offset": 0, "length": 1256, "more": True},
        {"version": 4, "src": "10.0.1.1", "dst": "10.0.2.2", "id": 1, "offset": 1256, "length": 224, "more": True}]
    kept = [r for r in events(data, "receive") if r["node"] == "h2" and r["fate"] == "reassembly"]
    assert kept and kept[0]["did"][0].startswith("kept for reassembly: fragment 1 of datagram")
    done = next(r for r in events(data, "receive") if r["node"] == "h2" and r["did"] and
                r["did"][0].startswith("reassembled"))
    assert done["did"][0] == "reassembled datagram id 1 from 3 fragments"


def test_ttl_expiry_is_a_drop_with_its_rfc_and_the_icmp_error_it_caused():
    net = Network(load_topology("line"))
    data = record(net, lambda n: Traceroute(n, "h1", "h2", queries=1).start(0))
    expired = next(r for r in events(data, "receive") if r["node"] == "r1" and r["fate"] == "dropped")
    assert "dropped: TTL or hop limit exceeded; ICMP 11/0 sent (RFC 1812 5.3.1)" in expired["did"]
    assert "sent ICMP time exceeded to 10.0.1.1 (RFC 1812 5.3.1) out of eth1 to h1" in expired["did"]
    drop = next(d for d in events(data, "drop") if d["of"] == expired["id"])
    assert drop["reason"] == "ttl_exceeded" and drop["node"] == "r1"
    error = data["events"][expired["caused"][0]]
    assert error["made"] == "new" and error["origin"] == "agent"
    layers = data["frames"][error["frame"]]["layers"]
    assert [l["name"] for l in layers if l.get("quoted")][:2] == ["ipv4", "udp"]


def test_tcp_and_sctp_state_changes_are_notes_of_the_segment_that_caused_them():
    net, data = recorded("dual-stack")
    states = [e for e in events(data, "note") if e["category"] == "state"]
    tcp = [(e["old"], e["new"]) for e in states if e["protocol"] == "TCP"]
    sctp = [(e["old"], e["new"]) for e in states if e["protocol"] == "SCTP"]
    assert ("SYN-SENT", "ESTABLISHED") in tcp and ("LISTEN", "SYN-RECEIVED") in tcp
    assert any(new == "ESTABLISHED" for _, new in sctp)
    during = [e for e in states if e["during"] is not None]
    assert during and all(data["events"][e["during"]]["kind"] == "receive" for e in during)


def test_the_data_describes_nodes_and_links():
    net, data = recorded("line")
    nodes = {n["name"]: n for n in data["nodes"]}
    assert nodes["r1"]["kind"] == "router" and nodes["r1"]["program"] == "programs/dual_stack_router.p4"
    eth1 = next(i for i in nodes["r1"]["interfaces"] if i["name"] == "eth1")
    assert eth1["ipv4"] == ["10.0.1.254/24"] and eth1["mtu"] == 1500 and eth1["mac"].count(":") == 5
    r2r3 = next(l for l in data["links"] if l["name"] == "r2-r3")
    assert r2r3["mtu"] == 1280 and r2r3["latency_ns"] == 1_000_000 and r2r3["bandwidth_bps"] == 100e6
    assert [e["node"] for e in r2r3["ends"]] == ["r2", "r3"]


def test_the_same_run_gives_the_same_data():
    def once():
        net = Network(load_topology("line"))
        return json.dumps(record(net, lambda n: Ping(n, "h1", "h2", count=2, size=1400).start(0)))
    assert once() == once()


def test_keep_bytes_keeps_the_first_frames_bytes_and_says_how_many_it_left_out():
    net = Network(load_topology("line"))
    recording = Recording(net, keep_bytes=3)
    Ping(net, "h1", "h2", count=1).start(0)
    net.run()
    data = recording.data()
    assert [f["bytes"] is not None for f in data["frames"]][:4] == [True, True, True, False]
    assert data["bytes_kept"] == 3 and data["frames_without_bytes"] == len(data["frames"]) - 3
    assert all(f["layers"] for f in data["frames"])


def test_nothing_is_hooked_without_a_recording_and_detach_unhooks():
    net = Network(load_topology("line"))
    assert net.sim.watchers == [] and all(not l.observers for l in net.links.values())
    assert net.sim.numbers is None and not any(d.trace for d in net.devices.values())
    recording = Recording(net)
    assert net.sim.watchers and all(l.observers for l in net.links.values())
    recording.detach()
    assert net.sim.watchers == [] and all(not l.observers for l in net.links.values())
    assert net.sim.numbers is None and not any(d.trace for d in net.devices.values())


def test_field_changes_name_layers_fields_and_both_values():
    from dataplane.protocols import packets as P
    from dataplane.views.layers import frame_layers
    a, b = P.ip4("10.0.0.1"), P.ip4("10.0.0.2")
    before = frame_layers(P.ethernet(1, 2, P.ETH_IPV4, P.ipv4(a, b, P.IP_UDP, P.udp(a, b, 1, 2, b"x"), ttl=9)))
    after = frame_layers(P.ethernet(1, 3, P.ETH_IPV4, P.ipv4(a, b, P.IP_UDP, P.udp(a, b, 1, 2, b"x"), ttl=8)))
    changes = field_changes(before, after)
    assert {"layer": "ethernet", "field": "srcAddr", "old": "00:00:00:00:00:02", "new": "00:00:00:00:00:03"} \
        in changes
    assert {"layer": "ipv4", "field": "ttl", "old": 9, "new": 8} in changes


def test_the_fragments_a_source_sends_cover_their_datagram_ipv4_and_ipv6():
    net, data = recorded("line")
    datagrams: dict = {}
    for e in events(data, "send"):
        piece = data["frames"][e["frame"]].get("fragment")
        if piece is not None and e["node"] in net.hosts:
            key = (piece["version"], piece["src"], piece["dst"], piece["id"])
            datagrams.setdefault(key, set()).add((piece["offset"], piece["length"], piece["more"]))
    assert {k[0] for k in datagrams} == {4, 6}
    for key, pieces in datagrams.items():
        pieces = sorted(pieces)
        assert pieces[0][0] == 0 and not pieces[-1][2], key
        for (o1, n1, _), (o2, _, _) in zip(pieces, pieces[1:]):
            assert o1 + n1 == o2, key


def test_recording_only_watches_the_run_goes_as_without_it():
    def run(recorded_too: bool):
        net = Network(load_topology("line"))
        if recorded_too:
            Recording(net)
        net.schedule_traffic()
        net.run(25_000_000_000)
        ledger = net.sim.ledger
        return (ledger.transmitted, ledger.arrived, dict(ledger.fates), net.sim.now_ns,
                [app.render() for app in net.apps])
    assert run(True) == run(False)
