"""Scapy on a simulated host: the child side of `dataplane exec` (the dataplane side is scapy_bridge.py).

Imported by our sitecustomize in the program's own interpreter, which need not have dataplane: only
the standard library and scapy are used. `install()` reads the host from the environment and makes
scapy see that host, not the machine it runs on:

  interfaces   an InterfaceProvider (`SimulatedHost`) is scapy's only one: get_if_list(),
               get_if_hwaddr(), get_if_addr(), conf.iface are the host's (names as in the topology,
               `eth0`; the description is Mininet's `h1-eth0`, which resolves too);
  routes       conf.route and conf.route6 hold the host's connected subnets and default routes, so
               IP(dst=...) takes the host's address as its source;
  sockets      every L2 / L2-listen / L3 socket is a `SimSocket`: a Unix SOCK_SEQPACKET connection to
               the dataplane process, one whole Ethernet frame per message each way, on which the
               dataplane opens one packet socket of the host (Host.open_packet_socket).

Two functions are replaced because nothing else reaches them: os.listdir('/sys/class/net') (the
tutorials' receive.py finds its interface there) and scapy.arch.in6_getifaddr (get_if_addr6 reads the
machine's IPv6 addresses through it). Nothing else of scapy is patched.

The connection starts with one handshake: the child sends {"iface", "promisc", "filter"} as JSON, the
dataplane answers b"\\0" (ready: the host's packet socket is open) or b"\\1" and an error message
(an unknown interface, a filter it cannot apply), which scapy reports as it reports a bad filter.

What a SimSocket receives: the frames the host receives on that interface (all of them when
promiscuous, scapy's default), not the frames the host itself sends (a real L2ListenSocket also shows
those). A socket bound to one EtherType (getmacbyip's ETH_P_ARP) gets only frames of that type.
"""

import json
import os
import socket
import sys
import time

ENV_SOCKET = "DATAPLANE_EXEC_SOCKET"
ENV_HOST = "DATAPLANE_EXEC_HOST"
ETH_P_ALL = 3
# Frames are read whole, whatever size scapy asks for: a jumbo frame is never cut.
MAX_FRAME = 1 << 16
# Linux interface flags: up, broadcast, running, multicast (what `ip link` shows for a Mininet host).
IFF_FLAGS = 0x1 | 0x2 | 0x40 | 0x1000

HOST = {}


def install():
    """Make scapy (imported here, as the program will import it) see the simulated host."""
    HOST.update(json.loads(os.environ[ENV_HOST]))
    try:
        import scapy.all  # noqa: F401  (loads scapy's Linux provider, sockets and routes, replaced below)
    except ImportError:
        sys.stderr.write(f"dataplane exec: scapy is not installed for {sys.executable} "
                         f"(pip install scapy), so the program cannot use host {HOST['host']}\n")
        sys.stderr.flush()
        os._exit(1)
    _install_scapy()
    _install_sys_class_net()


