"""The host stack (dataplane/net/host/stack.py): which IPv4 destinations are a subnet's broadcast."""

from __future__ import annotations

import pytest

from dataplane.net.apps import Ping
from dataplane.net.network import Network
from dataplane.net.topology import load_topology
from dataplane.net.transfers import TcpTransfer
from dataplane.protocols import packets as P

S = 1_000_000_000

TWO_HOSTS = """\
name: two hosts
nodes:
  a: {kind: host, interfaces: {eth0: {mac: "02:00:00:00:00:01", ipv4: A}}, gateway: null}
  b: {kind: host, interfaces: {eth0: {mac: "02:00:00:00:00:02", ipv4: B}}, gateway: null}
links:
  - [a:eth0, b:eth0]
"""


def two_hosts(tmp_path, a: str, b: str) -> Network:
    path = tmp_path / "two.yaml"
    path.write_text(TWO_HOSTS.replace("A", a).replace("B", b))
    return Network(load_topology(str(path)))


@pytest.mark.parametrize("a, b", [("10.0.1.0/31", "10.0.1.1/31"), ("10.0.1.1/31", "10.0.1.0/31")])
def test_the_higher_address_of_a_31_is_a_host_not_a_broadcast(tmp_path, a, b):
    # RFC 3021: a /31 has no broadcast address. The tutorials give h1 10.0.1.1/31, which ping and TCP reach.
    net = two_hosts(tmp_path, a, b)
    ping = Ping(net, "a", "b", count=2).start(0)
    tcp = TcpTransfer(net, "b", "a", nbytes=5000).start(0)
    net.run(5 * S)
    assert len(ping.received) == 2 and tcp.intact


@pytest.mark.parametrize("b, dst, broadcast", [("10.0.1.2/24", "10.0.1.255", True),
                                                 ("10.0.1.2/24", "10.0.1.2", False),
                                                 ("10.0.1.1/31", "10.0.1.1", False),
                                                 ("10.0.1.1/32", "10.0.1.1", False)])
def test_what_is_a_broadcast(tmp_path, b, dst, broadcast):
    net = two_hosts(tmp_path, "10.0.1.9/24", b)
    got = []
    net.host("b").udp_bind(7, lambda pkt, sport, dport, data: got.append(pkt.broadcast))
    src, to = P.ip4("10.0.1.9"), P.ip4(dst)
    frame = P.ethernet(0x020000000002, 0x020000000001, P.ETH_IPV4,       # to b's MAC: IP decides
                       P.ipv4(src, to, P.IP_UDP, P.udp(src, to, 1000, 7, b"hello")))
    net.host("a").send_frame(1, frame)
    net.run(S)
    assert got == [broadcast]


# ---------------------------------------------------------------------------- route decisions kept per destination

def _host_on(address: str, gateway: str | None = None):
    import ipaddress

    from dataplane.net.host.stack import Host, HostInterface
    from dataplane.net.sim import Simulator
    iface = HostInterface(1, 0x020000000001, ipaddress.IPv4Interface(address))
    return Host(Simulator(), "h", [iface], gateway4=P.ip4(gateway) if gateway else None), iface


def _reference_route4(host, dst: int):
    """route4 as the stack first wrote it, with ipaddress objects and no cache."""
    import ipaddress
    for i in host.interfaces.values():
        if i.ipv4 is not None and ipaddress.IPv4Address(dst) in i.ipv4.network:
            return i, dst
    if host.gateway4 is not None:
        for i in host.interfaces.values():
            if i.ipv4 is not None and ipaddress.IPv4Address(host.gateway4) in i.ipv4.network:
                return i, host.gateway4
    return None


def test_a_route_decision_is_kept_until_the_default_router_changes():
    host, iface = _host_on("10.0.1.9/24")
    far = P.ip4("192.0.2.7")
    assert host.route4(far) is None                     # no default router yet: no route, and that is kept
    host.gateway4 = P.ip4("10.0.1.1")
    assert host.route4(far) == (iface, P.ip4("10.0.1.1"))
    host.gateway4 = P.ip4("10.0.1.254")
    assert host.route4(far) == (iface, P.ip4("10.0.1.254"))
    host.gateway4 = P.ip4("172.16.0.1")                 # not on any subnet of the host
    assert host.route4(far) is None


