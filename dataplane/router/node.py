"""A device and its agent as one network node: frames in on ports, frames out on ports.

The pipeline runs first; what it sends to CPU_PORT goes to the agent, whose
own packets go straight out of their ports. Every received frame is
accounted for: sent, dropped by the pipeline, or handled by the agent.
"""

from __future__ import annotations

from .agent import CPU_PORT


class Node:
    """A P4 device with an optional agent (RouterAgent, L2Agent or any object with handle())."""

    def __init__(self, device, agent=None, name: str | None = None):
        self.device = device
        self.agent = agent
        self.name = name or device.name

    def receive(self, port: int, frame: bytes, now_us: float, trace: bool = False):
        """Process a frame received on a port; returns (outputs [(port, frame)], drops, trace or None)."""
        dev = self.device
        dev.now_us = now_us
        if trace:
            r = dev.process(port, frame, trace=True)
            outputs, drops, tr = r.outputs, list(r.drops), r.trace
        else:
            outputs, drops = dev.process_raw(port, frame)
            drops = list(drops)
            tr = None
        if self.agent is None or not any(p == CPU_PORT for p, _ in outputs):
            return outputs, drops, tr
        final = []
        for p, f in outputs:
            if p == CPU_PORT:
                o2, d2 = self.agent.handle(f, now_us)
                final.extend(o2)
                drops.extend(d2)
            else:
                final.append((p, f))
        return final, drops, tr
