"""Packet numbers: one number per packet, kept hop after hop, so that trace lines and capture frames match.

A packet gets the next number (#1, #2, ... per run, in the order packets are
first put on a link) when a node makes it: a host sends a frame, or a
device's agent makes one of its own (an ICMP error, an echo reply, a
fragment, an ARP reply). A frame a device's pipeline forwards keeps the
number of the frame it received, with its hop count one higher; copies of
one packet (multicast, flooding, clones) keep it too, each on its own link.
Why one number per packet and not one per transmission: a student follows
one packet across routers, and `--trace-filter '#12'` shows its whole
journey, every hop of it; the hop count (`#12` hop 1 on the first link,
hop 2 on the second, ...) tells the transmissions apart, in a capture file
too, where a pcapng frame carries the comment "dataplane packet #12 hop 2"
(classic pcap has no place for it).

Numbers are given only when someone looks (a trace, or captures): the
Simulator's `numbers` is None otherwise, and links then do no per-frame
work for them. The same topology and traffic give the same numbers in every
run, traced or captured or both.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PacketNumber:
    """The number of a packet and the hop of this transmission (1: the link it was first sent on)."""
    packet: int
    hop: int = 1

    def __str__(self) -> str:
        return f"#{self.packet}"

    def comment(self) -> str:
        """The text a capture file carries for the frame (a pcapng packet comment)."""
        return f"dataplane packet #{self.packet} hop {self.hop}"


class PacketNumbers:
    """Gives every frame put on a link its PacketNumber (see the module's docstring).

    Links call `transmit` for each frame and `arriving` around each delivery;
    `last` is the number just given (for observers of the link), and
    `receiving` the number of the frame a node is receiving right now.
    """

    def __init__(self) -> None:
        self.count = 0
        self.last: PacketNumber | None = None
        self.receiving: PacketNumber | None = None
        self.receiver = None             # the node receiving `receiving`

    def transmit(self, node, new_packet: bool) -> PacketNumber:
        """The number of a frame `node` puts on a link: its received packet's, one hop on, when the node
        forwards it; a new number for a packet the node made."""
        parent = self.receiving
        if parent is not None and not new_packet and node is self.receiver and getattr(node, "forwards", False):
            number = PacketNumber(parent.packet, parent.hop + 1)
        else:
            self.count += 1
            number = PacketNumber(self.count)
        self.last = number
        return number