def test_a_route_decision_is_forgotten_when_an_address_changes():
    import ipaddress
    host, iface = _host_on("10.0.1.9/24", "10.0.1.1")
    peer = P.ip4("10.0.2.5")
    assert host.route4(peer) == (iface, P.ip4("10.0.1.1"))       # through the default router
    assert host.is_mine(P.ip4("10.0.1.9"), False)
    iface.ipv4 = ipaddress.IPv4Interface("10.0.2.9/24")
    assert host.route4(peer) == (iface, peer)                    # on the link now
    assert host.route4(P.ip4("192.0.2.1")) is None               # the default router is no longer on a subnet
    assert host.is_mine(P.ip4("10.0.2.9"), False) and not host.is_mine(P.ip4("10.0.1.9"), False)
    assert (iface.ip4, iface.bcast4) == (P.ip4("10.0.2.9"), P.ip4("10.0.2.255"))
    iface.ipv4 = None
    assert host.route4(peer) is None and not host.is_mine(P.ip4("10.0.2.9"), False)


def test_interfaces_replaced_or_changed_in_place_are_routed_anew():
    import ipaddress

    from dataplane.net.host.stack import HostInterface
    host, iface = _host_on("10.0.1.9/24")
    other = HostInterface(2, 0x020000000002, ipaddress.IPv4Interface("10.0.3.9/24"))
    dst = P.ip4("10.0.3.1")
    assert host.route4(dst) is None
    host.interfaces = {1: iface, 2: other}
    assert host.route4(dst) == (other, dst)
    del host.interfaces[2]
    host.routes_changed()                  # the documented call after changing the dict in place
    assert host.route4(dst) is None


@pytest.mark.parametrize("address, gateway", [("10.0.1.9/24", "10.0.1.1"), ("10.0.1.1/31", "10.0.1.0"),
                                              ("10.0.1.1/32", None), ("192.168.0.77/16", "192.168.200.1")])
def test_routes_equal_the_ipaddress_reference(address, gateway):
    import random
    host, _ = _host_on(address, gateway)
    rng = random.Random(5)
    base = P.ip4(address.split("/")[0])
    for dst in [rng.getrandbits(32) for _ in range(300)] + [base ^ rng.getrandbits(9) for _ in range(300)]:
        assert host.route4(dst) == _reference_route4(host, dst)
        assert host.route4(dst) == _reference_route4(host, dst)          # and again, from the cache


def test_the_route_cache_is_bounded():
    host, _ = _host_on("10.0.1.9/24", "10.0.1.1")
    for dst in range(host.ROUTE_CACHE_MAX * 2 + 5):
        host.route4(dst)
    assert len(host._routes4) <= host.ROUTE_CACHE_MAX


def test_an_address_out_of_range_fails_as_before():
    import ipaddress
    host, _ = _host_on("10.0.1.9/24", "10.0.1.1")
    with pytest.raises(ipaddress.AddressValueError):
        host.route4(1 << 32)


# ---------------------------------------------------------------------------- UDP over IPv4 in one step

GW1, GW2, PEER = P.ip4("10.0.1.1"), P.ip4("10.0.1.254"), P.ip4("10.0.1.7")
FAR = P.ip4("192.0.2.7")
MAC_GW1, MAC_GW2, MAC_PEER = 0x0200000000A1, 0x0200000000A2, 0x0200000000B7


class _Wire:
    """A link that keeps what the host sends: (time, port, frame)."""

    def __init__(self, host):
        self.host = host
        self.frames = []

    def send(self, node, port, frame, ready_ns=None, new_packet=False):
        assert node is self.host
        self.frames.append((self.host.sim.now_ns, port, frame))


class _WireWithEnds(_Wire):
    """A _Wire that also has ends, as sim.Link has: the one-step path puts frames on the end's transmit."""

    def end(self, node, port):
        wire = self

        class End:
            def transmit(self, frame, ready_ns=None, new_packet=False):
                wire.send(node, port, frame, ready_ns, new_packet)
        return End()


