"""A host's IP stack, written to be read: the layers of TCP/IP, one method each.

A Host has interfaces (MAC, IPv4 and IPv6 addresses, MTU), default routers
per address family, and the usual pieces of a protocol stack:

  link layer     receive(port, frame) -> demultiplex by EtherType
  ARP / ND       neighbor caches (RFC 826, RFC 4861); packets wait while an
                 address is resolved, and are dropped with a reason if it
                 cannot be; the waiting packets and the table are bounded
                 as Linux bounds them (NeighborCache)
  IPv4 / IPv6    input: validate, accept packets for us, reassemble fragments
                 (reassembly.py), demultiplex by protocol; output: choose the
                 source and the next hop, fragment IPv4 to the path MTU
                 (pmtu.py), never fragment IPv6 in transit
  ICMP/ICMPv6    echo replies (R11, R28), errors to applications and to the
                 path-MTU cache, port and protocol unreachable (R11)
  UDP            sockets (RFC 768; checksum rules R29); the common datagram
                 over IPv4 (resolved next hop, no fragments, an open port)
                 is sent and taken in one step (_udp4_send, _udp4_input),
                 the same bytes and outcomes as the general path, which
                 takes every other packet
  TCP, SCTP      tcp.py and sctp.py register themselves as protocols
  packet sockets open_packet_socket / send_frame: whole frames in and out,
                 as AF_PACKET sockets give them to tcpdump, scapy and the
                 P4 tutorials' send.py / receive.py

Every event worth seeing (a packet sent or received, a cache update, a drop)
is appended to `events` as text with its time, for traces and tests; the
latest EVENT_LOG_MAX are kept. A packet to one of the host's own addresses
goes through loopback (`_loopback`), never onto a link.
"""

from __future__ import annotations

import ipaddress
import struct
from collections import deque
from dataclasses import dataclass, field
from typing import Callable

from ...protocols import packets as P
from ...protocols.checksums import big_endian_int, internet_checksum, verify_transport
from ...protocols.ipfrag import fragment_ipv4
from ...runtime.trace import DropReason
from ..sim import DropRecord, Simulator
from .reassembly import SKB_OVERHEAD

ARP_RETRIES = 3
ARP_RETRY_NS = 1_000_000_000
NEIGHBOR_LIFETIME_NS = 300 * 1_000_000_000
# Linux net.ipv4.neigh.default.unres_qlen_bytes (and net.ipv6.neigh...): the bytes of packets that may wait
# for one unresolved neighbour; the default is SK_WMEM_MAX, 212992 on 64-bit kernels since 4.14. Packets
# are charged as Linux charges skb->truesize: their length plus SKB_OVERHEAD.
UNRES_QLEN_BYTES = 212_992
# Linux net.ipv4.neigh.default.gc_thresh3: the hard limit on a neighbour table's entries.
GC_THRESH3 = 1024
# Static entries (a topology's `arp:`) expire at 1 << 62 ns: never, in a run; they are never forgotten.
STATIC_EXPIRY_NS = 1 << 62
# The host's event log keeps the latest events only, as the kernel's log ring buffer does.
EVENT_LOG_MAX = 100_000
ICMP_ERROR_TYPES_V4 = {3, 4, 5, 11, 12}


@dataclass
class HostInterface:
    port: int
    mac: int
    ipv4: ipaddress.IPv4Interface | None = None
    ipv6: list = field(default_factory=list)        # ipaddress.IPv6Interface
    mtu: int = 1500
    link: object = None

    # The IPv4 address as integers, kept from `ipv4` whenever it is set (the hot paths compare integers, not
    # ipaddress objects): the address, its network and netmask, and the directed broadcast (None for a /31 or
    # a /32, which have none).
    # These fields have no default, so no class attribute: until __post_init__ sets them, the instance has no
    # such attribute, which is how __setattr__ tells the sets of __init__ from later ones without reading
    # self.__dict__. (Reading it makes CPython 3.11 build the instance's dict, after which every attribute
    # look-up of the interface misses its specialization: about 230 instructions each on the hosts' busiest paths.)
    ip4: int | None = field(init=False, repr=False, compare=False)
    net4: int = field(init=False, repr=False, compare=False)
    mask4: int = field(init=False, repr=False, compare=False)
    bcast4: int | None = field(init=False, repr=False, compare=False)
    # The MAC address as the 6 bytes of a frame, kept from `mac` whenever it is set (_udp4_input compares a
    # frame's destination with it without making an integer of it); None for a value that is not 6 bytes' worth.
    mac_bytes: bytes | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        self._set_ip4(self.ipv4)
        self._set_mac_bytes(self.mac)

    def __setattr__(self, name: str, value) -> None:
        object.__setattr__(self, name, value)
        if name == "ipv4" and hasattr(self, "bcast4"):        # set after __init__: keep the integers up to date
            self._set_ip4(value)
        elif name == "mac" and hasattr(self, "mac_bytes"):
            self._set_mac_bytes(value)

    def _set_mac_bytes(self, mac) -> None:
        try:
            mac_bytes = mac.to_bytes(6, "big") if mac.__class__ is int else None
        except OverflowError:
            mac_bytes = None
        object.__setattr__(self, "mac_bytes", mac_bytes)

    def _set_ip4(self, address: ipaddress.IPv4Interface | None) -> None:
        if address is None:
            ip, net, mask = None, 0, 0
        else:
            ip, net, mask = int(address.ip), int(address.network.network_address), int(address.network.netmask)
        set_ = object.__setattr__
        set_(self, "ip4", ip)
        set_(self, "net4", net)
        set_(self, "mask4", mask)
        set_(self, "bcast4", None if address is None else _directed_broadcast(address))
        host = getattr(self, "host", None)
        if host is not None:
            host.routes_changed()          # its routes and its own addresses follow from this address

    def link_local(self) -> int:
        return P.link_local_address(self.mac, self.ipv6)


@dataclass(slots=True)
class RxPacket:
    """An IP packet delivered to an upper layer (one per packet received: slots make it quicker to build)."""
    v6: bool
    src: int
    dst: int
    proto: int
    payload: bytes
    ttl: int
    datagram: bytes            # the whole IP packet, for ICMP errors that quote it
    iface: HostInterface
    broadcast: bool = False    # sent to a broadcast or multicast address (no errors about it, R9 / R28)


@dataclass
class IcmpNotice:
    """An ICMP or ICMPv6 message passed to the applications that listen for them."""
    v6: bool
    type: int
    code: int
    src: int                  # who sent the ICMP message
    body: int                 # the 32 bits after the checksum (echo id/seq, MTU, pointer)
    data: bytes               # the rest: echo data, or the quoted datagram of an error
    ttl: int
    time_ns: int


class _Pending:
    """An unresolved neighbour: the packets waiting for it (oldest first) and the bytes they are charged."""

    def __init__(self):
        self.packets: deque[tuple[HostInterface, bytes]] = deque()
        self.bytes = 0
        self.tries = 0
        self.timer = None
        self.full = ""                   # the detail of its NEIGHBOR_QUEUE_FULL drops, made once (floods)


