"""The router agent: the "CPU" of a device that follows the router architecture (router.p4).

The pipeline sends it packets on CPU_PORT with a cpu_in_t header saying why;
the agent answers what a router must answer and sends packets out of ports.
Every rule it follows comes from the RFCs, cited by the items of
shared/spec/rfc-behaviors.md:

- LOCAL: ARP requests and Neighbor Solicitations for its addresses get
  replies; echo requests to its addresses get echo replies (R11, R28); UDP to
  it gets Port Unreachable, other protocols Protocol Unreachable (R11); TCP
  gets a RST (R31).
- TTL_EXPIRED: Time Exceeded 11/0 (ICMPv6 3/0), from the address of the
  interface the error leaves by (R4, R6).
- NO_ROUTE: Destination Unreachable 3/0 (ICMPv6 1/0) (R11).
- NEEDS_FRAG: IPv4 with DF clear is fragmented (R12, R13); with DF set,
  Fragmentation Needed 3/4 carries the next-hop MTU (R14); IPv6 gets Packet
  Too Big with the MTU (R21).
- Errors quote as much of the offending packet as fits in 576 bytes (IPv4,
  R8) or 1280 (IPv6, R27); no error is sent about errors, broadcast or
  multicast, non-first fragments or invalid sources (R9, R28); errors are
  rate-limited by a token bucket (R10).
- Interfaces with an MTU below 68 (IPv4) or 1280 (IPv6) are refused when the
  agent is configured (R15, R21).

Rate limit: at most `icmp_rate` errors per second with bursts of
`icmp_burst` (defaults 100 and 50), counted in simulated time.
"""

from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass, field

from ..protocols import packets as P
from ..protocols.ipfrag import MIN_IPV4_MTU, fragment_ipv4
from ..runtime.errors import ControlPlaneError
from ..runtime.tables import MatchValue
from ..runtime.trace import DropReason
from . import multipath

CPU_PORT = 510
REASON_LOCAL, REASON_TTL_EXPIRED, REASON_NO_ROUTE, REASON_NEEDS_FRAG, REASON_BAD_PACKET = 1, 2, 3, 4, 5
REASON_NAMES = {1: "local", 2: "TTL expired", 3: "no route", 4: "needs fragmentation", 5: "bad packet"}
MIN_IPV6_MTU = 1280

ICMP_ERROR_TYPES = {3, 4, 5, 11, 12}
IPV4_ERROR_QUOTE = 576 - 20 - 8          # R8: the whole error fits in 576 bytes
IPV6_ERROR_QUOTE = 1280 - 40 - 8         # R27: the whole error fits in the minimum MTU

# cpu_in_t (router.p4): reason, reserved, ingress_port, egress_port, mtu.
CPU_IN_FORMAT = "!BBHHH"                 # reason, reserved, ingress_port, egress_port, mtu
CPU_IN_SIZE = struct.calcsize(CPU_IN_FORMAT)


class RouterConfigError(ControlPlaneError):
    def __init__(self, message: str, port: int | None = None):
        super().__init__(message)
        self.port = port                 # the interface at fault, when there is one


@dataclass
class Interface:
    port: int
    mac: int
    ipv4: list = field(default_factory=list)      # ipaddress.IPv4Interface
    ipv6: list = field(default_factory=list)      # ipaddress.IPv6Interface (global and link-local)
    mtu: int = 1500
    name: str = ""

    def link_local(self) -> int:
        """The IPv6 link-local address (an explicit fe80::/10 one, or EUI-64 from the MAC, RFC 4291)."""
        return P.link_local_address(self.mac, self.ipv6)


@dataclass
class TokenBucket:
    rate: float          # tokens per second
    burst: float
    tokens: float = -1.0
    last_us: float = 0.0

    def take(self, now_us: float) -> bool:
        if self.tokens < 0:
            self.tokens = self.burst
            self.last_us = now_us
        self.tokens = min(self.burst, self.tokens + (now_us - self.last_us) * self.rate / 1e6)
        self.last_us = max(self.last_us, now_us)
        if self.tokens >= 1:
            self.tokens -= 1
            return True
        return False


@dataclass
class AgentStats:
    handled: dict = field(default_factory=dict)        # reason name -> packets
    errors_sent: dict = field(default_factory=dict)    # "icmp 11/0" -> count
    suppressed: dict = field(default_factory=dict)     # why an error was not sent -> count
    fragments_sent: int = 0