def _wired_host(general_only: bool = False):
    """A host on 10.0.1.9/24 with default router GW1 and a wire; `general_only` turns its one-step UDP paths
    off, for a reference that takes the general path for everything."""
    host, iface = _host_on("10.0.1.9/24", "10.0.1.1")
    iface.link = _Wire(host)
    if general_only:
        host._udp4_send = lambda *args: False
        host._udp4_input = lambda *args: False
    return host, iface


def _state(host) -> tuple:
    """Everything a host shows of what it did."""
    drops = [(d.time_ns, d.node, d.reason, d.detail, d.port) for d in host.sim.ledger.drops]
    return (host.interfaces[1].link.frames if host.interfaces[1].link else None, host.ident, list(host.events),
            drops, dict(host.sim.ledger.fates), host.delivered, dict(host.arp.entries),
            {a: [(i.port, d) for i, d in w.packets] for a, w in host.arp.pending.items()}, host.sim.pending)


def _latest(host) -> tuple:
    """The cheap part of _state, for comparing after every step (the whole of it is compared now and then)."""
    link = host.interfaces[1].link
    frames, events, drops = (link.frames if link else []), host.events, host.sim.ledger.drops
    return (len(frames), frames[-1:], host.ident, len(events), list(events)[-1:], len(drops), drops[-1:],
            dict(host.sim.ledger.fates), host.delivered)


def _counting(host, one_step: str) -> list:
    """How often the host's one-step UDP path (_udp4_send, _udp4_input) took a datagram: the tests want it
    taken many times, and the general path the rest."""
    taken = []
    method = getattr(host, one_step)

    def counted(*args):
        took = method(*args)
        taken.extend([1] if took else [])
        return took
    setattr(host, one_step, counted)
    return taken


def _outcome(call):
    try:
        return "returned", call()
    except Exception as exc:                 # the general path's own errors, compared with the other host's
        return type(exc).__name__, str(exc)


def test_a_datagram_sent_in_one_step_is_the_general_paths_frame():
    fast, _ = _wired_host()
    general, _ = _wired_host(general_only=True)
    for h in (fast, general):
        h.arp.learn(GW1, MAC_GW1)
        h.arp.learn(PEER, MAC_PEER)
    for dst in (FAR, PEER):
        for size in (0, 1, 200, 1471, 1472):
            for h in (fast, general):
                assert h.udp_send(dst, 40000 + size, 6000, bytes(range(256)) * 6 and bytes(size), ttl=9) is None
    assert _state(fast) == _state(general)
    assert len(fast.interfaces[1].link.frames) == 10
    frame = fast.interfaces[1].link.frames[0][2]
    assert frame == P.ethernet(MAC_GW1, 0x020000000001, P.ETH_IPV4,
                               P.ipv4(P.ip4("10.0.1.9"), FAR, P.IP_UDP, P.udp(P.ip4("10.0.1.9"), FAR, 40000, 6000,
                                                                           b""), ttl=9, ident=1))


def test_a_route_changed_mid_run_moves_the_next_datagram():
    host, iface = _wired_host()
    host.arp.learn(GW1, MAC_GW1)
    host.arp.learn(GW2, MAC_GW2)
    wire = iface.link.frames

    def next_hop_mac() -> int:
        return int.from_bytes(wire[-1][2][:6], "big")

    host.udp_send(FAR, 1000, 9, b"one")
    assert next_hop_mac() == MAC_GW1
    host.gateway4 = GW2                          # the default route changed
    host.udp_send(FAR, 1000, 9, b"two")
    assert next_hop_mac() == MAC_GW2
    host.gateway4 = None                         # and removed: no route
    assert host.udp_send(FAR, 1000, 9, b"three") == "no route to host"
    assert len(wire) == 2 and host.sim.ledger.drops[-1].reason.name == "NO_ROUTE"
    import ipaddress
    iface.ipv4 = ipaddress.IPv4Interface("192.0.2.9/24")         # now FAR is on the link, from a new address
    host.arp.learn(FAR, 0x0200000000C7)
    host.udp_send(FAR, 1000, 9, b"four")
    assert next_hop_mac() == 0x0200000000C7
    assert int.from_bytes(wire[-1][2][26:30], "big") == P.ip4("192.0.2.9")