class NeighborCache:
    """Address resolution for one family: ARP (RFC 826) or Neighbor Discovery (RFC 4861).

    `entries` maps an address to (MAC, expiry); packets for an address being
    resolved wait in `pending` while `solicit(iface, address)` asks up to
    ARP_RETRIES times, one second apart; then they are dropped ("no route").

    Bounds, as Linux's neighbour layer (net/core/neighbour.c) has them:
      - the packets waiting for one address are charged their length plus
        SKB_OVERHEAD (skb->truesize) against `queue_bytes`
        (unres_qlen_bytes); a packet that would go over it pushes out the
        OLDEST waiting packets first, as __neigh_event_send does
        (NEIGHBOR_QUEUE_FULL; Linux counts them as unres_discards);
      - at most `max_entries` (gc_thresh3) addresses being resolved: a
        packet for one more is dropped (NEIGHBOR_TABLE_FULL; Linux's
        "neighbor table overflow");
      - at most `max_entries` resolved entries: learning one more forgets
        the least recently learned one that is not static, as Linux's
        forced garbage collection frees entries not confirmed lately.
    """

    def __init__(self, host: "Host", ethertype: int, solicit: Callable[[HostInterface, int], None], answer: str,
                 show: Callable[[int], str], queue_bytes: int = UNRES_QLEN_BYTES, max_entries: int = GC_THRESH3):
        self.host = host
        self.ethertype = ethertype
        self.solicit = solicit
        self.answer = answer             # what did not come: "ARP reply", "Neighbor Advertisement"
        self.show = show
        self.queue_bytes = queue_bytes
        self.max_entries = max_entries
        self.entries: dict[int, tuple[int, int]] = {}     # in the order learned: the oldest first
        self.pending: dict[int, _Pending] = {}
        self.discards = 0                # packets pushed out of a full queue (Linux: unres_discards)
        self.overflows = 0               # packets refused because the table was full
        self.peak_unresolved = 0
        self.peak_queue_bytes = 0        # the most bytes that waited for one address

    def learn(self, addr: int, mac: int, lifetime_ns: int = NEIGHBOR_LIFETIME_NS) -> None:
        if self.entries.pop(addr, None) is None:
            self._make_room()
        self.entries[addr] = (mac, self.host.sim.now_ns + lifetime_ns)
        waiting = self.pending.pop(addr, None)
        if waiting is not None:
            self.host.sim.cancel(waiting.timer)
            for iface, payload in waiting.packets:
                self.host._l2_send(iface, mac, self.ethertype, payload)
            waiting.packets.clear()          # the cancelled timer still holds `waiting` until its time

    def _make_room(self) -> None:
        """Forget the least recently learned entry that is not static (never expires) if the table is full."""
        if len(self.entries) < self.max_entries:
            return
        oldest = next((a for a, (_, expiry) in self.entries.items() if expiry < STATIC_EXPIRY_NS), None)
        if oldest is not None:
            del self.entries[oldest]

    def send(self, iface: HostInterface, next_hop: int, payload: bytes) -> None:
        entry = self.entries.get(next_hop)
        if entry is not None and entry[1] > self.host.sim.now_ns:
            self.host._l2_send(iface, entry[0], self.ethertype, payload)
            return
        waiting = self.pending.get(next_hop)
        if waiting is None:
            if len(self.pending) >= self.max_entries:
                self.overflows += 1
                self.host.drop_outgoing(DropReason.NEIGHBOR_TABLE_FULL,
                                        f"{self.max_entries} addresses being resolved; {self.show(next_hop)} is not")
                return
            waiting = self.pending[next_hop] = _Pending()
            self.peak_unresolved = max(self.peak_unresolved, len(self.pending))
            self._ask(iface, next_hop, waiting)
        self._enqueue(waiting, next_hop, iface, payload)

    def _enqueue(self, waiting: _Pending, addr: int, iface: HostInterface, payload: bytes) -> None:
        """__neigh_event_send: push out the oldest packets until this one fits (a lone packet always does)."""
        size = len(payload) + SKB_OVERHEAD
        while waiting.packets and waiting.bytes + size > self.queue_bytes:
            _, old = waiting.packets.popleft()
            waiting.bytes -= len(old) + SKB_OVERHEAD
            self.discards += 1
            if not waiting.full:
                waiting.full = f"{self.queue_bytes} bytes wait for {self.show(addr)}; the oldest packet goes"
            self.host.drop_outgoing(DropReason.NEIGHBOR_QUEUE_FULL, waiting.full)
        waiting.packets.append((iface, payload))
        waiting.bytes += size
        self.peak_queue_bytes = max(self.peak_queue_bytes, waiting.bytes)

    def held_bytes(self) -> int:
        return sum(w.bytes for w in self.pending.values())

    def _ask(self, iface: HostInterface, addr: int, waiting: _Pending) -> None:
        if waiting.tries >= ARP_RETRIES:
            self.pending.pop(addr, None)
            detail = f"no {self.answer} from {self.show(addr)}"
            for _ in waiting.packets:
                self.host.drop_outgoing(DropReason.NO_ROUTE, detail)
            return
        waiting.tries += 1
        self.solicit(iface, addr)
        waiting.timer = self.host.sim.schedule(ARP_RETRY_NS, self._ask, iface, addr, waiting)


_IPV4_FIELDS = P._IPV4.unpack_fields
# What _udp4_input reads of the Ethernet, IPv4 and UDP headers (laid out as P.IPV4_UDP), with one unpack: the
# destination MAC (as the bytes it is compared with); the EtherType, version and IHL, DSCP and ECN as one
# 32-bit number (the one frames it takes have: IPv4, no options, DSCP and ECN 0); totalLen; flags and
# fragOffset; the destination address; the UDP header. Not the ID, the TTL, the protocol (the caller looked at
# it), the header checksum (only the header's sum needs them) nor the source address (read for an RxPacket
# only). Fewer fields are fewer objects made for every datagram.
_ETH_IPV4_UDP_FIELDS = struct.Struct("!6s6xI" + "HxxHxxxxxxxxI" + "HHHH").unpack_from
# The EtherType IPv4, then version 4 and IHL 5, then DSCP and ECN 0: the frames _udp4_input takes.
_ETH_IPV4_PLAIN = P.ETH_IPV4 << 16 | 0x4500
_IPV4_UDP_FRAMER = P.Ipv4UdpFramer
_ETH_IPV4 = P.ETH_IPV4
_UDP_FIELDS = P._UDP.unpack_fields
_IP_UDP, _IP_ICMP, _IP_ICMPV6 = P.IP_UDP, P.IP_ICMP, P.IP_ICMPV6

# What the stack drops as useless to it but a packet socket may have wanted: an unknown EtherType or protocol,
# a closed port, a frame for another MAC (seen in promiscuous mode).
_PACKET_SOCKET_TAKES = frozenset({DropReason.NO_LISTENER, DropReason.NOT_FOR_US})


def _directed_broadcast(address: ipaddress.IPv4Interface) -> int | None:
    """The subnet's broadcast address; a /31 (RFC 3021, a point-to-point link) and a /32 have none, and their
    highest address is a host's own."""
    if address.network.prefixlen >= 31:
        return None
    return int(address.network.broadcast_address)


@dataclass(eq=False)
class PacketSocket:
    """An open packet socket of a host (Host.open_packet_socket); close() detaches it."""
    host: "Host"
    handler: Callable[[int, bytes], None]
    port: int | None
    promiscuous: bool
    # Only the frames the stack does not take (it drops them), after the stack has looked at them, with
    # `verdict` set to the stack's (reason, detail) for the handler to read: what a host prints as
    # "received" beside its own applications. A frame the stack had no use for (no listener, not for us)
    # counts as delivered to the socket; one it found broken stays dropped with its reason.
    unclaimed_only: bool = False
    verdict: tuple | None = None

    def close(self) -> None:
        if self in self.host.packet_sockets:
            self.host.packet_sockets.remove(self)