def _install_scapy():
    from scapy.config import conf
    from scapy.error import Scapy_Exception
    from scapy.interfaces import InterfaceProvider, NetworkInterface, network_name
    from scapy.layers.l2 import Ether
    from scapy.route import Route
    from scapy.route6 import Route6
    from scapy.supersocket import SuperSocket

    class SimSocket(SuperSocket):
        desc = "read/write frames on an interface of a host simulated by dataplane"

        def __init__(self, iface=None, type=ETH_P_ALL, promisc=None, filter=None, nofilter=0, monitor=None,
                     **_ignored):
            self.iface = network_name(iface or conf.iface)
            self.type = type
            self.promisc = conf.sniff_promisc if promisc is None else promisc
            self.ins = socket.socket(socket.AF_UNIX, socket.SOCK_SEQPACKET)
            self.outs = self.ins
            self.LL = Ether
            try:
                self.ins.connect(os.environ[ENV_SOCKET])
                hello = {"iface": self.iface, "promisc": bool(self.promisc), "filter": None if nofilter else filter}
                self.ins.send(json.dumps(hello).encode())
                answer = self.ins.recv(MAX_FRAME)
            except OSError as exc:
                self.ins.close()
                raise Scapy_Exception(f"the simulation of host {HOST['host']} is gone ({exc.strerror})") from None
            if answer[:1] != b"\0":
                self.ins.close()
                raise Scapy_Exception(answer[1:].decode("utf-8", "replace") or "refused by the simulation")

        def recv_raw(self, x=MAX_FRAME):
            try:
                frame = self.ins.recv(MAX_FRAME)
            except ConnectionResetError:
                frame = b""
            if not frame:
                raise EOFError("the simulation ended")      # sniff() ends its loop on it
            if self.type != ETH_P_ALL and int.from_bytes(frame[12:14], "big") != self.type:
                return None, None, None
            return Ether, frame, time.time()

        def send(self, x):
            frame = bytes(x)
            try:
                x.sent_time = time.time()
            except AttributeError:
                pass
            return self.outs.send(frame)

    class SimListenSocket(SimSocket):
        desc = "read frames on an interface of a host simulated by dataplane"

        def send(self, x):
            raise Scapy_Exception("Can't send anything with a listening socket")

    class SimL3Socket(SimSocket):
        """Packets from the IP header up: the Ethernet header is added on sending (its destination
        found by scapy's ARP through the simulated network) and taken off on receiving."""
        desc = "read/write IP packets on a host simulated by dataplane"

        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self._by_iface = {self.iface: self}
            self._kwargs = {k: kwargs[k] for k in ("type", "promisc", "filter") if k in kwargs}

        def recv(self, x=MAX_FRAME, **kwargs):
            pkt = SuperSocket.recv(self, x, **kwargs)
            if pkt is not None and isinstance(pkt, Ether):
                pkt.payload.time = pkt.time
                return pkt.payload
            return pkt

        def send(self, x):
            iface = x.route()[0] or self.iface
            if iface not in self._by_iface:
                self._by_iface[iface] = SimSocket(iface=iface, **self._kwargs)
            return SimSocket.send(self._by_iface[iface], Ether() / x)

        def close(self):
            for sock in self._by_iface.values():
                if sock is not self:
                    sock.close()
            super().close()

    class SimulatedHost(InterfaceProvider):
        name = "dataplane"

        def load(self):
            out = {}
            for index, i in enumerate(HOST["interfaces"], start=2):   # 1 is lo on Linux
                ips = ([i["ipv4"].split("/")[0]] if i["ipv4"] else []) + [a.split("/")[0] for a in i["ipv6"]]
                out[i["name"]] = NetworkInterface(self, {
                    "name": i["name"], "network_name": i["name"], "description": f"{HOST['host']}-{i['name']}",
                    "index": index, "mac": i["mac"], "ips": ips, "flags": IFF_FLAGS, "type": 1})
            return out

        def _is_valid(self, dev):
            return True

        def _l2socket(self, dev):
            return SimSocket

        def _l2listen(self, dev):
            return SimListenSocket

        def _l3socket(self, dev, ipv6):
            return SimL3Socket

    class SimulatedRoutes(Route):
        def resync(self):
            self.invalidate_cache()
            self.routes = routes4()

    class SimulatedRoutes6(Route6):
        def resync(self):
            self.invalidate_cache()
            self.routes = routes6()
            self.ipv6_ifaces = {r[3] for r in self.routes}

    # The machine's interfaces and routes must not show through: the host's replace them, and the
    # provider's sockets are used for every interface. conf.L2socket & co. are set as well because
    # some of scapy (and scripts) use them directly rather than through an interface.
    conf.ifaces.providers.clear()
    conf.ifaces.register_provider(SimulatedHost)
    conf.route = SimulatedRoutes()
    conf.route.resync()
    conf.route6 = SimulatedRoutes6()
    conf.route6.resync()
    conf.ifaces.reload()
    conf.L2socket = SimSocket
    conf.L2listen = SimListenSocket
    conf.L3socket = conf.L3socket6 = SimL3Socket
    # get_if_addr6() reads the machine's addresses through scapy.arch.in6_getifaddr: the host's instead.
    import scapy.arch
    scapy.arch.in6_getifaddr = addresses6


def routes4():
    """conf.route's entries (net, mask, gateway, iface, source, metric): each interface's subnet, and
    the default route through the host's gateway."""
    import ipaddress
    out = []
    for i in HOST["interfaces"]:
        if i["ipv4"]:
            net = ipaddress.IPv4Interface(i["ipv4"]).network
            out.append((int(net.network_address), int(net.netmask), "0.0.0.0", i["name"], i["ipv4"].split("/")[0], 1))
    gateway = HOST.get("gateway4")
    if gateway:
        on = next((r for r in out if int(ipaddress.IPv4Address(gateway)) & r[1] == r[0]), out[0] if out else None)
        if on is not None:
            out.append((0, 0, gateway, on[3], on[4], 1))
    return out


def routes6():
    """conf.route6's entries (prefix, length, gateway, iface, sources, metric)."""
    import ipaddress
    out = []
    for i in HOST["interfaces"]:
        sources = [a.split("/")[0] for a in i["ipv6"]] + [i["link_local"]]
        out.append(("fe80::", 64, "::", i["name"], [i["link_local"]], 256))
        for a in i["ipv6"]:
            net = ipaddress.IPv6Interface(a).network
            out.append((str(net.network_address), net.prefixlen, "::", i["name"], sources, 256))
    gateway = HOST.get("gateway6")
    if gateway and HOST["interfaces"]:
        i = HOST["interfaces"][0]
        out.append(("::", 0, gateway, i["name"], [a.split("/")[0] for a in i["ipv6"]] or [i["link_local"]], 1024))
    return out


def addresses6():
    """What scapy's in6_getifaddr gives: (address, scope, iface) for every IPv6 address of the host."""
    from scapy.utils6 import in6_getscope
    out = []
    for i in HOST["interfaces"]:
        for a in [i["link_local"]] + [a.split("/")[0] for a in i["ipv6"]]:
            out.append((a, in6_getscope(a), i["name"]))
    return out


def _install_sys_class_net():
    """The tutorials' receive.py finds its interface with os.listdir('/sys/class/net/'), which lists the
    machine's interfaces, not the host's (in Mininet the host's network namespace makes them the same).
    That one directory is answered with the host's interface names and lo; every other path is
    listed as before. Patching os.listdir is the only way to reach a script that reads sysfs itself."""
    real_listdir = os.listdir
    sys_class_net = os.path.normpath("/sys/class/net")

    def listdir(path="."):
        if isinstance(path, str) and os.path.normpath(path) == sys_class_net:
            return ["lo"] + [i["name"] for i in HOST["interfaces"]]
        return real_listdir(path)

    listdir.__doc__ = real_listdir.__doc__
    os.listdir = listdir