def test_a_neighbour_entry_that_expires_is_resolved_again():
    host, iface = _wired_host()
    host.arp.learn(GW1, MAC_GW1, lifetime_ns=1000)
    host.udp_send(FAR, 1000, 9, b"fresh")
    host.sim.run(until_ns=1000)                  # the entry expires now
    host.udp_send(FAR, 1000, 9, b"stale")
    wire = iface.link.frames
    assert [int.from_bytes(f[12:14], "big") for _, _, f in wire] == [P.ETH_IPV4, P.ETH_ARP]
    assert host.arp.pending[GW1].packets[0][1][28:] == b"stale"
    host.arp.learn(GW1, MAC_GW2)                 # answered from another MAC: the waiting datagram goes there
    host.udp_send(FAR, 1000, 9, b"after")
    assert [int.from_bytes(f[:6], "big") for _, _, f in wire[2:]] == [MAC_GW2, MAC_GW2]
    assert [f[42:] for _, _, f in wire[2:]] == [b"stale", b"after"]


def test_a_new_mac_of_the_interface_goes_into_the_next_frame():
    host, iface = _wired_host()
    host.arp.learn(GW1, MAC_GW1)
    host.udp_send(FAR, 1000, 9, b"a")
    iface.mac = 0x02000000FFFF
    host.udp_send(FAR, 1000, 9, b"b")
    assert [int.from_bytes(f[6:12], "big") for _, _, f in iface.link.frames] == [0x020000000001, 0x02000000FFFF]


def test_a_datagram_goes_on_the_link_the_interface_has_now():
    # The one-step path keeps the end of the link it sent on; a new link on the interface is used at once.
    from dataplane.net.sim import Link

    from netlab import MAC_B, two_hosts as lab_two_hosts
    sim, a, b, first = lab_two_hosts(v6=False)
    got = []
    b.udp_bind(9, lambda pkt, sport, dport, data: got.append(data))
    a.arp.learn(P.ip4("10.0.0.2"), MAC_B)
    a.udp_send(P.ip4("10.0.0.2"), 1000, 9, b"one")
    second = Link(sim, "a-b again", a, 1, b, 1, latency_ns=1000)
    a.interfaces[1].link = second
    a.udp_send(P.ip4("10.0.0.2"), 1000, 9, b"two")
    sim.run()
    assert got == [b"one", b"two"]
    assert [link.end(a, 1).sent for link in (first, second)] == [1, 1]


def test_values_refused_by_the_one_step_path_fail_as_the_general_path_fails():
    fast, _ = _wired_host()
    general, _ = _wired_host(general_only=True)
    for h in (fast, general):
        h.arp.learn(GW1, MAC_GW1)
    for kwargs in ({"sport": 70000}, {"dport": -1}, {"ttl": 256}, {"sport": 5.0}, {"sport": True},
                   {"df": 2}, {"df": 1}, {"data": "text"}, {"data": bytearray(b"ba")}, {"data": memoryview(b"mv")}):
        args = {"dst": FAR, "sport": 1000, "dport": 9, "data": b"x"} | kwargs
        assert _outcome(lambda: fast.udp_send(**args)) == _outcome(lambda: general.udp_send(**args)), kwargs
        assert _state(fast) == _state(general), kwargs