class RouterAgent:
    """The control-plane agent of one router device."""

    TABLES = {"interfaces": "interfaces", "egress": "egress_interfaces", "local4": "local_addresses",
              "local6": "local_addresses_v6", "route4": "ipv4_lpm", "route6": "ipv6_lpm",
              "ecmp4": "ecmp_nhop", "ecmp6": "ecmp_nhop"}

    def __init__(self, device, interfaces: list[Interface], name: str = "router",
                 icmp_rate: float = 100.0, icmp_burst: float = 50.0, tables: dict | None = None,
                 ecmp_seed: int | None = None):
        self.dev = device
        self.ecmp_seed = ecmp_seed       # written into the program's multipath seed register, when it has one
        self.name = name
        self.interfaces = {i.port: i for i in interfaces}
        self.tables = dict(self.TABLES, **(tables or {}))
        self.limiter = TokenBucket(icmp_rate, icmp_burst)
        self.stats = AgentStats()
        self.ident = 0
        self._validate()

    # ------------------------------------------------------------------ configuration

    def _validate(self) -> None:
        for i in self.interfaces.values():
            if i.ipv4 and i.mtu < MIN_IPV4_MTU:
                raise RouterConfigError(f"{self.name}: interface {i.name or i.port} has MTU {i.mtu}; IPv4 needs at "
                                        f"least {MIN_IPV4_MTU} (RFC 791)", i.port)
            if i.ipv6 and i.mtu < MIN_IPV6_MTU:
                raise RouterConfigError(f"{self.name}: interface {i.name or i.port} has MTU {i.mtu}; IPv6 needs at "
                                        f"least {MIN_IPV6_MTU} (RFC 8200)", i.port)

    def _table(self, key: str):
        name = self.tables.get(key)
        if not name:
            return None
        try:
            return self.dev.table(name)
        except ControlPlaneError:
            return None

    def install(self) -> None:
        """Fill the pipeline's interface and local-address tables from the interface configuration."""
        t = self._table("interfaces")
        e = self._table("egress")
        l4, l6 = self._table("local4"), self._table("local6")
        if self.ecmp_seed is not None and multipath.SEED_REGISTER in self._registers():
            self.dev.register_write(multipath.SEED_REGISTER, 0, self.ecmp_seed)
        for i in self.interfaces.values():
            if t is not None:
                t.add([MatchValue(i.port)], "set_interface", [i.mac])
            if e is not None:
                e.add([MatchValue(i.port)], "set_egress", [i.mac, i.mtu])
            if l4 is not None:
                for a in i.ipv4:
                    if l4.find([MatchValue(int(a.ip))]) is None:
                        l4.add([MatchValue(int(a.ip))], "local", [])
            if l6 is not None:
                for addr in [int(a.ip) for a in i.ipv6] + [i.link_local()]:
                    for local in (addr, P.solicited_node(addr)):
                        if l6.find([MatchValue(local)]) is None:
                            l6.add([MatchValue(local)], "local", [])

    def _registers(self) -> set[str]:
        """The short names of the program's registers."""
        return {name.rsplit(".", 1)[-1] for name, obj in self.dev.externs.items()
                if getattr(obj, "kind", None) == "register"}

    def my_ipv4(self) -> set[int]:
        return {int(a.ip) for i in self.interfaces.values() for a in i.ipv4}

    def my_ipv6(self) -> set[int]:
        return {int(a.ip) for i in self.interfaces.values() for a in i.ipv6} | \
            {i.link_local() for i in self.interfaces.values()}

    # ------------------------------------------------------------------ routing (for what the agent sends)

    def route(self, dst: int, v6: bool) -> tuple[int, int] | None:
        """(egress port, next-hop MAC) toward dst, from the pipeline's own routing table.

        A multipath route takes the next hop the program would choose for a flow to dst from source 0
        with protocol (Next Header) 0 and no ports: the agent's own packets (replies, ICMP errors) to one
        destination all take one path."""
        t = self._table("route6" if v6 else "route4")
        if t is None:
            return None
        e = t.lookup(dst)
        if e is None:
            return None
        spec = t.actions[e.aid]
        args = dict(zip((n for n, _ in spec.params), e.args))
        if spec.short_name == "multipath":
            seed = self.dev.register_read(multipath.SEED_REGISTER, 0) \
                if multipath.SEED_REGISTER in self._registers() else 0
            ecmp = self._table("ecmp6" if v6 else "ecmp4")
            hash_value = multipath.flow_hash6(0, dst, 0) if v6 else multipath.flow_hash(0, dst, 0)
            member = multipath.resolve(ecmp, args["group"], args["paths"], hash_value, seed)
            if member is None:
                return None
            spec = ecmp.profile.actions[member.aid]
            args = dict(zip((n for n, _ in spec.params), member.args))
        if "port" not in args:
            return None
        nhop = args.get("nhop_mac", args.get("dstAddr", 0))
        return args["port"], nhop

    def source_for(self, port: int, v6: bool, toward: int | None = None) -> int | None:
        """The address of interface `port` to use as a source (R4): one on the same subnet if possible."""
        i = self.interfaces.get(port)
        if i is None:
            return None
        addrs = [a for a in (i.ipv6 if v6 else i.ipv4) if not (v6 and a.ip.is_link_local)]
        if toward is not None:
            for a in addrs:
                if ipaddress.ip_address(toward) in a.network:
                    return int(a.ip)
        if addrs:
            return int(addrs[0].ip)
        return i.link_local() if v6 else None

    # ------------------------------------------------------------------ entry point

    def handle(self, frame: bytes, now_us: float) -> tuple[list, list]:
        """A packet from CPU_PORT: returns (outputs [(port, frame)], drops [(DropReason, detail)])."""
        if len(frame) < CPU_IN_SIZE + 14:
            return [], [(DropReason.MALFORMED, "packet to the CPU without a cpu_in header")]
        reason, _, in_port, out_port, mtu = struct.unpack(CPU_IN_FORMAT, frame[:CPU_IN_SIZE])
        frame = frame[CPU_IN_SIZE:]
        name = REASON_NAMES.get(reason, f"reason {reason}")
        self.stats.handled[name] = self.stats.handled.get(name, 0) + 1
        eth = P._ETH.unpack(frame)
        l3 = frame[14:]
        etype = eth["etherType"]
        ctx = _Ctx(self, now_us, in_port, eth)
        if reason == REASON_LOCAL:
            ctx.fate = (DropReason.CONSUMED, "handled by the router")
            if etype == P.ETH_ARP:
                ctx.arp(l3)
            elif etype == P.ETH_IPV4:
                ctx.local_ipv4(l3)
            elif etype == P.ETH_IPV6:
                ctx.local_ipv6(l3)
            else:
                ctx.consumed("not for the agent")
        elif reason == REASON_TTL_EXPIRED:
            ctx.fate = (DropReason.TTL_EXCEEDED, "")
            if etype == P.ETH_IPV6:
                ctx.icmpv6_error(l3, 3, 0, 0)      # R6
            else:
                ctx.icmp_error(l3, 11, 0, 0)       # R4
        elif reason == REASON_NO_ROUTE:
            ctx.fate = (DropReason.NO_ROUTE, "")
            if etype == P.ETH_IPV6:
                ctx.icmpv6_error(l3, 1, 0, 0)
            else:
                ctx.icmp_error(l3, 3, 0, 0)        # R11
        elif reason == REASON_NEEDS_FRAG:
            ctx.fate = (DropReason.EXCEEDS_LINK_MTU, f"MTU {mtu} on port {out_port}")
            ctx.too_big(frame, l3, out_port, mtu, etype)
        else:
            ctx.consumed(name)
        return ctx.outputs, ([] if ctx.fate is None else [ctx.fate])


