"""Run packets through a device with both engines and compare what comes out."""

from __future__ import annotations

import random
import struct

from dataplane.batch import BatchEngine, batch_from_records
from dataplane.compiler.program import compile_program
from dataplane.runtime.device import Device
from p4helpers import check_text


def device_of(text: str, name: str = "batch.p4") -> Device:
    return Device(compile_program(check_text(text, name)))


def scalar_run(device: Device, packets: list[tuple[int, bytes]]):
    """{port: [bytes]} and {reason: count}, as `dataplane replay` counts them."""
    outs: dict[int, list[bytes]] = {}
    drops: dict[str, int] = {}
    for port, data in packets:
        o, d = device.process_raw(port, data)
        for p, pkt in o:
            outs.setdefault(p, []).append(pkt)
        for reason, _ in d:
            drops[reason.name.lower()] = drops.get(reason.name.lower(), 0) + 1
    assert not device.internal_errors, device.internal_errors
    return outs, drops


def batch_run(device: Device, packets: list[tuple[int, bytes]]):
    result = BatchEngine(device).run(batch_from_records([(i, port, data) for i, (port, data) in enumerate(packets)]))
    outs = {p: result.packets(p) for p in result.out_counts()}
    return outs, result.drop_counts()


def assert_same(device: Device, packets: list[tuple[int, bytes]]) -> None:
    """The batch engine gives the scalar engine's bytes, per port in order, and its drops per reason."""
    expected = scalar_run(device, packets)
    got = batch_run(device, packets)
    assert got[1] == expected[1]
    assert sorted(got[0]) == sorted(expected[0])
    for port, pkts in expected[0].items():
        assert got[0][port] == pkts, f"port {port}"


def checksum(header: bytes) -> int:
    s = sum(struct.unpack(f"!{len(header) // 2}H", header))
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def ipv4_packet(dst: int, ttl: int = 64, payload: bytes = b"", good_checksum: bool = True, proto: int = 17,
                tos: int = 0, src: int = 0x0A000101) -> bytes:
    ip = bytearray(struct.pack("!BBHHHBBH4s4s", 0x45, tos, 20 + len(payload), 1, 0, ttl, proto, 0,
                               src.to_bytes(4, "big"), dst.to_bytes(4, "big")))
    ip[10:12] = struct.pack("!H", checksum(bytes(ip)) if good_checksum else 0x1234)
    return bytes.fromhex("0000000001000000000001010800") + bytes(ip) + payload


def mixed_packets(rng: random.Random, dsts: list[int], n: int = 400) -> list[tuple[int, bytes]]:
    """IPv4 packets of many lengths, some truncated, some not IPv4, some with a bad checksum, some random."""
    out = []
    for _ in range(n):
        kind = rng.random()
        pkt = ipv4_packet(rng.choice(dsts) if rng.random() < 0.7 else rng.getrandbits(32), rng.randrange(0, 256),
                          rng.randbytes(rng.randrange(0, 80)), good_checksum=rng.random() < 0.9,
                          proto=rng.choice([6, 17, 1]), tos=rng.randrange(256))
        if kind < 0.1:
            pkt = pkt[:rng.randrange(0, len(pkt))]
        elif kind < 0.15:
            pkt = pkt[:12] + b"\x86\xdd" + pkt[14:]
        elif kind < 0.2:
            pkt = rng.randbytes(rng.randrange(0, 60))
        out.append((rng.randrange(0, 4), pkt))
    return out