def test_random_sends_and_changes_match_the_general_path():
    import ipaddress
    import random
    rng = random.Random(11)
    hosts = [_wired_host(), _wired_host(general_only=True)]
    one_step = _counting(hosts[0][0], "_udp4_send")
    addresses = ["10.0.1.9/24"] * 4 + ["192.0.2.9/24", "10.0.1.9/31"]
    for step in range(4000):
        op = rng.choice(["send"] * 30 + ["gateway", "address", "learn", "learn", "time", "mtu", "mac", "link",
                                         "relink"] + ["pmtu"] * (step % 500 == 0))
        if op == "send":
            dst = rng.choice([FAR, FAR, PEER, PEER, GW1, GW2, P.ip4("10.0.1.9"), P.ip4("10.0.1.255"), 0xFFFFFFFF,
                              P.ip4("198.51.100.1")])
            size = rng.choice([0, 1, 2, 31, 200, 1200, 1472, 1473, 3000])
            args = dict(dst=dst, sport=rng.choice([1000] * 5 + [0, 0xFFFF, 0x10000]), dport=rng.randrange(0x10000),
                        data=rng.randbytes(size), ttl=rng.choice([None] * 5 + [1, 255, 256]),
                        df=rng.choice([False] * 5 + [True, 1]))
            if rng.random() < 0.3:                     # an application that knows what its data sums to
                args["data_sum"] = P.word_sum(args["data"]) + rng.choice([0, 0xFFFF, 7 * 0xFFFF])
            outcomes = [_outcome(lambda: h.udp_send(**args)) for h, _ in hosts]
            assert outcomes[0] == outcomes[1], (step, args)
        else:
            value = {"gateway": rng.choice([GW1, GW2, None]), "address": rng.choice(addresses),
                     "learn": (rng.choice([GW1, GW2, PEER]), rng.choice([MAC_GW1, MAC_GW2, MAC_PEER]),
                               rng.choice([10_000, 10**12, 10**12])),
                     "time": rng.choice([1, 5_000, 10**9, 10**12]), "mtu": rng.choice([1500, 1500, 600, 68]),
                     "mac": rng.choice([0x020000000001, 0x020000000003]),
                     "pmtu": (rng.choice([FAR, PEER]), rng.choice([576, 1000, 1400])),
                     "link": rng.random() < 0.8, "relink": rng.choice([_Wire, _WireWithEnds])}[op]
            for h, iface in hosts:
                if op == "gateway":
                    h.gateway4 = value
                elif op == "address":
                    iface.ipv4 = ipaddress.IPv4Interface(value)
                elif op == "learn":
                    h.arp.learn(*value)
                elif op == "time":
                    h.sim.run(until_ns=h.sim.now_ns + value)
                elif op == "mtu":
                    iface.mtu = value
                elif op == "mac":
                    iface.mac = value
                elif op == "pmtu":
                    h.pmtu4.on_frag_needed(value[0], value[1], 1500)
                elif op == "link":
                    if value and iface.link is None:
                        iface.link = iface.saved_link
                    elif not value and iface.link is not None:
                        iface.saved_link, iface.link = iface.link, None
                elif op == "relink":                   # another link on the interface: the next frames go there
                    iface.link = value(h)
        step_state = _state if step % 200 == 0 else _latest
        assert step_state(hosts[0][0]) == step_state(hosts[1][0]), (step, op)
    for h, _ in hosts:
        h.sim.run()
    assert _state(hosts[0][0]) == _state(hosts[1][0])
    assert len(one_step) > 200


def _received(host) -> list:
    got = []
    for port in (7, 9):
        host.udp_bind(port, lambda pkt, sport, dport, data, port=port: got.append(
            (port, pkt.v6, pkt.src, pkt.dst, pkt.proto, pkt.payload, pkt.ttl, pkt.datagram, pkt.iface.port,
             pkt.broadcast, sport, dport, data)))
    # A handler that does not read the packet (the one-step path gives it None, the general path a packet).
    host.udp_bind(53, lambda pkt, sport, dport, data: got.append((53, sport, dport, data)), packet=False)
    return got


