"""`dataplane replay --engine`: choosing the engine, and replaying a whole capture with the batch engine."""

from __future__ import annotations

import itertools
import os
import sys

import numpy as np

from ..diagnostics import error
from .engine import BatchEngine, output_times, why_not_batch
from .packets import batch_from_records, open_pcap, read_classic_pcap


def choose_engine(choice: str, device, trace: bool) -> BatchEngine | None:
    """The batch engine for `--engine batch|auto` when the program qualifies, else None (the scalar engine).

    auto says why not in one sentence on stderr; batch refuses at the construct that keeps it out."""
    if choice == "scalar":
        return None
    if trace:
        if choice == "batch":
            raise error("--trace needs the scalar engine (the batch engine runs whole columns, not packets); "
                        "use --engine scalar or auto")
        return None
    why = why_not_batch(device.program)
    if why is None:
        return BatchEngine(device)
    if choice == "batch":
        raise error(f"the batch engine does not run {why.what}", why.span,
                    "use --engine scalar or auto (the scalar engine runs every program)")
    print(f"replay: using the scalar engine: the batch engine does not run {why.sentence()}", file=sys.stderr)
    return None


# A capture up to this size is read into memory, a larger one mapped; either way the packets go through
# in batches of CHUNK packets, so that the columns (a few dozen 8-byte columns a packet) stay bounded.
# Several inputs, or a pcapng file, come merged from the record-by-record readers, in the same batches.
WHOLE_FILE_LIMIT = 64 << 20
CHUNK = 1 << 18


def replay_batch(engine: BatchEngine, inputs: list, records, out_dir: str) -> tuple[int, dict, dict]:
    """Replay the packets a batch at a time; write port<N>.pcap per egress port. Returns (count, outputs
    per port, drops per reason). `inputs` are (port, path, end); `records` the merged (time, port, data)
    of them all, used unless the input is one classic pcap file read as it is."""
    batches = None
    if len(inputs) == 1 and inputs[0][2] is None:
        port, path, _ = inputs[0]
        whole = read_classic_pcap(path, port, map_above=WHOLE_FILE_LIMIT)
        batches = whole.split(CHUNK) if whole is not None else None
    if batches is None:
        batches = _chunks(records, CHUNK)
    os.makedirs(out_dir, exist_ok=True)
    files: dict = {}
    count, outs, drops = 0, {}, {}
    try:
        for n, bodies, batch_outs, batch_drops in run_batches(engine, batches):
            for port, body in bodies.items():
                f = files.get(port)
                if f is None:
                    f = files[port] = open_pcap(os.path.join(out_dir, f"port{port}.pcap"))
                f.write(memoryview(np.ascontiguousarray(body)).cast("B"))
            count += n
            _add(outs, batch_outs)
            _add(drops, batch_drops)
    finally:
        for f in files.values():
            f.close()
    return count, outs, drops


def run_batches(engine: BatchEngine, batches, clock: int = 0):
    """(packets, {egress port: its output records}, outputs per port, drops per reason) of every batch, in
    order. `clock` is the latest time of the packets replayed before these (`replay --shards` replays a
    capture a piece at a time), which output times never go below."""
    for batch in batches:
        result = engine.run(batch)
        times = output_times(batch, clock)
        if batch.n:
            clock = int(times[-1])
        yield batch.n, result.pcap_bodies(times), result.out_counts(), result.drop_counts()


def _chunks(records, size: int):
    it = iter(records)
    while True:
        part = list(itertools.islice(it, size))
        if not part:
            return
        yield batch_from_records(part)


def _add(total: dict, more: dict) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0) + v


__all__ = ["choose_engine", "replay_batch", "run_batches"]