class Host:
    def __init__(self, sim: Simulator, name: str, interfaces: list[HostInterface], gateway4: int | None = None,
                 gateway6: int | None = None, reassembly_timeout_s: float = 60.0, default_ttl: int = 64):
        from .pmtu import PmtuCache
        self.sim = sim
        self.name = name
        self._routes4: dict[int, tuple[HostInterface, int] | None] = {}
        self._udp4_paths: dict[int, _Udp4Path] = {}
        self._mine4: frozenset[int] | None = None
        self.interfaces = {i.port: i for i in interfaces}
        self.gateway4 = gateway4
        self.gateway6 = gateway6
        self.default_ttl = default_ttl
        self.arp = NeighborCache(self, P.ETH_IPV4, self._arp_request, "ARP reply", P.ip4_str)
        self.nd = NeighborCache(self, P.ETH_IPV6, self._neighbor_solicit, "Neighbor Advertisement", P.ip6_str)
        self.protocols: dict[tuple[bool, int], Callable[[RxPacket], None]] = {}
        self.udp_sockets: dict[int, Callable[[RxPacket, int, int, bytes], None]] = {}
        self._udp_no_packet: dict[int, Callable] = {}    # handlers bound with packet=False, by port
        self.icmp_listeners: list[Callable[[IcmpNotice], None]] = []
        self.events: deque[tuple[int, str]] = deque(maxlen=EVENT_LOG_MAX)
        self.ident = 0
        self.app_ident = 0x1000                 # the last identifier given to an application here (apps)
        self.delivered = 0
        self.pmtu4 = PmtuCache(sim, v6=False)
        self.pmtu6 = PmtuCache(sim, v6=True)
        self.reassembly_timeout_ns = int(reassembly_timeout_s * 1e9)
        self._reasm: dict[bool, object] = {}
        self.tcp = None
        self.sctp = None
        self._rx_fate: str | None = "outside"
        self.packet_sockets: list[PacketSocket] = []
        # While a received frame is taken in: None if no packet socket took it, else the sockets that take only
        # what the stack drops, as (socket, port, frame), waiting for the stack's verdict.
        self._rx_tap: list | None = None

    # CPython 3.11 keeps the attributes of a class's instances in one table of at most 30 names, shared by the
    # instances; an instance given one name more gets a dictionary of its own, after which no attribute look-up
    # or method call on it is specialized (hundreds of instructions more for every datagram a host sends or
    # receives). So a Host has at most 30 attributes (tests/net/test_stack.py counts them): every one is set
    # here in __init__, and an alias is a property.

    @property
    def arp_cache(self) -> dict[int, tuple[int, int]]:
        """The ARP table: IPv4 address -> (MAC, expiry ns)."""
        return self.arp.entries

    # ------------------------------------------------------------------ configuration

    @property
    def interfaces(self) -> dict[int, HostInterface]:
        return self._interfaces

    @interfaces.setter
    def interfaces(self, interfaces: dict[int, HostInterface]) -> None:
        self._interfaces = interfaces
        for iface in interfaces.values():
            object.__setattr__(iface, "host", self)       # it tells the host when its IPv4 address changes
        self.routes_changed()

    @property
    def gateway4(self) -> int | None:
        return self._gateway4

    @gateway4.setter
    def gateway4(self, gateway: int | None) -> None:
        self._gateway4 = gateway
        self.routes_changed()

    def routes_changed(self) -> None:
        """Forget the IPv4 route decisions kept per destination and the set of own addresses: an address or
        the default router changed (done by the setters; call it after changing `interfaces` in place)."""
        self._routes4 = {}
        self._udp4_paths = {}
        self._mine4 = None

    def reassembly_state(self, v6: bool):
        """The IPv4 or IPv6 reassembler if a fragment ever arrived, else None (for reports)."""
        return self._reasm.get(v6)

    def reassembler(self, v6: bool):
        """The IPv4 or IPv6 reassembler, made when the first fragment arrives."""
        r = self._reasm.get(v6)
        if r is None:
            from .reassembly import Reassembler
            r = self._reasm[v6] = Reassembler(self.sim, v6, self.reassembly_timeout_ns, self._reassembly_error,
                                              self._reassembly_drop)
        return r

    # ------------------------------------------------------------------ bookkeeping

    def log(self, text: str) -> None:
        self.events.append((self.sim.now_ns, text))
        if self.sim.watchers:
            self.sim.notify("host_event", self, text)

    def drop(self, reason: DropReason, detail: str = "", port: int | None = None) -> None:
        """A received packet dropped here (its fate), or one dropped by a timer (reassembly)."""
        tap = self._rx_tap
        if tap:
            self._rx_tap = []
            for sock, port_in, frame in tap:
                sock.verdict = (reason, detail)
                sock.handler(port_in, frame)
        if tap is not None and reason in _PACKET_SOCKET_TAKES:
            # The stack has no use for the frame, but a packet socket read it: that is where it went.
            self.log(f"taken by a packet socket (the stack had {reason.value}" + (f": {detail})" if detail else ")"))
            self.deliver("packet socket")
            return
        self.sim.ledger.drop(DropRecord(self.sim.now_ns, self.name, reason, detail, port))
        self.log(f"drop: {reason.value}" + (f" ({detail})" if detail else ""))
        if self._rx_fate is None:
            self._rx_fate = "dropped"

    def drop_outgoing(self, reason: DropReason, detail: str = "") -> None:
        """A packet this host could not send (no route, no neighbour, no link): never a received frame's fate."""
        self.sim.ledger.drop(DropRecord(self.sim.now_ns, self.name, reason, detail))
        self.log(f"cannot send: {reason.value}" + (f" ({detail})" if detail else ""))

    def deliver(self, what: str) -> None:
        """The received frame was taken in by the stack (an application, ARP, ND, or a reply)."""
        self.delivered += 1
        if self._rx_fate is None:
            self._rx_fate = "delivered"

    def limits_reached(self) -> list[str]:
        """The bounds on state kept for others that were reached in this run, one phrase each (run summary)."""
        out = []
        for name, cache in (("ARP", self.arp), ("ND", self.nd)):
            if cache.discards or cache.overflows:
                out.append(f"{name} queues: {cache.discards} packets pushed out ({cache.queue_bytes} bytes per "
                           f"address), {cache.overflows} refused ({cache.max_entries} unresolved at most)")
        for v6, r in sorted(self._reasm.items()):
            if r.evictions:
                out.append(f"IPv{6 if v6 else 4} reassembly: {r.evictions} datagrams evicted, peak "
                           f"{r.peak_bytes} of {r.max_bytes} bytes")
        for port, listener in sorted(self.tcp.listeners.items() if self.tcp is not None else ()):
            stats = listener.stats
            if stats.get("syn_queue_overflows") or stats.get("accept_queue_overflows"):
                out.append(f"TCP port {port} (SYN backlog {listener.syn_backlog}): "
                           + ", ".join(f"{k.replace('_', ' ')} {n}" for k, n in stats.items() if n))
        return out

    def is_mine(self, dst: int, v6: bool) -> bool:
        """Whether dst is one of this host's addresses (on any interface), cheaply: it is asked for every
        packet sent, and only a link-local destination needs the link-local addresses worked out."""
        if not v6:
            mine = self._mine4
            return dst in (mine if mine is not None else self._own4())
        if dst >> 118 == 0x3FA:
            return any(i.link_local() == dst for i in self.interfaces.values())
        return any(int(a.ip) == dst for i in self.interfaces.values() for a in i.ipv6)

    def _own4(self) -> frozenset[int]:
        """The host's IPv4 addresses, worked out again (is_mine keeps them until routes_changed)."""
        mine = self._mine4 = frozenset(i.ip4 for i in self.interfaces.values() if i.ip4 is not None)
        return mine

    _ALL_NODES = P.ip6("ff02::1")
    _SOLICITED_PREFIX = P.solicited_node(0) >> 24

    def _listens_to(self, group: int) -> bool:
        """Whether this host has joined IPv6 multicast `group`: all-nodes, or the solicited-node group of
        one of its addresses (checked only for such groups: the address set is built for NS alone)."""
        if group == self._ALL_NODES:
            return True
        return group >> 24 == self._SOLICITED_PREFIX and any(P.solicited_node(a) == group for a in self.addresses6())

    def addresses6(self) -> set[int]:
        out = set()
        for i in self.interfaces.values():
            out |= {int(a.ip) for a in i.ipv6}
            out.add(i.link_local())
        return out

    def primary_address(self, v6: bool = False) -> int | None:
        for i in sorted(self.interfaces.values(), key=lambda i: i.port):
            if v6:
                for a in i.ipv6:
                    if not a.ip.is_link_local:
                        return int(a.ip)
            elif i.ipv4 is not None:
                return int(i.ipv4.ip)
        return None

    # ------------------------------------------------------------------ link layer

    def receive(self, port: int, frame: bytes) -> None:
        """A frame from a link. Its fate (delivered, dropped, or kept for reassembly) goes to the ledger."""
        sim = self.sim
        if sim.watchers:
            sim.notify("host_rx", self, port, frame)
        self._rx_fate = None
        if self.packet_sockets:
            self._rx_tap = self._to_packet_sockets(port, frame)
        # (frame[23] is the IPv4 protocol of a header without options: TCP and the rest go straight on)
        if len(frame) < 42 or frame[23] != _IP_UDP or not self._udp4_input(port, frame):
            self._receive(port, frame)
        if self._rx_tap is not None:
            self._rx_tap = None                 # (unclaimed frames the stack took in are not the sockets')
        if self._rx_fate is None:
            self.drop(DropReason.PIPELINE_ERROR, "the host stack neither delivered nor dropped the frame", port)
        # (the counts themselves: reading Ledger.fates first adds the frames routers relayed, a call a frame)
        sim.ledger.fate_counts[self._rx_fate] += 1
        if sim.watchers:
            sim.notify("host_rx_fate", self, self._rx_fate)
        self._rx_fate = "outside"               # drops from timers are not the fate of a received frame

    def open_packet_socket(self, handler: Callable[[int, bytes], None], port: int | None = None,
                           promiscuous: bool = False, unclaimed_only: bool = False) -> "PacketSocket":
        """An AF_PACKET socket: handler(port, frame) gets a copy of every frame received on `port` (every
        port if None) that is addressed to the interface, a group, or broadcast (any frame if promiscuous),
        before the stack sees it. A frame the stack has no use for counts as delivered to the socket,
        unless the handler returns False: its filter rejected the frame (as a BPF filter does).
        With `unclaimed_only`, the handler gets only the frames the stack drops, once it has dropped them
        (the socket's `verdict` says why)."""
        if port is not None and port not in self.interfaces:
            raise ValueError(f"host {self.name} has no port {port}")
        sock = PacketSocket(self, handler, port, promiscuous, unclaimed_only)
        self.packet_sockets.append(sock)
        return sock

    def _to_packet_sockets(self, port: int, frame: bytes) -> list | None:
        """Give the frame to the packet sockets that want it now; None if none took it, else those that want it
        only if the stack drops it, as (socket, port, frame) (an empty list if there are none)."""
        iface = self.interfaces.get(port)
        if iface is None or len(frame) < 14:
            return None
        dst = int.from_bytes(frame[0:6], "big")
        for_us = dst == iface.mac or bool((dst >> 40) & 1)
        taken = None
        for sock in list(self.packet_sockets):
            if (sock.port is None or sock.port == port) and (for_us or sock.promiscuous):
                if sock.unclaimed_only:
                    if taken is None:
                        taken = []
                    taken.append((sock, port, frame))
                elif sock.handler(port, frame) is not False and taken is None:
                    taken = []
        return taken

    def send_frame(self, port: int, frame: bytes) -> bool:
        """Send a whole Ethernet frame as it is on `port` (an AF_PACKET send); False (and a drop with its
        reason) if the port has no link or the frame is shorter than an Ethernet header."""
        iface = self.interfaces.get(port)
        if iface is None or iface.link is None:
            self.drop_outgoing(DropReason.LINK_DOWN, f"interface {port} is not connected")
            return False
        if len(frame) < 14:
            self.drop_outgoing(DropReason.MALFORMED, f"a {len(frame)}-byte frame is shorter than an Ethernet header")
            return False
        self.log(f"packet socket sends {len(frame)} bytes on port {port}")
        iface.link.send(self, port, frame)
        return True

    def _held(self) -> None:
        if self._rx_fate is None:
            self._rx_fate = "reassembly"

    def _receive(self, port: int, frame: bytes) -> None:
        iface = self._interfaces.get(port)
        if iface is None or len(frame) < 14:
            self.drop(DropReason.MALFORMED, "runt frame", port)
            return
        dst = int.from_bytes(frame[0:6], "big")
        if dst != iface.mac and not (dst >> 40) & 1:
            self.drop(DropReason.NOT_FOR_US, "frame for another MAC", port)
            return
        etype = int.from_bytes(frame[12:14], "big")
        payload = frame[14:]
        if etype == _ETH_IPV4:
            self._ipv4_input(iface, payload, dst)
        elif etype == P.ETH_ARP:
            self._arp_input(iface, payload)
        elif etype == P.ETH_IPV6:
            self._ipv6_input(iface, payload, dst)
        else:
            self.drop(DropReason.NO_LISTENER, f"EtherType 0x{etype:04x}", port)

    def _l2_send(self, iface: HostInterface, dst_mac: int, ethertype: int, payload: bytes) -> None:
        if iface.link is None:
            self.drop_outgoing(DropReason.LINK_DOWN, f"interface {iface.port} is not connected")
            return
        iface.link.send(self, iface.port, P.ethernet(dst_mac, iface.mac, ethertype, payload))

    # ------------------------------------------------------------------ ARP (RFC 826)

    def _arp_input(self, iface: HostInterface, payload: bytes) -> None:
        try:
            a = P._ARP.unpack(payload)
        except ValueError:
            self.drop(DropReason.MALFORMED, "truncated ARP", iface.port)
            return
        mine = iface.ip4 is not None and a["tpa"] == iface.ip4
        # RFC 826: update an entry for the sender if we have one, or if the request is for us.
        if a["spa"] in self.arp.entries or mine:
            self.arp.learn(a["spa"], a["sha"])
        if a["oper"] == 1 and mine:
            self.log(f"ARP reply to {P.ip4_str(a['spa'])}: {P.ip4_str(a['tpa'])} is at {P.mac_str(iface.mac)}")
            self._l2_send(iface, a["sha"], P.ETH_ARP, P.arp(2, iface.mac, a["tpa"], a["sha"], a["spa"]))
        self.deliver("arp")

    def _arp_request(self, iface: HostInterface, ip: int) -> None:
        self.log(f"ARP who-has {P.ip4_str(ip)}")
        self._l2_send(iface, P.BROADCAST_MAC, P.ETH_ARP, P.arp(1, iface.mac, int(iface.ipv4.ip), 0, ip))

    # ------------------------------------------------------------------ IPv4 output

    # Route decisions kept per destination, at most this many (a flood from random sources is answered to
    # random destinations); when full, the cache starts again empty.
    ROUTE_CACHE_MAX = 4096

    def route4(self, dst: int) -> tuple[HostInterface, int] | None:
        """(interface, next hop) for an IPv4 destination: on-link, else the default router.

        Decided once per destination, then kept until an address or the default router changes."""
        routes = self._routes4
        try:
            return routes[dst]
        except KeyError:
            pass
        if not 0 <= dst <= 0xFFFFFFFF:
            ipaddress.IPv4Address(dst)          # the error an address out of range has always raised
        r = self._route4(dst)
        if len(routes) >= self.ROUTE_CACHE_MAX:
            routes.clear()
        routes[dst] = r
        return r

    def _route4(self, dst: int) -> tuple[HostInterface, int] | None:
        for i in self.interfaces.values():
            if i.ip4 is not None and dst & i.mask4 == i.net4:
                return i, dst
        gateway = self._gateway4
        if gateway is not None:
            for i in self.interfaces.values():
                if i.ip4 is not None and gateway & i.mask4 == i.net4:
                    return i, gateway
        return None

    def send_ipv4(self, dst: int, proto: int, payload: bytes, ttl: int | None = None, df: bool = False,
                  src: int | None = None, dscp: int = 0, ecn: int = 0, ident: int | None = None) -> str | None:
        """Send an IPv4 packet; returns None, or why it could not be sent (for the application)."""
        if self.is_mine(dst, False):
            return self._loopback(False, dst, P.ipv4(dst if src is None else src, dst, proto, payload,
                                                     ident=self._new_ident() if ident is None else ident,
                                                     ttl=self.default_ttl if ttl is None else ttl, df=df, dscp=dscp,
                                                     ecn=ecn))
        r = self.route4(dst)
        if r is None and dst != 0xFFFFFFFF:
            self.drop_outgoing(DropReason.NO_ROUTE, P.ip4_str(dst))
            return "no route to host"
        iface, next_hop = r if r is not None else (next(iter(self.interfaces.values())), dst)
        if src is None:
            src = iface.ip4 if iface.ip4 is not None else int(iface.ipv4.ip)
        if ident is None:
            ident = self._new_ident()
        datagram = P.ipv4(src, dst, proto, payload, ttl=self.default_ttl if ttl is None else ttl, ident=ident,
                          df=df, dscp=dscp, ecn=ecn)
        mtu = self.pmtu4.mtu(dst, iface.mtu) if self.pmtu4.entries else iface.mtu
        if len(datagram) > mtu:
            if df:
                self.log(f"cannot send {len(datagram)} bytes to {P.ip4_str(dst)} with DF: path MTU is {mtu}")
                return f"message too long (path MTU {mtu})"
            frags = fragment_ipv4(datagram, min(mtu, iface.mtu))
            self.log(f"fragmenting {len(datagram)} bytes into {len(frags)} fragments for MTU {mtu}")
        elif dst != 0xFFFFFFFF:
            self.arp.send(iface, next_hop, datagram)          # the common case: one packet, to a neighbour
            return None
        else:
            frags = [datagram]
        for f in frags:
            if dst == 0xFFFFFFFF:
                self._l2_send(iface, P.BROADCAST_MAC, P.ETH_IPV4, f)
            else:
                self.arp.send(iface, next_hop, f)
        return None

    def _new_ident(self) -> int:
        """The next IPv4 Identification (RFC 791): one counter for the host."""
        self.ident = (self.ident + 1) & 0xFFFF
        return self.ident

    def send_datagram(self, datagram: bytes, v6: bool = False) -> str | None:
        """Send a whole IP packet the caller built, as a raw socket with IP_HDRINCL does: routed to its
        destination and resolved like any other, never fragmented; too big for the interface, it is refused
        (EMSGSIZE in Linux's raw_send_hdrinc)."""
        dst = int.from_bytes(datagram[24:40] if v6 else datagram[16:20], "big")
        if self.is_mine(dst, v6):
            return self._loopback(v6, dst, datagram)
        r = self.route6(dst) if v6 else self.route4(dst)
        if r is None:
            self.drop_outgoing(DropReason.NO_ROUTE, _addr(dst, v6))
            return "no route to host"
        iface, next_hop = r
        if len(datagram) > iface.mtu:
            self.log(f"cannot send {len(datagram)} bytes to {_addr(dst, v6)}: MTU {iface.mtu}")
            return f"message too long (MTU {iface.mtu})"
        (self.nd if v6 else self.arp).send(iface, next_hop, datagram)
        return None

    # ------------------------------------------------------------------ loopback

    def _loopback(self, v6: bool, dst: int, datagram: bytes) -> None:
        """A packet to one of our own addresses, on any interface: Linux routes it through the loopback
        device (the `local` routing table), so it never reaches a link, is never fragmented (lo's MTU is
        65536) and comes back in as a received packet once the sender is done (netif_rx), with TTL intact."""
        self.log(f"loopback: {len(datagram)} bytes to {_addr(dst, v6)}")
        owner = next(i for i in self.interfaces.values()
                     if (v6 and (dst == i.link_local() or any(int(a.ip) == dst for a in i.ipv6)))
                     or (not v6 and i.ipv4 is not None and int(i.ipv4.ip) == dst))
        self.sim.schedule(0, self._loopback_input, v6, owner, datagram)
        return None

    def _loopback_input(self, v6: bool, iface: HostInterface, datagram: bytes) -> None:
        # Not a frame from a link, so it has no fate in the ledger's frame counts; drops are still recorded.
        if v6:
            self._ipv6_input(iface, datagram, iface.mac)
        else:
            self._ipv4_input(iface, datagram, iface.mac)

    # ------------------------------------------------------------------ IPv4 input

    def _udp4_input(self, port: int, frame: bytes) -> bool:
        """The commonest frame, taken in one step from the link: a frame to the interface's MAC (or a group)
        with a whole, unfragmented IPv4 datagram without options to one of our addresses, carrying UDP to an
        open port, both checksums right. Its Ethernet, IPv4 and UDP headers are read with one unpack, and the
        checksums summed from the bytes they cover, read as numbers (see checksums.data_sum).

        Returns False, having done nothing, for any other frame: _receive then takes it from the start and
        makes every check in its order, so drops, their reasons and ICMP errors are its own.
        The frame has the 42 bytes of the three headers and UDP's protocol number where an IPv4 header without
        options has it (the caller checked)."""
        iface = self._interfaces.get(port)
        if iface is None:
            return False
        mac, plain, total, frag, dst, sport, dport, length, udp_ck = _ETH_IPV4_UDP_FIELDS(frame)
        if plain != _ETH_IPV4_PLAIN or frag & 0x3FFF or not 28 <= total <= len(frame) - 14 \
                or not 8 <= length <= total - 20:
            return False
        # To the interface's MAC, or to a group: the I/G bit of the MAC's first byte (a broadcast or multicast).
        if mac != iface.mac_bytes and not mac[0] & 1:
            return False
        # internet_checksum of the header is 0: its words (nonzero: the version is 4) sum to a multiple of 0xFFFF,
        # as the header read as one number does (see checksums.data_sum).
        if big_endian_int(frame[14:34]) % 0xFFFF:
            return False
        mine = self._mine4
        if dst not in (mine if mine is not None else self._own4()) or dst == iface.bcast4:
            return False
        handler = self.udp_sockets.get(dport)
        if handler is None:
            return False
        if udp_ck:                  # R29: zero is "no checksum" over IPv4; else verify_transport's sum
            # The addresses, the UDP header and the data, as one number (checksums.data_sum, inline: the bytes
            # from the source address on start at an even offset), and the rest of the pseudo header.
            value = big_endian_int(frame[26:34 + length])
            if length & 1:
                value <<= 8
            if (value % 0xFFFF + _IP_UDP + length) % 0xFFFF:
                return False
        data = frame[42:34 + length]
        if self._udp_no_packet.get(dport) is handler:
            pkt = None              # the handler said it never reads the packet (udp_bind)
        else:
            end = 14 + total
            pkt = RxPacket(False, big_endian_int(frame[26:30]), dst, _IP_UDP, frame[34:end], frame[22], frame[14:end],
                           iface, mac[0] & 1 != 0)
        handler(pkt, sport, dport, data)
        self.delivered += 1                 # deliver("udp"), inline
        if self._rx_fate is None:
            self._rx_fate = "delivered"
        return True

    def _ipv4_input(self, iface: HostInterface, data: bytes, l2_dst: int) -> None:
        if len(data) < 20:
            self.drop(DropReason.MALFORMED, "truncated IPv4 header", iface.port)
            return
        version, ihl, _, _, total, _, _, _, mf, frag, ttl, proto, _, src, dst = _IPV4_FIELDS(data)
        hl = ihl * 4
        if version != 4 or ihl < 5 or total < hl or len(data) < total:
            self.drop(DropReason.MALFORMED, "invalid IPv4 header", iface.port)
            return
        if internet_checksum(data[:hl]) != 0:
            self.drop(DropReason.BAD_CHECKSUM, "IPv4 header checksum", iface.port)
            return
        if len(data) != total:
            data = data[:total]
        bcast = dst == 0xFFFFFFFF or dst == iface.bcast4
        if not bcast and not self.is_mine(dst, False):
            self.drop(DropReason.NOT_FOR_US, P.ip4_str(dst), iface.port)
            return
        if mf or frag:
            whole = self.reassembler(False).add_ipv4(data)
            if whole is None:
                self._held()                 # kept for reassembly (unless the reassembler dropped it)
                return
            data = whole
            _, ihl, _, _, total, _, _, _, _, _, ttl, proto, _, src, _ = _IPV4_FIELDS(data)
            hl = ihl * 4
        pkt = RxPacket(False, src, dst, proto, data[hl:total], ttl, data, iface, bcast or bool((l2_dst >> 40) & 1))
        self._demux(pkt)

    def _demux(self, pkt: RxPacket) -> None:
        proto = pkt.proto
        if proto == _IP_UDP:                  # the commonest first: the protocol numbers are all different
            self._udp_input(pkt)
            return
        if (proto == _IP_ICMP and not pkt.v6) or (proto == _IP_ICMPV6 and pkt.v6):
            self._icmp_input(pkt)
            return
        handler = self.protocols.get((pkt.v6, pkt.proto))
        if handler is not None:
            handler(pkt)
            return
        # R11: no such protocol here.
        if pkt.v6:
            self.send_icmpv6_error(pkt, 4, 1, 6)
        else:
            self.send_icmp_error(pkt, 3, 2)
        self.drop(DropReason.NO_LISTENER, f"protocol {pkt.proto}")

    # ------------------------------------------------------------------ ICMP

    def _icmp_input(self, pkt: RxPacket) -> None:
        p = pkt.payload
        if len(p) < 8:
            self.drop(DropReason.MALFORMED, "truncated ICMP")
            return
        if pkt.v6:
            if verify_transport(pkt.src, pkt.dst, P.IP_ICMPV6, p, v6=True) is not None:
                self.drop(DropReason.BAD_CHECKSUM, "ICMPv6")
                return
        elif internet_checksum(p) != 0:
            self.drop(DropReason.BAD_CHECKSUM, "ICMP")
            return
        t, code = p[0], p[1]
        body = int.from_bytes(p[4:8], "big")
        if pkt.v6 and t in (133, 134, 135, 136, 137):
            self._nd_input(pkt, t, p)
            return
        echo_request = 128 if pkt.v6 else 8
        if t == echo_request:
            self._echo_reply(pkt, body, p[8:])
            return
        notice = IcmpNotice(pkt.v6, t, code, pkt.src, body, p[8:], pkt.ttl, self.sim.now_ns)
        is_error = (t < 128) if pkt.v6 else (t in ICMP_ERROR_TYPES_V4)
        if is_error:
            self._icmp_error_input(notice)
        for listener in list(self.icmp_listeners):
            listener(notice)
        self.deliver("icmp")

    def _echo_reply(self, pkt: RxPacket, body: int, data: bytes) -> None:
        """R11 / R28: the reply comes from the address the request was sent to, with id, sequence and data."""
        if pkt.broadcast and not pkt.v6:
            self.deliver("broadcast echo (not answered)")
            return
        self.log(f"echo request from {_addr(pkt.src, pkt.v6)}: replying")
        if pkt.v6:
            src = pkt.dst if pkt.dst >> 120 != 0xFF else self.primary_address(True)
            self.send_ipv6(pkt.src, P.IP_ICMPV6, P.icmpv6(src, pkt.src, 129, 0, body, data), src=src)
        else:
            self.send_ipv4(pkt.src, P.IP_ICMP, P.icmp(0, 0, body, data), src=pkt.dst)
        self.deliver("echo")

    def _icmp_error_input(self, n: IcmpNotice) -> None:
        """Errors that change the stack's state: the path MTU (R16, R26)."""
        if not n.v6 and n.type == 3 and n.code == 4 and len(n.data) >= 20:
            quoted = P._IPV4.unpack(n.data)
            self.pmtu4.on_frag_needed(quoted["dstAddr"], n.body & 0xFFFF, quoted["totalLen"])
            self.log(f"fragmentation needed for {P.ip4_str(quoted['dstAddr'])}: next-hop MTU {n.body & 0xFFFF}")
        if n.v6 and n.type == 2 and len(n.data) >= 40:
            quoted = P._IPV6.unpack(n.data)
            self.pmtu6.on_packet_too_big(quoted["dstAddr"], n.body)
            self.log(f"packet too big for {P.ip6_str(quoted['dstAddr'])}: MTU {n.body}")

    def may_send_error_about(self, pkt: RxPacket) -> bool:
        """R9 / R28 for hosts: never about errors, broadcasts, multicasts or bad sources."""
        if pkt.broadcast:
            return False
        if pkt.v6:
            if pkt.src == 0 or pkt.src >> 120 == 0xFF or pkt.dst >> 120 == 0xFF:
                return False
            if pkt.proto == P.IP_ICMPV6 and pkt.payload and (pkt.payload[0] < 128 or pkt.payload[0] == 137):
                return False
            return True
        if pkt.dst == 0xFFFFFFFF or pkt.dst >> 28 == 0xE or pkt.src >> 28 in (0xE, 0xF) or pkt.src >> 24 in (0, 127):
            return False
        if pkt.proto == P.IP_ICMP and pkt.payload and pkt.payload[0] in ICMP_ERROR_TYPES_V4:
            return False
        if P._IPV4.unpack(pkt.datagram)["fragOffset"] != 0:
            return False
        return True

    def send_icmp_error(self, pkt: RxPacket, type_: int, code: int, rest: int = 0) -> None:
        if not self.may_send_error_about(pkt):
            return
        quote = pkt.datagram[:576 - 28]
        self.log(f"sending ICMP {type_}/{code} to {P.ip4_str(pkt.src)}")
        self.send_ipv4(pkt.src, P.IP_ICMP, P.icmp(type_, code, rest, quote), src=pkt.dst)

    def send_icmpv6_error(self, pkt: RxPacket, type_: int, code: int, body: int = 0) -> None:
        if not self.may_send_error_about(pkt):
            return
        quote = pkt.datagram[:1280 - 48]
        self.log(f"sending ICMPv6 {type_}/{code} to {P.ip6_str(pkt.src)}")
        self.send_ipv6(pkt.src, P.IP_ICMPV6, P.icmpv6(pkt.dst, pkt.src, type_, code, body, quote), src=pkt.dst)

    def _reassembly_error(self, v6: bool, first_fragment: bytes, type_: int, code: int, pointer: int) -> None:
        """Sent by the reassembler: Time Exceeded 11/1 (R18, R23) or Parameter Problem (R23)."""
        iface = next(iter(self.interfaces.values()))
        if v6:
            h = P._IPV6.unpack(first_fragment)
            pkt = RxPacket(True, h["srcAddr"], h["dstAddr"], h["nextHdr"], first_fragment[40:], h["hopLimit"],
                           first_fragment, iface)
            self.send_icmpv6_error(pkt, type_, code, pointer)
        else:
            h = P._IPV4.unpack(first_fragment)
            pkt = RxPacket(False, h["srcAddr"], h["dstAddr"], h["protocol"], first_fragment[h["ihl"] * 4:], h["ttl"],
                           first_fragment, iface)
            # The quoted first fragment has offset 0; a datagram to a broadcast address gets no error (R9).
            pkt.broadcast = not self.is_mine(h["dstAddr"], False)
            self.send_icmp_error(pkt, type_, code, pointer << 24 if type_ == 12 else 0)

    def _reassembly_drop(self, reason: DropReason, detail: str) -> None:
        if reason in (DropReason.REASSEMBLY_EVICTED, DropReason.REASSEMBLY_TIMEOUT):
            self.drop_held(reason, detail)
        else:
            self.drop(reason, detail)

    def drop_held(self, reason: DropReason, detail: str) -> None:
        """A datagram held for reassembly dropped (timed out, evicted): its fragments' frames got their fate
        ("reassembly") when they arrived, so this is never the fate of the frame being received now."""
        self.sim.ledger.drop(DropRecord(self.sim.now_ns, self.name, reason, detail))
        self.log(f"drop: {reason.value} ({detail})")

    # ------------------------------------------------------------------ IPv6 (RFC 8200) and ND (RFC 4861)

    def route6(self, dst: int) -> tuple[HostInterface, int] | None:
        for i in self.interfaces.values():
            for a in i.ipv6:
                if ipaddress.IPv6Address(dst) in a.network:
                    return i, dst
        if dst >> 118 == 0x3FA:            # fe80::/10: on the (only) link
            return next(iter(self.interfaces.values())), dst
        if self.gateway6 is not None:
            for i in self.interfaces.values():
                if i.ipv6 or i.link_local():
                    return i, self.gateway6
        return None

    def source6(self, iface: HostInterface, dst: int) -> int:
        if dst >> 118 == 0x3FA or (dst >> 120 == 0xFF and (dst >> 112) & 0xF == 2):
            return iface.link_local()
        for a in iface.ipv6:
            if not a.ip.is_link_local:
                return int(a.ip)
        return iface.link_local()

    def send_ipv6(self, dst: int, next_header: int, payload: bytes, hop_limit: int | None = None,
                  src: int | None = None, traffic_class: int = 0) -> str | None:
        if dst >> 120 == 0xFF:
            iface = next(iter(self.interfaces.values()))
            src = src if src is not None else self.source6(iface, dst)
            pkt = P.ipv6(src, dst, next_header, payload, hop_limit=hop_limit or 255)
            self._l2_send(iface, P.multicast_mac_v6(dst), P.ETH_IPV6, pkt)
            return None
        if self.is_mine(dst, True):
            return self._loopback(True, dst, P.ipv6(dst if src is None else src, dst, next_header, payload,
                                                    hop_limit=self.default_ttl if hop_limit is None else hop_limit,
                                                    traffic_class=traffic_class))
        r = self.route6(dst)
        if r is None:
            self.drop_outgoing(DropReason.NO_ROUTE, P.ip6_str(dst))
            return "no route to host"
        iface, next_hop = r
        if src is None:
            src = self.source6(iface, dst)
        datagram = P.ipv6(src, dst, next_header, payload,
                          hop_limit=self.default_ttl if hop_limit is None else hop_limit,
                          traffic_class=traffic_class)
        mtu = self.pmtu6.mtu(dst, iface.mtu)
        if len(datagram) > mtu:
            frags = self._fragment6(src, dst, next_header, payload, mtu, hop_limit, traffic_class)
            self.log(f"fragmenting {len(datagram)} bytes into {len(frags)} IPv6 fragments for MTU {mtu}")
        else:
            frags = [datagram]
        for f in frags:
            self.nd.send(iface, next_hop, f)
        return None

    def _fragment6(self, src, dst, nh, payload, mtu, hop_limit, tc) -> list[bytes]:
        """RFC 8200 4.5: the source fragments; every fragment but the last carries a multiple of 8 bytes."""
        self.ident = (self.ident + 1) & 0xFFFFFFFF
        per = (mtu - 40 - 8) // 8 * 8
        out = []
        for off in range(0, len(payload), per):
            chunk = payload[off:off + per]
            more = off + per < len(payload)
            fh = P.ipv6_fragment_header(nh, off // 8, more, self.ident)
            out.append(P.ipv6(src, dst, P.IP_FRAG6, fh + chunk,
                              hop_limit=self.default_ttl if hop_limit is None else hop_limit, traffic_class=tc))
        return out

    def _neighbor_solicit(self, iface: HostInterface, target: int) -> None:
        self.log(f"neighbor solicitation for {P.ip6_str(target)}")
        dst = P.solicited_node(target)
        src = self.source6(iface, target)
        option = bytes([1, 1]) + iface.mac.to_bytes(6, "big")        # source link-layer address
        ns = P.icmpv6(src, dst, 135, 0, 0, target.to_bytes(16, "big") + option)
        self._l2_send(iface, P.multicast_mac_v6(dst), P.ETH_IPV6, P.ipv6(src, dst, P.IP_ICMPV6, ns, hop_limit=255))

    def _nd_input(self, pkt: RxPacket, t: int, p: bytes) -> None:
        if pkt.ttl != 255:
            self.drop(DropReason.MALFORMED, "Neighbor Discovery with a hop limit other than 255")
            return
        iface = pkt.iface
        if t == 135 and len(p) >= 24:
            target = int.from_bytes(p[8:24], "big")
            if target not in ({int(a.ip) for a in iface.ipv6} | {iface.link_local()}):
                self.deliver("NS for another")
                return
            lladdr = _nd_option(p[24:], 1)
            if lladdr is not None and pkt.src != 0:
                self.nd.learn(pkt.src, lladdr)
            dst = pkt.src if pkt.src != 0 else P.ip6("ff02::1")
            flags = (int(pkt.src != 0) << 30) | (1 << 29)              # Solicited, Override
            option = bytes([2, 1]) + iface.mac.to_bytes(6, "big")
            na = P.icmpv6(target, dst, 136, 0, flags, target.to_bytes(16, "big") + option)
            mac = lladdr if (lladdr is not None and pkt.src != 0) else P.multicast_mac_v6(dst)
            self._l2_send(iface, mac, P.ETH_IPV6, P.ipv6(target, dst, P.IP_ICMPV6, na, hop_limit=255))
        elif t == 136 and len(p) >= 24:
            target = int.from_bytes(p[8:24], "big")
            lladdr = _nd_option(p[24:], 2)
            if lladdr is not None:
                self.nd.learn(target, lladdr)
        self.deliver("nd")

    def _ipv6_input(self, iface: HostInterface, data: bytes, l2_dst: int) -> None:
        if len(data) < 40:
            self.drop(DropReason.MALFORMED, "truncated IPv6 header", iface.port)
            return
        h = P._IPV6.unpack(data)
        if h["version"] != 6 or len(data) < 40 + h["payloadLen"]:
            self.drop(DropReason.MALFORMED, "invalid IPv6 header", iface.port)
            return
        data = data[:40 + h["payloadLen"]]
        dst = h["dstAddr"]
        if not self.is_mine(dst, True) and not self._listens_to(dst):
            self.drop(DropReason.NOT_FOR_US, P.ip6_str(dst), iface.port)
            return
        nh, off = h["nextHdr"], 40
        # Walk the extension headers up to a fragment header or the upper layer.
        while nh in (0, 43, 60):
            if len(data) < off + 2:
                self.drop(DropReason.MALFORMED, "truncated IPv6 extension header")
                return
            nh, off = data[off], off + 8 * (data[off + 1] + 1)
        if nh == P.IP_FRAG6:
            whole = self.reassembler(True).add_ipv6(data, off)
            if whole is None:
                self._held()
                return
            data = whole
            h = P._IPV6.unpack(data)
            nh, off = h["nextHdr"], 40
            while nh in (0, 43, 60):
                nh, off = data[off], off + 8 * (data[off + 1] + 1)
        pkt = RxPacket(True, h["srcAddr"], dst, nh, data[off:], h["hopLimit"], data, iface)
        pkt.broadcast = dst >> 120 == 0xFF
        self._demux(pkt)

    # ------------------------------------------------------------------ UDP (RFC 768)

    def udp_bind(self, port: int, handler: Callable[[RxPacket | None, int, int, bytes], None],
                 packet: bool = True) -> None:
        """handler(packet, source port, destination port, data) for datagrams to `port`. A handler that never
        reads the packet may say so (packet=False): the datagrams taken in one step (_udp4_input) then come
        with None, not with an RxPacket built for nothing."""
        self.udp_sockets[port] = handler
        if packet:
            self._udp_no_packet.pop(port, None)
        else:
            self._udp_no_packet[port] = handler     # (only while udp_sockets holds this same handler)

    def udp_send(self, dst: int, sport: int, dport: int, data: bytes, v6: bool = False, ttl: int | None = None,
                 df: bool = False, data_sum: int | None = None) -> str | None:
        """Send a UDP datagram; returns None, or why it could not be sent. `data_sum` may say what
        packets.word_sum(data) is (any int >= 0 equal to it modulo 0xFFFF), from an application that knows it
        cheaper than summing the data; the checksum is the same either way."""
        if v6:
            r = self.route6(dst)
            if r is None:
                self.drop_outgoing(DropReason.NO_ROUTE, P.ip6_str(dst))
                return "no route to host"
            src = self.source6(r[0], dst)
            return self.send_ipv6(dst, P.IP_UDP, P.udp(src, dst, sport, dport, data, v6=True), hop_limit=ttl, src=src)
        if self._udp4_send(dst, sport, dport, data, ttl, df, data_sum):
            return None
        r = self.route4(dst)
        if r is None:
            self.drop_outgoing(DropReason.NO_ROUTE, P.ip4_str(dst))
            return "no route to host"
        src = r[0].ip4
        return self.send_ipv4(dst, P.IP_UDP, P.udp(src, dst, sport, dport, data), ttl=ttl, df=df, src=src)

    def _udp4_send(self, dst: int, sport: int, dport: int, data: bytes, ttl: int | None, df: bool,
                   data_sum: int | None = None) -> bool:
        """The commonest datagram, sent in one step: to a routed destination that is not ours, whose next hop
        is resolved, small enough for the interface with no path-MTU entries. The frame is what
        udp -> send_ipv4 -> NeighborCache.send -> _l2_send make, built with one pack (by an Ipv4UdpFramer kept
        with the path), and handed to the link's end at the interface, kept with the path while the interface
        keeps its link.

        Returns False, having done nothing (not even taken an IPv4 ID), for any other datagram or for values
        the pack refuses: the general path then sends it, or drops it, or says why it cannot."""
        path = self._udp4_paths.get(dst)
        if path is None:
            path = self._udp4_path(dst)
            if path is None:
                return False
        iface = path.iface
        link = iface.link
        entry = self.arp.entries.get(path.next_hop)
        # (a df that is not a bool goes the general way too, which checks that it fits its one bit)
        if entry is None or entry[1] <= self.sim.now_ns or link is None or 28 + len(data) > iface.mtu \
                or self.pmtu4.entries or (df is not False and df is not True):
            return False
        # The framer is made again when the entry or the MAC is another object (identity is cheaper than
        # comparing 48-bit ints; an equal MAC in a new object makes the same header again, rarely).
        if entry is not path.entry or iface.mac is not path.src_mac:
            eth = P.ethernet(entry[0], iface.mac, _ETH_IPV4, b"")
            path.frame = _IPV4_UDP_FRAMER(eth, path.src, dst).frame
            path.entry, path.src_mac = entry, iface.mac
        ident = (self.ident + 1) & 0xFFFF
        make = path.frame                   # (called as path.frame(...), it is looked up unspecialized)
        try:
            frame = make(sport, dport, data, ident, self.default_ttl if ttl is None else ttl, df, data_sum)
        except (TypeError, struct.error):
            return False
        self.ident = ident                  # what _new_ident does
        if link is not path.link:
            path.link, path.transmit = link, _transmitter(link, self, iface.port)
        transmit = path.transmit            # (called as path.transmit(frame), it is looked up unspecialized)
        transmit(frame)
        return True

    def _udp4_path(self, dst: int) -> "_Udp4Path | None":
        """The route of UDP datagrams to dst, kept with the route decisions (routes_changed forgets both)."""
        r = self.route4(dst)
        if r is None or dst == 0xFFFFFFFF or self.is_mine(dst, False):
            return None
        paths = self._udp4_paths
        if len(paths) >= self.ROUTE_CACHE_MAX:
            paths.clear()
        path = paths[dst] = _Udp4Path(r[0], r[1], r[0].ip4)
        return path

    def _udp_input(self, pkt: RxPacket) -> None:
        p = pkt.payload
        if len(p) < 8:
            self.drop(DropReason.MALFORMED, "truncated UDP")
            return
        sport, dport, length, _ = _UDP_FIELDS(p)
        if length < 8 or length > len(p):
            self.drop(DropReason.MALFORMED, f"UDP length {length}")
            return
        bad = verify_transport(pkt.src, pkt.dst, P.IP_UDP, p[:length] if length != len(p) else p, pkt.v6)   # R29
        if bad is not None:
            self.drop(DropReason.BAD_CHECKSUM, f"UDP: {bad}")
            return
        handler = self.udp_sockets.get(dport)
        if handler is None:
            # R11: closed port -> Port Unreachable (3/3; ICMPv6 1/4), silently for broadcasts.
            if pkt.v6:
                self.send_icmpv6_error(pkt, 1, 4)
            else:
                self.send_icmp_error(pkt, 3, 3)
            self.drop(DropReason.NO_LISTENER, f"UDP port {dport}")
            return
        handler(pkt, sport, dport, p[8:length])
        self.deliver("udp")


class _Udp4Path:
    """Where UDP datagrams to one IPv4 destination go (interface, next hop, source address), what makes their
    frames (the frame of an Ipv4UdpFramer) with the neighbour entry (MAC, expiry) and the interface's MAC its
    Ethernet header was made from, and the link last used with what puts a frame on it."""
    __slots__ = ("iface", "next_hop", "src", "entry", "src_mac", "frame", "link", "transmit")

    def __init__(self, iface: HostInterface, next_hop: int, src: int):
        self.iface, self.next_hop, self.src = iface, next_hop, src
        self.entry = self.src_mac = self.frame = None         # no header made yet
        self.link = self.transmit = None          # no frame sent yet


def _transmitter(link, host: Host, port: int) -> Callable[[bytes], None]:
    """What link.send(host, port, frame) does, as one call taking the frame: the transmit of the link's end
    at the port (found once, not for every frame), or a call of send for a link that has no ends."""
    end = getattr(link, "end", None)
    if end is None:
        return lambda frame: link.send(host, port, frame)
    return end(host, port).transmit


def _nd_option(options: bytes, kind: int) -> int | None:
    i = 0
    while i + 2 <= len(options):
        t, length = options[i], options[i + 1] * 8
        if length == 0:
            return None
        if t == kind and length >= 8:
            return int.from_bytes(options[i + 2:i + 8], "big")
        i += length
    return None


def _addr(v: int, v6: bool) -> str:
    return P.ip6_str(v) if v6 else P.ip4_str(v)
