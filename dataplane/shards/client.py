"""`dataplane replay ... --shards N [--scheduler ADDRESS]`: a capture replayed in pieces on Dask workers.

The client reads the input a piece at a time (pieces.py), submits each piece
to the cluster with the program's bundle (worker.py), at most 2 N pieces in
flight (N being replayed, N ready for the next free worker), and writes the
results back in the order of the pieces as they come in (a result that comes
early waits, within the same window): memory stays bounded on both ends, and
the output files are byte for byte those of one process. A piece travels
inside its task, so that when a worker dies Dask runs its pieces again on
another (its own retries; the files are the same). Only programs whose
packets are independent qualify (compiler/carried_state.py, the rule the
batch engine shares); the others are refused before anything starts.
"""

from __future__ import annotations

import os
import time
from typing import Iterator

from ..cluster import open_client, require_distributed, worker_count
from ..compiler.carried_state import carried_state
from ..diagnostics import DiagnosticError, error
from ..pcap import PcapWriter
from ..replay import ReplayCounts
from .pieces import Piece, input_pieces, piece_limit
from .worker import PieceResult, ProgramBundle, replay_piece


# Dask warns about tasks larger than 10 MB ("consider scattering the data"); ours carry a piece each on
# purpose (see replay_sharded), of at most PIECE_BYTES.
LARGE_TASK = "1GiB"


def check_options(args) -> None:
    """The options that do not go with --shards (or need it), refused before anything is read."""
    if args.shards is None:
        if args.scheduler is not None:
            raise error("--scheduler needs --shards N (the replay is spread over that cluster's workers)")
        return
    if args.shards < 1:
        raise error(f"--shards must be at least 1, not {args.shards}")
    if args.trace:
        raise error("--trace needs one process (traces come packet by packet, in order); leave out --shards")
    if args.report:
        raise error("--report needs one process (it steps through the packets in order); leave out --shards")


def check_shardable(program) -> None:
    """A user error, at the construct, if the program carries state from one packet to the next."""
    found = carried_state(program)
    if found is not None:
        raise error(f"this program cannot be sharded: {found.what} carries state from one packet to the next",
                    found.span, "replay it without --shards (one process replays the packets in order)")


class ShardedRun:
    """What a sharded replay did: ReplayCounts as replay() gives them, and how it was spread."""

    def __init__(self):
        self.counts = ReplayCounts()
        self.pieces = 0
        self.internal_errors = 0
        self.first_internal_error: tuple[int, str] | None = None
        self.worker_seconds = 0.0       # processor time the workers spent on the pieces

    def add(self, result: PieceResult) -> None:
        counts = self.counts
        counts.packets += result.packets
        for port, n in result.out.items():
            counts.out[port] = counts.out.get(port, 0) + n
        for reason, n in result.drops.items():
            counts.drops[reason] = counts.drops.get(reason, 0) + n
        if result.internal_errors and self.first_internal_error is None:
            self.first_internal_error = result.first_internal_error
        self.internal_errors += result.internal_errors
        self.worker_seconds += result.cpu_seconds
        self.pieces += 1


def replay_sharded(client, bundle: ProgramBundle, source: Iterator[Piece], out_dir: str,
                   window: int, direct: bool = False) -> ShardedRun:
    """Replay the pieces on the client's cluster, at most `window` in flight or waiting to be written;
    the outputs in out_dir/port<N>.pcap, as replay() writes them. `direct`: the client reaches the workers
    (an embedded cluster), so results come straight from them, not through the scheduler."""
    distributed = require_distributed()
    import dask
    os.makedirs(out_dir, exist_ok=True)
    run = ShardedRun()
    writers: dict[int, PcapWriter] = {}
    in_flight: set = set()
    done: dict[int, PieceResult] = {}       # results that came before the ones ahead of them
    next_index = 0

    def collect() -> None:
        """Wait for a piece to finish; write every result that is next in order."""
        nonlocal in_flight, next_index
        finished, in_flight = distributed.wait(in_flight, return_when="FIRST_COMPLETED")
        for result in client.gather(list(finished), direct=direct):     # a worker's exception is raised here
            done[result.index] = result
        while next_index in done:
            result = done.pop(next_index)
            _write(result, out_dir, writers)
            run.add(result)
            next_index += 1

    # A result that came before the next one to write waits in `done`, and counts in the window.
    start = time.perf_counter()
    try:
        try:
            for piece in source:
                while len(in_flight) + len(done) >= window:
                    collect()
                # The piece travels inside its task (not scattered to one worker beforehand): if a worker
                # dies, Dask runs its tasks again elsewhere, which it cannot do for data only the dead
                # worker held.
                with dask.config.set({"distributed.admin.large-graph-warning-threshold": LARGE_TASK}):
                    in_flight.add(client.submit(replay_piece, bundle, piece, pure=False))
                del piece
        except DiagnosticError:
            # A damaged input: the packets before the damage are replayed and written, as replay() does.
            while in_flight:
                collect()
            raise
        while in_flight:
            collect()
    finally:
        for future in in_flight:
            future.cancel()
        for w in writers.values():
            w.close()
        run.counts.seconds = time.perf_counter() - start
    return run


def _write(result: PieceResult, out_dir: str, writers: dict) -> None:
    for port, records in result.outputs.items():
        w = writers.get(port)
        if w is None:
            w = writers[port] = PcapWriter(os.path.join(out_dir, f"port{port}.pcap"))
        w.write_records(memoryview(records).cast("B"), result.out[port])


def run_sharded(args, program, sources, batch: bool, defines: dict) -> tuple[ShardedRun, int]:
    """The sharded replay `dataplane replay` runs: (what it did, the workers it had)."""
    check_shardable(program)
    require_distributed()
    bundle = worker_bundle(args, defines, batch)
    n = args.shards
    limit = piece_limit(sources, n)
    if args.scheduler is not None:
        opened = open_client(scheduler=args.scheduler)
    else:
        opened = open_client(workers=n)
    with opened as client:
        run = replay_sharded(client, bundle, input_pieces(sources, limit), args.out_dir, window=2 * n,
                             direct=args.scheduler is None)
        return run, worker_count(client)


def worker_bundle(args, defines: dict, batch: bool) -> ProgramBundle:
    from .worker import program_bundle
    return program_bundle(args.program, list(args.include_dirs), defines, args.runtime or args.entries,
                          "batch" if batch else "scalar")


__all__ = ["ShardedRun", "check_options", "check_shardable", "replay_sharded", "run_sharded"]
