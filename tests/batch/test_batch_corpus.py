"""p4c's STF tests whose programs the batch engine runs: the scalar engine's bytes and drops, with each
test's table entries, on the test's packets and on those packets cut short, with bytes changed and
with their headers' bytes shuffled."""

from __future__ import annotations

import random

import pytest

from batchcheck import assert_same
from conformance.corpus import samples_dir, stf_tests


def _stf_packets(text: str) -> list[tuple[int, bytes]]:
    out = []
    for line in text.splitlines():
        words = line.split("#", 1)[0].split()
        if words[:1] == ["packet"] and len(words) > 2:
            try:
                out.append((int(words[1]), bytes.fromhex("".join(words[2:]).replace("*", "0"))))
            except ValueError:
                continue            # a packet spelled in a way this test does not read
    return out


def _variants(rng: random.Random, packets: list[tuple[int, bytes]], n: int) -> list[tuple[int, bytes]]:
    out = list(packets)
    for _ in range(n):
        port, data = rng.choice(packets)
        data = bytearray(data)
        kind = rng.random()
        if kind < 0.3 and data:
            data = data[:rng.randrange(len(data))]
        elif kind < 0.8:
            for _ in range(rng.randrange(1, 4)):
                if data:
                    data[rng.randrange(min(len(data), 64))] = rng.randrange(256)
        else:
            data += rng.randbytes(rng.randrange(1, 40))
        out.append((rng.choice([port, port, rng.randrange(8)]), bytes(data)))
    return out


@pytest.mark.parametrize("name", sorted(stf_tests()))
def test_corpus_programs_the_batch_engine_runs_give_the_scalar_bytes(name):
    from dataplane.batch import why_not_batch
    from dataplane.build import build
    from dataplane.frontend.preprocess import read_source
    from dataplane.runtime.device import Device
    from dataplane.stf import run_stf
    program, stf = stf_tests()[name]
    try:
        compiled = build(str(program), [str(samples_dir())])
    except Exception:
        pytest.skip("the program does not compile")
    if why_not_batch(compiled) is not None:
        pytest.skip("the batch engine does not run this program")
    device = Device(compiled, name=program.name)
    run_stf(device, read_source(str(stf), kind="STF files"))     # its table entries, as the test leaves them
    packets = _stf_packets(stf.read_text())
    if not packets:
        pytest.skip("the test sends no packets")
    device.internal_errors.clear()
    assert_same(device, _variants(random.Random(name), packets, 300))
