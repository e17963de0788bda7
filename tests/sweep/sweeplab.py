"""Paths the sweep tests share."""

from pathlib import Path

from dataplane.locate import find_sweep

# The topology of the shipped sweep tcp-loss-mtu: two hosts, two routers, a lossy link between them.
LOSSY_LINK = str(Path(find_sweep("tcp-loss-mtu")).resolve().parent / "topologies" / "lossy-link.yaml")
