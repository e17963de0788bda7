"""Trace events' text: values written as people write them (addresses as addresses, RFC numbers in decimal)."""

from __future__ import annotations

import pytest

from dataplane.runtime.trace import ActionRun, TableApply, format_value


@pytest.mark.parametrize("name, value, width, text", [
    ("dstAddr", 0x080000000222, 48, "08:00:00:00:02:22"),        # a 48-bit address: a MAC
    ("nhop_dmac", 0x020000000001, 48, "02:00:00:00:00:01"),
    ("ingress_global_timestamp", 123456, 48, "123456"),          # 48 bits, but not an address
    ("hdr.ipv4.dstAddr", 0x0A000202, 32, "10.0.2.2"),
    ("nhop_ipv4", 0x0A000101, 32, "10.0.1.1"),
    ("srcAddr", 1, 128, "::1"),
    ("ttl", 63, 8, "63"), ("hopLimit", 255, 8, "255"), ("totalLen", 1500, 16, "1500"),
    ("identification", 54321, 16, "54321"), ("dstPort", 443, 16, "443"), ("port", 2, 9, "2"),
    ("seqNo", 4_000_000_000, 32, "4000000000"), ("protocol", 17, 8, "17"), ("type", 8, 8, "8"),
    ("etherType", 0x0800, 16, "0x0800"), ("hdrChecksum", 0x64C6, 16, "0x64c6"), ("flags", 2, 3, "0x2"),
    ("mac", 1, None, "00:00:00:00:00:01"), ("enabled", True, 1, "True"),
])
def test_values_are_written_as_their_width_and_name_say(name, value, width, text):
    assert format_value(name, value, width) == text


def test_action_and_table_lines_use_the_same_formats():
    run = ActionRun("MyIngress.ipv4_forward", {"dstAddr": (0x080000000222, 48), "port": (2, 9)})
    assert run.render() == "    action MyIngress.ipv4_forward(dstAddr=08:00:00:00:02:22, port=2)"
    t = TableApply("MyIngress.t", {"hdr.ipv4.ttl": (64, 8)}, False, "default NoAction()", "NoAction")
    assert t.render() == "  table MyIngress.t: key {hdr.ipv4.ttl=64} miss -> default NoAction"


def test_a_digest_shows_its_fields_by_name_as_their_widths_say():
    from dataplane.runtime.trace import DigestSent
    sent = DigestSent(1, ("srcAddr", "ingress_port"), (0x020000010001, 1), (48, 9))
    assert sent.render() == "    digest to receiver 1: srcAddr=02:00:00:01:00:01, ingress_port=1"
