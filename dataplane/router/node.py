"""A device and its agent as one network node: frames in on ports, frames out on ports.

The pipeline runs first; what it sends to CPU_PORT goes to the agent, whose
own packets go straight out of their ports. Every received frame is
accounted for: sent, dropped by the pipeline, or handled by the agent.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from ..runtime.trace import DropReason
from .agent import CPU_PORT


@dataclass
class NodeResult:
    """What a node did with one frame."""
    outputs: list             # (port, frame): the pipeline's copies, then what the agent sent
    drops: list               # (DropReason, detail): of the pipeline's copies, then the agent's fates
    trace: object = None
    forwarded: int = 0        # how many outputs are the pipeline's own (the rest came from the agent)
    agent_fates: list = field(default_factory=list)     # (DropReason, detail) of the packets the agent got
    agent_handled: int = 0    # packets the pipeline sent to the agent

    def fate(self) -> str:
        """The one fate of the received frame, for the ledger."""
        if self.forwarded:
            return "forwarded"
        if self.agent_handled:
            if len(self.agent_fates) < self.agent_handled and len(self.outputs) > self.forwarded:
                return "forwarded"              # the agent sent it on (as fragments)
            if any(r is not DropReason.CONSUMED for r, _ in self.agent_fates):
                return "dropped"
            return "consumed"
        return "dropped" if self.drops else "none"


class Node:
    """A P4 device with an optional agent (RouterAgent, L2Agent or any object with handle())."""

    def __init__(self, device, agent=None, name: str | None = None):
        self.device = device
        self.agent = agent
        self.name = name or device.name

    def receive(self, port: int, frame: bytes, now_us: float, trace: bool = False):
        """Process a frame received on a port; returns (outputs [(port, frame)], drops, trace or None)."""
        r = self.process(port, frame, now_us, trace)
        return r.outputs, r.drops, r.trace

    def process(self, port: int, frame: bytes, now_us: float, trace: bool = False) -> NodeResult:
        dev = self.device
        dev.now_us = now_us
        if trace:
            r = dev.process(port, frame, trace=True)
            outputs, drops, tr = r.outputs, list(r.drops), r.trace
        else:
            outputs, drops = dev.process_raw(port, frame)
            drops = list(drops)
            tr = None
        return self.complete(outputs, drops, tr, now_us)

    def complete(self, outputs: list, drops: list, tr, now_us: float) -> NodeResult:
        """Hand what the pipeline sent to CPU_PORT to the agent, and put the results together."""
        if self.agent is None or not any(p == CPU_PORT for p, _ in outputs):
            return NodeResult(outputs, drops, tr, len(outputs))
        own = [(p, f) for p, f in outputs if p != CPU_PORT]
        result = NodeResult(own, drops, tr, len(own))
        for p, f in outputs:
            if p == CPU_PORT:
                o2, d2 = self.agent.handle(f, now_us)
                result.agent_handled += 1
                result.outputs.extend(o2)
                result.agent_fates.extend(d2)
                drops.extend(d2)
        return result
