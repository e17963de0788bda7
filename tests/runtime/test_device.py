"""Device.process_raw, the guarded fast path, and Device.unguarded, what it runs without its guard."""

from __future__ import annotations

import random

import pytest

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
    outputs, drops = device.process_raw(1, packet())
    assert (list(outputs), list(drops)) == tuple(map(list, fast(1, packet())))
    assert outputs and device.unguarded() is fast


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


def test_whatever_takes_process_raws_place_is_what_unguarded_gives(device):
    def recorder(port, data):
        return [], []
    device.process_raw = recorder
    assert device.unguarded() is recorder