class _Ctx:
    """The handling of one packet by the agent: what it sends, and the fate of the packet itself.

    `fate` is the one (DropReason, detail) that accounts for the packet: CONSUMED
    when the router handled it (replies are new packets), the reason it could
    not be forwarded when an error was (or was not) sent about it, or None when
    it went on as fragments.
    """

    def __init__(self, agent: RouterAgent, now_us: float, in_port: int, eth: dict):
        self.a = agent
        self.now = now_us
        self.in_port = in_port
        self.eth = eth
        self.outputs: list[tuple[int, bytes]] = []
        self.fate: tuple[DropReason, str] | None = (DropReason.CONSUMED, "")

    def consumed(self, detail: str) -> None:
        self.fate = (DropReason.CONSUMED, detail)

    def dropped(self, reason: DropReason, detail: str) -> None:
        self.fate = (reason, detail)

    def note(self, detail: str) -> None:
        """Add to the fate's detail (which error was sent, or why none was)."""
        reason, old = self.fate
        self.fate = (reason, f"{old}; {detail}" if old else detail)

    def error_sent(self, key: str) -> None:
        self.a.stats.errors_sent[key] = self.a.stats.errors_sent.get(key, 0) + 1
        self.note(f"{key} sent")

    def suppressed(self, why: str) -> None:
        s = self.a.stats.suppressed
        s[why] = s.get(why, 0) + 1
        self.note(f"no ICMP error: {why}")

    def send(self, port: int, frame: bytes) -> None:
        self.outputs.append((port, frame))

    def reply_l2(self, ethertype: int, payload: bytes) -> None:
        """Send back out of the ingress port, to the frame's sender."""
        i = self.a.interfaces.get(self.in_port)
        src = i.mac if i is not None else 0
        self.send(self.in_port, P.ethernet(self.eth["srcAddr"], src, ethertype, payload))

    def send_routed(self, dst: int, v6: bool, build) -> bool:
        """Route a packet the agent originates; `build(src_addr)` makes the IP packet."""
        r = self.a.route(dst, v6)
        if r is None:
            self.suppressed("no route back to the source")
            return False
        port, nhop = r
        src = self.a.source_for(port, v6, dst)
        if src is None:
            self.suppressed("no address on the outgoing interface")
            return False
        i = self.a.interfaces[port]
        self.send(port, P.ethernet(nhop, i.mac, P.ETH_IPV6 if v6 else P.ETH_IPV4, build(src)))
        return True

    # ------------------------------------------------------------------ ARP and IPv4

    def arp(self, l3: bytes) -> None:
        try:
            f = P._ARP.unpack(l3)
        except ValueError:
            self.dropped(DropReason.MALFORMED, "truncated ARP")
            return
        i = self.a.interfaces.get(self.in_port)
        mine = {int(a.ip) for a in i.ipv4} if i is not None else set()
        if f["oper"] == 1 and f["tpa"] in mine:
            self.reply_l2(P.ETH_ARP, P.arp(2, i.mac, f["tpa"], f["sha"], f["spa"]))
            return
        self.consumed("ARP not for this router")

    def local_ipv4(self, l3: bytes) -> None:
        try:
            ip = P._IPV4.unpack(l3)
        except ValueError:
            self.dropped(DropReason.MALFORMED, "truncated IPv4")
            return
        hl = ip["ihl"] * 4
        payload = l3[hl:ip["totalLen"]]
        if ip["mf"] or ip["fragOffset"]:
            self.consumed("fragment for the router (routers do not reassemble)")
            return
        proto = ip["protocol"]
        if proto == P.IP_ICMP and len(payload) >= 8 and payload[0] == 8:
            # R11: echo reply from the request's destination, with its identifier, sequence and data.
            rest = int.from_bytes(payload[4:8], "big")
            reply = P.icmp(0, 0, rest, payload[8:])
            self.send_routed(ip["srcAddr"], False,
                             lambda src: P.ipv4(ip["dstAddr"], ip["srcAddr"], P.IP_ICMP, reply,
                                                ident=self._ident()))
            return
        if proto == P.IP_ICMP:
            self.consumed("ICMP for the router")
            return
        if proto == P.IP_UDP:
            self.dropped(DropReason.NO_LISTENER, "UDP")
            self.icmp_error(l3, 3, 3, 0)          # R11: closed UDP port
            return
        if proto == P.IP_TCP:
            self.dropped(DropReason.NO_LISTENER, "TCP")
            self.tcp_reset(ip, payload, False)
            return
        self.dropped(DropReason.NO_LISTENER, f"protocol {proto}")
        self.icmp_error(l3, 3, 2, 0)              # R11: protocol unreachable

    def _ident(self) -> int:
        self.a.ident = (self.a.ident + 1) & 0xFFFF
        return self.a.ident

    def tcp_reset(self, ip: dict, seg: bytes, v6: bool) -> None:
        """R31: a segment to a closed port gets a RST."""
        if len(seg) < 20:
            self.dropped(DropReason.MALFORMED, "truncated TCP")
            return
        t = P._TCP.unpack(seg)
        if t["rst"]:
            self.consumed("RST to a closed port")
            return
        src, dst = ip["dstAddr"], ip["srcAddr"]
        data_len = len(seg) - t["dataOffset"] * 4 + t["syn"] + t["fin"]
        if t["ack"]:
            rst = P.tcp(src, dst, t["dstPort"], t["srcPort"], t["ackNo"], 0, "rst", 0, v6=v6)
        else:
            rst = P.tcp(src, dst, t["dstPort"], t["srcPort"], 0, t["seqNo"] + data_len, "rst,ack", 0, v6=v6)
        if v6:
            self.send_routed(dst, True, lambda s: P.ipv6(src, dst, P.IP_TCP, rst))
        else:
            self.send_routed(dst, False, lambda s: P.ipv4(src, dst, P.IP_TCP, rst, ident=self._ident()))

    # ------------------------------------------------------------------ ICMPv4 errors

    def _v4_error_allowed(self, l3: bytes, ip: dict) -> str | None:
        """Why no ICMP error may be sent about this packet (R9), or None."""
        dst, src = ip["dstAddr"], ip["srcAddr"]
        if self.eth["dstAddr"] >> 40 & 1:
            return "link-layer broadcast or multicast"
        if dst == 0xFFFFFFFF or dst >> 28 == 0xE:
            return "broadcast or multicast destination"
        for i in self.a.interfaces.values():
            for a in i.ipv4:
                if a.network.prefixlen < 31 and dst == int(a.network.broadcast_address):
                    return "directed broadcast destination"
        if src >> 24 in (0, 127) or src == 0xFFFFFFFF or src >> 28 in (0xE, 0xF):
            return "invalid source address"
        if ip["fragOffset"] != 0:
            return "not the first fragment"
        hl = ip["ihl"] * 4
        if ip["protocol"] == P.IP_ICMP and len(l3) > hl and l3[hl] in ICMP_ERROR_TYPES:
            return "about an ICMP error"
        return None

    def icmp_error(self, l3: bytes, type_: int, code: int, rest: int) -> None:
        ip = self._error_allowed(l3, False, type_, code)
        if ip is None:
            return
        quote = l3[:min(ip["totalLen"], len(l3), IPV4_ERROR_QUOTE)]      # R8
        msg = P.icmp(type_, code, rest, quote)
        orig_src = ip["srcAddr"]
        if self.send_routed(orig_src, False,
                            lambda src: P.ipv4(src, orig_src, P.IP_ICMP, msg, ident=self._ident())):
            self.error_sent(f"ICMP {type_}/{code}")

    def _error_allowed(self, l3: bytes, v6: bool, type_: int, code: int) -> dict | None:
        """The offending packet's IP header when an error may be sent about it (R9 / R28, then R10), else None."""
        try:
            ip = (P._IPV6 if v6 else P._IPV4).unpack(l3)
        except ValueError:
            self.dropped(DropReason.MALFORMED, f"truncated IPv{6 if v6 else 4}")
            return None
        why = self._v6_error_allowed(l3, ip, type_, code) if v6 else self._v4_error_allowed(l3, ip)
        if why is not None:
            self.suppressed(why)
            return None
        if not self.a.limiter.take(self.now):
            self.suppressed("rate limit")
            return None
        return ip

    # ------------------------------------------------------------------ IPv6

    def local_ipv6(self, l3: bytes) -> None:
        try:
            ip = P._IPV6.unpack(l3)
        except ValueError:
            self.dropped(DropReason.MALFORMED, "truncated IPv6")
            return
        payload = l3[40:40 + ip["payloadLen"]]
        if ip["nextHdr"] != P.IP_ICMPV6:
            if ip["nextHdr"] == P.IP_UDP:
                self.dropped(DropReason.NO_LISTENER, "UDP")
                self.icmpv6_error(l3, 1, 4, 0)     # port unreachable
            elif ip["nextHdr"] == P.IP_TCP:
                self.dropped(DropReason.NO_LISTENER, "TCP")
                self.tcp_reset(ip, payload, True)
            else:
                self.dropped(DropReason.NO_LISTENER, f"next header {ip['nextHdr']}")
                self.icmpv6_error(l3, 4, 1, 6)     # unrecognized next header, pointer to it
            return
        if len(payload) < 8:
            self.dropped(DropReason.MALFORMED, "truncated ICMPv6")
            return
        t = payload[0]
        if t == 135:
            self.neighbor_solicitation(ip, payload)
        elif t == 128:
            # R28: echo is a MUST; the reply comes from the address the request was sent to.
            body = int.from_bytes(payload[4:8], "big")
            src, dst = ip["dstAddr"], ip["srcAddr"]
            if src >> 120 == 0xFF:
                src = self.a.source_for(self.in_port, True, dst) or src
            reply = P.icmpv6(src, dst, 129, 0, body, payload[8:])
            self.send_routed(dst, True, lambda s: P.ipv6(src, dst, P.IP_ICMPV6, reply))
        else:
            self.consumed(f"ICMPv6 type {t} for the router")

    def neighbor_solicitation(self, ip: dict, payload: bytes) -> None:
        if ip["hopLimit"] != 255 or len(payload) < 24:
            self.dropped(DropReason.MALFORMED, "invalid Neighbor Solicitation (RFC 4861 7.1.1)")
            return
        target = int.from_bytes(payload[8:24], "big")
        i = self.a.interfaces.get(self.in_port)
        if i is None or target not in ({int(a.ip) for a in i.ipv6} | {i.link_local()}):
            self.consumed("Neighbor Solicitation for another address")
            return
        src = ip["srcAddr"]
        solicited = src != 0
        dst = src if solicited else P.ip6("ff02::1")
        flags = (1 << 31) | (int(solicited) << 30) | (1 << 29)        # Router, Solicited, Override
        option = struct.pack("!BB", 2, 1) + i.mac.to_bytes(6, "big")  # target link-layer address
        na = P.icmpv6(target, dst, 136, 0, flags, target.to_bytes(16, "big") + option)
        dmac = self.eth["srcAddr"] if solicited else P.multicast_mac_v6(dst)
        self.send(self.in_port, P.ethernet(dmac, i.mac, P.ETH_IPV6,
                                           P.ipv6(target, dst, P.IP_ICMPV6, na, hop_limit=255)))

    def _v6_error_allowed(self, l3: bytes, ip: dict, type_: int, code: int) -> str | None:
        """Why no ICMPv6 error may be sent about this packet (R28), or None."""
        src, dst = ip["srcAddr"], ip["dstAddr"]
        if src == 0 or src >> 120 == 0xFF:
            return "source is unspecified or multicast"
        exempt = type_ == 2 or (type_ == 4 and code == 2)
        if not exempt and (dst >> 120 == 0xFF or self.eth["dstAddr"] >> 40 & 1):
            return "multicast destination"
        if ip["nextHdr"] == P.IP_ICMPV6 and len(l3) > 40 and (l3[40] < 128 or l3[40] == 137):
            return "about an ICMPv6 error or redirect"
        return None

    def icmpv6_error(self, l3: bytes, type_: int, code: int, body: int) -> None:
        ip = self._error_allowed(l3, True, type_, code)
        if ip is None:
            return
        quote = l3[:min(40 + ip["payloadLen"], len(l3), IPV6_ERROR_QUOTE)]     # R27
        orig_src = ip["srcAddr"]
        # The ICMPv6 checksum covers the source address, so the message is made once send_routed chose it.
        if self.send_routed(orig_src, True, lambda src: P.ipv6(src, orig_src, P.IP_ICMPV6,
                                                                P.icmpv6(src, orig_src, type_, code, body, quote))):
            self.error_sent(f"ICMPv6 {type_}/{code}")

    # ------------------------------------------------------------------ too big

    def too_big(self, frame: bytes, l3: bytes, out_port: int, mtu: int, etype: int) -> None:
        if etype == P.ETH_IPV6:
            # R21: routers never fragment IPv6; Packet Too Big carries the MTU (32 bits).
            self.fate = (DropReason.PACKET_TOO_BIG, f"MTU {mtu} on port {out_port}")
            self.icmpv6_error(l3, 2, 0, mtu)
            return
        try:
            ip = P._IPV4.unpack(l3)
        except ValueError:
            self.dropped(DropReason.MALFORMED, "truncated IPv4")
            return
        if ip["df"]:
            # R14: Fragmentation Needed, next-hop MTU in the low 16 bits of the second word.
            self.fate = (DropReason.FRAGMENTATION_NEEDED, f"MTU {mtu} on port {out_port}")
            self.note("DF set")
            self.icmp_error(l3, 3, 4, mtu & 0xFFFF)
            return
        try:
            fragments = fragment_ipv4(l3, mtu)
        except ValueError as exc:
            self.dropped(DropReason.EXCEEDS_LINK_MTU, str(exc))
            return
        header = frame[:14]
        for f in fragments:
            self.send(out_port, header + f)
        self.a.stats.fragments_sent += len(fragments)
        self.fate = None                 # forwarded, as fragments
