"""`dataplane replay --engine`: choosing the engine, and replaying a whole capture with the batch engine."""

from __future__ import annotations

import os
import sys

from ..diagnostics import error
from .engine import BatchEngine, output_times, why_not_batch
from .packets import batch_from_records, read_classic_pcap, write_pcap


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


def replay_batch(engine: BatchEngine, inputs: list, records, out_dir: str) -> tuple[int, dict, dict]:
    """Replay every packet at once; write port<N>.pcap per egress port. (count, outputs per port, drops
    per reason). `inputs` are (port, path, end); `records` the merged (time, port, data) of them all,
    used unless the input is one classic pcap file read whole."""
    batch = None
    if len(inputs) == 1 and inputs[0][2] is None:
        port, path, _ = inputs[0]
        batch = read_classic_pcap(path, port)
    if batch is None:
        batch = batch_from_records(records)
    result = engine.run(batch)
    os.makedirs(out_dir, exist_ok=True)
    times = output_times(batch)
    for port, body in result.pcap_bodies(times).items():
        write_pcap(os.path.join(out_dir, f"port{port}.pcap"), body)
    return batch.n, result.out_counts(), result.drop_counts()


__all__ = ["choose_engine", "replay_batch"]
