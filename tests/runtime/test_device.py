"""Device.process_raw, the guarded fast path, and Device.unguarded, what it runs without its guard."""

from __future__ import annotations

import dis
import random
import sys

import pytest

from dataplane.arch.v1model import outputs_and_drops
from dataplane.bench import _packet, setup_lpm
from dataplane.runtime.trace import DropReason


@pytest.fixture
def device():
    dev, _routes = setup_lpm(5)
    return dev


def packet() -> bytes:
    return _packet(random.Random(1), 0x0A000001)


def test_unguarded_is_the_generated_function_that_process_raw_guards(device):
    fast = device.unguarded()
    assert fast is device.stages(False)["fast"] and device.process_raw.unguarded is fast
    port, frame = fast(1, packet())                 # a hop result: one frame out
    assert device.process_raw(1, packet()) == ([(port, frame)], ()) == outputs_and_drops(fast(1, packet()))
    assert device.unguarded() is fast


def test_a_bug_in_the_pipeline_is_raised_unguarded_and_accounted_for_by_process_raw(device):
    def broken(port, data):
        raise ZeroDivisionError("a bug")
    device.stages(False)
    device._fast = dict(device._fast, fast=broken)
    with pytest.raises(ZeroDivisionError):
        device.unguarded()(1, packet())
    assert device.internal_errors == []
    assert device.process_raw(1, packet()) == ([], [(DropReason.PIPELINE_ERROR, "ZeroDivisionError: a bug")])
    assert device.internal_errors == [(1, packet(), "ZeroDivisionError: a bug")]


def test_whatever_takes_process_raws_place_is_what_unguarded_runs_giving_a_hop_result(device):
    seen = []

    def recorder(port, data):                  # process_raw's contract: (outputs, drops)
        seen.append((port, data))
        return [(2, data)], []
    device.process_raw = recorder
    assert device.unguarded()(1, packet()) == (None, ([(2, packet())], []))
    assert seen == [(1, packet())]


def test_a_bug_in_what_takes_process_raws_place_is_raised_unguarded(device):
    def broken(port, data):
        raise ZeroDivisionError("a bug")
    device.process_raw = broken
    with pytest.raises(ZeroDivisionError):
        device.unguarded()(1, packet())


def test_another_device_s_process_raw_in_its_place_is_what_unguarded_runs(device):
    other, _routes = setup_lpm(5)
    device.process_raw = other.process_raw     # the class's method, bound to the other device
    hop = device.unguarded()
    assert other.process_raw == other._process_raw_first     # the other device was not guarded by it
    assert hop(1, packet()) == (None, other.process_raw(1, packet())) == (None, device.runner.process_fast(1, packet()))


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="CPython 3.11's specialization of attribute access")
def test_the_load_of_process_raw_is_specialized(device):
    # An instance attribute that hides an attribute of the class is never specialized in 3.11; frame_arrives
    # loads process_raw for every frame.
    device.unguarded()
    def load(dev):
        return dev.process_raw
    for _ in range(20):
        load(device)
    assert "LOAD_ATTR_INSTANCE_VALUE" in {ins.opname for ins in dis.get_instructions(load, adaptive=True)}


@pytest.mark.skipif(sys.version_info[:2] != (3, 11), reason="CPython 3.11's specialization of attribute access")
def test_unguarded_leaves_the_device_s_attributes_specialized(device):
    # A device whose __dict__ was read has a dict of its own in 3.11, and stores to its attributes (the time of
    # every packet) stay generic; unguarded must find out whether process_raw is guarded without reading it.
    device.unguarded()
    def set_time(dev, t):
        dev.now_us = t
    for t in range(20):
        set_time(device, float(t))
    ops = {ins.opname for ins in dis.get_instructions(set_time, adaptive=True)}
    assert "STORE_ATTR_INSTANCE_VALUE" in ops and device.now_us == 19.0