def _random_frame(rng) -> bytes:
    me, src = P.ip4("10.0.1.9"), rng.choice([GW1, PEER, FAR])
    dst = rng.choice([me] * 6 + [P.ip4("10.0.1.255"), 0xFFFFFFFF, P.ip4("10.0.1.8"), P.ip4("224.0.0.1")])
    udp = P.udp(src, dst, rng.randrange(0x10000), rng.choice([7, 9, 53, 8]), rng.randbytes(rng.choice([0, 1, 5, 200])),
                checksum=rng.random() < 0.9)
    ip = P.ipv4(src, dst, rng.choice([P.IP_UDP] * 8 + [P.IP_TCP, P.IP_ICMP]), udp, ttl=rng.randrange(256),
                ident=rng.randrange(0x10000), df=rng.random() < 0.5,
                mf=rng.random() < 0.05, frag_offset=rng.choice([0] * 20 + [8]),
                options=rng.choice([b""] * 10 + [b"\x01\x01\x01\x00"]), dscp=rng.choice([0] * 30 + [46]),
                ecn=rng.choice([0] * 30 + [1, 3]))
    frame = bytearray(P.ethernet(rng.choice([0x020000000001] * 8 + [P.BROADCAST_MAC, 0x01005E000001, 0x020000000002]),
                                 0x0200000000A1, rng.choice([P.ETH_IPV4] * 20 + [P.ETH_IPV6, P.ETH_ARP, 0x0801]), ip))
    for _ in range(rng.choice([0] * 6 + [1, 2])):            # damage: a changed byte in the headers
        frame[rng.randrange(0 if rng.random() < 0.2 else 14, min(len(frame), 50))] = rng.randrange(256)
    if rng.random() < 0.1:
        frame = frame[:rng.randrange(len(frame) + 1)]
    if rng.random() < 0.1:
        frame += bytes(rng.randrange(1, 30))                     # Ethernet padding after the datagram
    return bytes(frame)


def test_random_frames_are_received_as_the_general_path_receives_them():
    import random
    rng = random.Random(3)
    hosts = [_wired_host(), _wired_host(general_only=True)]
    got = [_received(h) for h, _ in hosts]
    one_step = _counting(hosts[0][0], "_udp4_input")
    for h, _ in hosts:
        h.arp.learn(GW1, MAC_GW1)
        h.arp.learn(PEER, MAC_PEER)
    for step in range(8000):
        frame = _random_frame(rng)
        for h, _ in hosts:
            h.receive(1, frame)
        assert got[0][-1:] == got[1][-1:] and len(got[0]) == len(got[1]), step
        step_state = _state if step % 200 == 0 else _latest
        assert step_state(hosts[0][0]) == step_state(hosts[1][0]), step
    assert got[0] == got[1] and _state(hosts[0][0]) == _state(hosts[1][0])
    fates = hosts[0][0].sim.ledger.fates
    assert len(got[0]) > 1500 and 1000 < len(one_step) < len(got[0]) and fates["dropped"] > 1000 and fates["reassembly"] > 10
    assert {d.reason.name for d in hosts[0][0].sim.ledger.drops} >= {"BAD_CHECKSUM", "MALFORMED", "NOT_FOR_US",
                                                                     "NO_LISTENER"}


def test_a_new_mac_of_the_interface_is_the_one_frames_are_taken_for_at_once():
    # The one-step path compares a frame's destination with the MAC's bytes, kept from `mac` when it changes.
    host, iface = _wired_host()
    got = _received(host)
    one_step = _counting(host, "_udp4_input")
    me = P.ip4("10.0.1.9")

    def frame(mac: int) -> bytes:
        return P.ethernet(mac, MAC_PEER, P.ETH_IPV4, P.ipv4(PEER, me, P.IP_UDP, P.udp(PEER, me, 1000, 53, b"q")))
    host.receive(1, frame(0x020000000001))
    iface.mac = 0x02000000FFFF
    assert iface.mac_bytes == bytes.fromhex("02000000ffff")
    host.receive(1, frame(0x020000000001))             # the old MAC: not for us
    host.receive(1, frame(0x02000000FFFF))
    assert len(got) == 2 and len(one_step) == 2
    assert [d.reason.name for d in host.sim.ledger.drops] == ["NOT_FOR_US"]
    iface.mac = 1 << 48                                 # not a MAC (the general path says what it makes of it)
    assert iface.mac_bytes is None
    host.receive(1, frame(0x02000000FFFF))
    assert len(one_step) == 2 and len(host.sim.ledger.drops) == 2


