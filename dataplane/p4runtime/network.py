"""P4Runtime servers for the switches of a simulated network (those whose topology says `p4runtime`).

As run_exercise.py numbers simple_switch_grpc instances, a switch's device ID is its place among the
network's devices (0, 1, ...) and its port 50051 + that place, unless the topology gives a port. All servers
share one lock with whoever runs the simulator (dataplane cli holds it while a command runs): a controller's
requests wait while packets move and are applied while the network sits idle.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

from ..router.agent import CPU_PORT
from ..runtime.device import Device
from ..runtime.trace import DropReason
from .errors import P4RuntimeError
from .server import P4RuntimeSwitch, start_server

FIRST_PORT = 50051


@dataclass
class Served:
    name: str
    address: str
    device_id: int
    switch: P4RuntimeSwitch
    server: object


class NetworkServers:
    def __init__(self, net, host: str = "127.0.0.1", lock=None, on_install=None):
        self.net = net
        self.host = host
        self.lock = lock if lock is not None else threading.RLock()
        self.on_install = on_install          # called with a switch's name after its device was replaced
        self.served: list[Served] = []

    def wanted(self) -> list[tuple[str, int, int]]:
        """(switch, device ID, port) of every switch the topology gives a P4Runtime server."""
        out = []
        for place, name in enumerate(self.net.devices):
            spec = self.net.topo.nodes.get(name)
            setting = spec.options.get("p4runtime") if spec is not None else None
            if setting is None or setting is False:
                continue
            port = FIRST_PORT + place if setting is True else setting
            out.append((name, place, port))
        return out

    def start(self) -> list[Served]:
        """Start the servers; a port that cannot be had stops them all and raises P4RuntimeError."""
        try:
            for name, device_id, port in self.wanted():
                spec = self.net.topo.nodes[name]
                opts = spec.options
                switch = P4RuntimeSwitch(name, device_id, spec.program, opts.get("include"), opts.get("defines"),
                                         install=self._installer(name), lock=self.lock, cpu_port=CPU_PORT)
                switch.inject = self._injector(name)
                node = self.net.devices[name].node
                if node.agent is None:
                    node.agent = PacketInAgent(switch)
                address = f"{self.host}:{port}"
                self.served.append(Served(name, address, device_id, switch, start_server(switch, address)))
        except P4RuntimeError:
            self.stop()
            raise
        return self.served

    def _installer(self, name: str):
        """Put a pushed program in place of the switch's device, keeping its place in the network."""
        def install(compiled):
            node = self.net.devices[name].node
            old = node.device
            dev = Device(compiled, name=name, seed=self.net.topo.seed)
            dev.egress_queues = old.egress_queues
            node.device = dev
            if self.on_install is not None:
                self.on_install(name)
            return dev
        return install

    def _injector(self, name: str):
        """A controller's PacketOut enters the switch on its CPU port at the simulator's present time; what it
        sends goes on the links and arrives when the network next runs. The caller holds the lock."""
        def inject(frame: bytes) -> None:
            # The books (sim.Ledger): a frame that reached a node and gets its fate there.
            self.net.sim.ledger.arrived += 1
            self.net.devices[name].receive(CPU_PORT, frame)
        return inject

    def stop(self) -> None:
        for s in self.served:
            s.server.stop(None)
        self.served = []

    def describe(self) -> list[str]:
        return [f"*** {s.name}: P4Runtime server on {s.address}, device ID {s.device_id}" for s in self.served]


class PacketInAgent:
    """The agent of a P4Runtime switch (router/node.py): what the pipeline sends to the CPU port goes to the
    primary controller as a PacketIn."""

    def __init__(self, switch: P4RuntimeSwitch):
        self.switch = switch

    def handle(self, frame: bytes, now_us: float):
        if self.switch.packet_in(frame):
            return [], [(DropReason.CONSUMED, "sent to the P4Runtime controller")]
        return [], [(DropReason.LINK_DOWN, "no P4Runtime controller is connected to the CPU port")]
