"""The agent of a learning switch (programs/l2_switch.p4): MAC learning through digests.

The pipeline looks the source MAC up in `smac`; on a miss it sends a
digest {mac, port}. The agent then installs the MAC in `smac` (so that the
digest is not repeated) and in `dmac` (to forward frames for it out of
that port). A MAC that moves to another port is updated. Frames to unknown
and broadcast destinations are flooded by the pipeline through multicast
group FLOOD_GROUP, which the agent fills with every port; the egress
pipeline drops the copy for the ingress port.
"""

from __future__ import annotations

from ..runtime.errors import ControlPlaneError
from ..runtime.tables import MatchValue

FLOOD_GROUP = 1


class L2Agent:
    def __init__(self, device, ports: list[int], name: str = "switch", max_macs: int | None = None):
        self.dev = device
        self.name = name
        self.ports = sorted(ports)
        self.learned: dict[int, int] = {}      # MAC -> port
        self.handles: dict[int, tuple[int, int]] = {}
        self.moves = 0
        self.max_macs = max_macs
        device.on_digest(self._learn)

    def install(self) -> None:
        self.dev.mcast_group_set(FLOOD_GROUP, [(p, 1) for p in self.ports])

    def _learn(self, digest) -> None:
        mac, port = digest.fields.get("mac"), digest.fields.get("port")
        if mac is None or port is None:
            return
        if self.learned.get(mac) == port:
            return
        smac, dmac = self.dev.table("smac"), self.dev.table("dmac")
        if mac in self.handles:
            sh, dh = self.handles.pop(mac)
            smac.delete(sh)
            dmac.delete(dh)
            self.moves += 1
        if self.max_macs is not None and len(self.learned) >= self.max_macs and mac not in self.learned:
            return
        try:
            sh = smac.add([MatchValue(mac), MatchValue(port)], "NoAction", [])
            dh = dmac.add([MatchValue(mac)], "forward", [port])
        except ControlPlaneError:
            return          # the table is full: keep flooding for this MAC
        self.handles[mac] = (sh, dh)
        self.learned[mac] = port

    def handle(self, frame: bytes, now_us: float):
        return [], []