def test_a_handler_gets_no_packet_only_if_it_said_so_when_bound():
    host, _ = _wired_host()
    frame = P.ethernet(0x020000000001, MAC_PEER, P.ETH_IPV4,
                       P.ipv4(PEER, P.ip4("10.0.1.9"), P.IP_UDP, P.udp(PEER, P.ip4("10.0.1.9"), 1000, 53, b"query")))
    got = []

    def handler(pkt, sport, dport, data):
        got.append(pkt if pkt is None else pkt.src)
    host.udp_bind(53, handler, packet=False)
    host.receive(1, frame)
    host.udp_bind(53, handler)                       # bound again, wanting the packet
    host.receive(1, frame)
    host.udp_bind(53, handler, packet=False)
    host.udp_sockets[53] = lambda *args: handler(*args)     # replaced behind udp_bind's back: packets again
    host.receive(1, frame)
    assert got == [None, PEER, PEER] and host.delivered == 3


def _run_dual_stack(monkeypatch, general_only: bool) -> tuple:
    """The dual-stack topology with UDP of every kind (flows, DNS queries answered, a traceroute answered
    by time exceeded and port unreachable, over IPv4 and IPv6) and pings: what went on the links, what
    hosts logged, what apps said."""
    from dataplane.locate import find_topology
    from dataplane.net import sim
    from dataplane.net.apps import Traceroute, UdpFlow
    from dataplane.net.host.stack import Host
    if general_only:
        monkeypatch.setattr(Host, "_udp4_send", lambda *args: False)
        monkeypatch.setattr(Host, "_udp4_input", lambda *args: False)
    wire = []
    real_transmit = sim.LinkEnd.transmit

    def transmit(end, frame, *args, **kwargs):         # every frame put on a link, whoever sends it
        wire.append((end.sim.now_ns, end.node.name, end.port, bytes(frame)))
        return real_transmit(end, frame, *args, **kwargs)
    monkeypatch.setattr(sim.LinkEnd, "transmit", transmit)
    net = Network(load_topology(find_topology("dual-stack")))
    apps = [UdpFlow(net, "h1", "h3", port=6000, count=30, size=201).start(0),
            UdpFlow(net, "h3", "h1", port=53, count=10, size=64).start(1000),
            UdpFlow(net, "h1", "h3", port=9999, count=5, size=1).start(2000),
            UdpFlow(net, "h1", "h2", port=6001, count=10, size=100, v6=True).start(0),
            Traceroute(net, "h3", "h1").start(S), Ping(net, "h1", "h3", count=3).start(0)]
    net.run()
    monkeypatch.undo()
    events = {name: list(h.events) for name, h in net.hosts.items()}
    summary = net.summary()
    return wire, events, [a.report() for a in apps], summary.fates, summary.drops


def test_a_network_run_is_the_same_with_and_without_the_one_step_paths(monkeypatch):
    fast = _run_dual_stack(monkeypatch, general_only=False)
    general = _run_dual_stack(monkeypatch, general_only=True)
    assert fast == general
    reports = "\n".join(fast[2])
    assert "30 received" in reports and "10 answered" in reports and " 3  h1 (172.16.1.10)" in reports
    assert fast[4] == {"no_listener": 3, "ttl_exceeded": 6}


def test_a_host_has_at_most_30_attributes_after_a_run_of_every_application():
    # CPython 3.11 keeps the attributes of a class's instances in one table of at most 30 names; a host given
    # more would get a dictionary of its own, and no attribute look-up or method call on it would be
    # specialized (see Host). The applications, TCP and SCTP set theirs on a host too: they are counted here.
    from dataplane.locate import find_topology
    from dataplane.net.apps import Traceroute, UdpFlow
    from dataplane.net.transfers import SctpTransfer
    net = Network(load_topology(find_topology("dual-stack")))
    apps = [UdpFlow(net, "h1", "h3", port=6000, count=3, size=201).start(0),
            UdpFlow(net, "h3", "h1", port=53, count=2, size=64).start(0),
            UdpFlow(net, "h1", "h2", port=6001, count=2, size=100, v6=True).start(0),
            Traceroute(net, "h3", "h1").start(S), Ping(net, "h1", "h3", count=2).start(0),
            TcpTransfer(net, "h1", "h3", nbytes=5000).start(0), SctpTransfer(net, "h1", "h3").start(0)]
    net.run()
    assert all(app.done for app in apps)
    counts = {name: len(vars(host)) for name, host in net.hosts.items()}
    assert max(counts.values()) <= 30, counts
