"""A large network is frozen for the garbage collector once built (net/network.py FREEZE_FROM_DEVICES): its
millions of route objects are then not scanned again by every collection while the run makes garbage."""

from __future__ import annotations

import gc
from pathlib import Path

from dataplane.net import network
from dataplane.net.network import Network
from dataplane.net.topology import load_topology

LINE = Path(__file__).resolve().parents[2] / "topologies" / "line.yaml"


def test_a_network_with_enough_devices_is_frozen_a_small_one_is_not(monkeypatch):
    gc.unfreeze()
    try:
        Network(load_topology(str(LINE)))                     # 3 routers: below the threshold
        assert gc.get_freeze_count() == 0
        monkeypatch.setattr(network, "FREEZE_FROM_DEVICES", 3)
        net = Network(load_topology(str(LINE)))
        assert gc.get_freeze_count() > 0 and gc.isenabled()
        net.schedule_traffic()
        net.run()                                             # runs as before
        assert net.summary().problems == []
    finally:
        gc.unfreeze()


def test_the_collector_stays_off_when_it_was_off():
    gc.disable()
    try:
        Network(load_topology(str(LINE)))
        assert not gc.isenabled()
    finally:
        gc.enable()
