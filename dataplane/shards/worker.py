"""What a Dask worker runs for `replay --shards`: one piece of a capture through the program.

    bundle = program_bundle("prog.p4", [], {}, "s1-runtime.json", engine="batch")   # on the client
    result = replay_piece(bundle, piece)                                            # on a worker

Workers share no file system with the client: the bundle carries the program,
every file it includes and its table entries file (the files read_source read
for them on the client), and the worker compiles from those, once per worker
thread and bundle (keyed by a digest of everything that makes the program).
A piece goes through the engine the client chose (scalar or batch: both give
the same bytes) and comes back as each egress port's pcap records, without the
file header, with the counts, drops by reason and internal errors.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from .. import __version__
from ..frontend.preprocess import preprocess, read_source, recording_reads
from .pieces import Piece


@dataclass(frozen=True)
class ProgramBundle:
    """A program as the client built it, with the files it was built from."""
    program: str                    # as the user named it (relative to cwd, or absolute)
    include_dirs: tuple[str, ...]
    defines: tuple[tuple[str, str], ...]
    entries: str | None             # the runtime JSON or entries YAML file, as named
    engine: str                     # "scalar" or "batch"
    cwd: str                        # the client's working directory, where relative names start
    files: tuple[tuple[str, str], ...]      # (absolute path on the client, text) of every file read
    digest: str = ""


def program_bundle(program: str, include_dirs: list[str], defines: dict[str, str], entries: str | None,
                   engine: str) -> ProgramBundle:
    """The bundle of a program: its files are read again here (preprocessing only, which reads the same
    files the compiler did) so that a program built earlier in this process still lists them all."""
    with recording_reads() as seen:
        preprocess(read_source(program), include_dirs, defines)
        if entries is not None:
            read_source(entries, kind="table entries files")
    bundle = ProgramBundle(program, tuple(include_dirs), tuple(sorted(defines.items())), entries, engine,
                           os.getcwd(), tuple(sorted(seen.items())))
    # Everything above, and the version of dataplane that built it.
    h = hashlib.sha256(f"{__version__}\n{bundle!r}".encode("utf-8", "surrogatepass"))
    return dataclasses.replace(bundle, digest=h.hexdigest())


@dataclass
class PieceResult:
    index: int
    packets: int
    outputs: dict = field(default_factory=dict)     # egress port -> its pcap records (bytes, or uint8 numpy array)
    out: dict[int, int] = field(default_factory=dict)           # egress port -> packets
    drops: dict[str, int] = field(default_factory=dict)         # reason (lower case) -> packets
    internal_errors: int = 0
    first_internal_error: tuple[int, str] | None = None         # (ingress port, detail)
    cpu_seconds: float = 0.0                                    # the worker's processor time for it


def replay_piece(bundle: ProgramBundle, piece: Piece) -> PieceResult:
    """Run on a worker: one piece through the bundle's program, as an unsharded replay runs it."""
    start = time.thread_time()
    device, engine = _prepared(bundle)
    result = _batch_piece(engine, piece) if engine is not None else _scalar_piece(device, piece)
    result.cpu_seconds = time.thread_time() - start
    return result


# ------------------------------------------------------------------ programs, compiled once a worker

# (digest, thread) -> (device, batch engine or None); a few programs at most (a worker may serve
# several replays, one after another).
_PREPARED: OrderedDict = OrderedDict()
_KEEP = 4
_LOCK = threading.Lock()


def _prepared(bundle: ProgramBundle):
    # A device per thread: a worker with several threads may run two pieces at once, and a device keeps
    # the time and internal errors of the packet it runs.
    key = (bundle.digest, threading.get_ident())
    with _LOCK:
        found = _PREPARED.get(key)
        if found is not None:
            _PREPARED.move_to_end(key)
            return found
    found = _prepare(bundle)
    with _LOCK:
        _PREPARED[key] = found
        while len(_PREPARED) > _KEEP:
            _PREPARED.popitem(last=False)
    return found


def _prepare(bundle: ProgramBundle):
    """Build the bundle's program from its files, put where the client had them under a directory of our
    own (so includes next to the program and in -I directories resolve as they did there)."""
    from ..batch.engine import BatchEngine
    from ..build import build
    from ..controlplane.loader import load_file
    from ..runtime.device import Device
    root = tempfile.mkdtemp(prefix="dataplane-shard-")
    try:
        for path, text in bundle.files:
            local = _under(root, path)
            os.makedirs(os.path.dirname(local), exist_ok=True)
            with open(local, "w", encoding="utf-8", newline="") as f:
                f.write(text)

        def here(name: str) -> str:
            return _under(root, os.path.join(bundle.cwd, name))
        program = build(here(bundle.program), [here(d) for d in bundle.include_dirs], dict(bundle.defines))
        device = Device(program, name=os.path.basename(bundle.program))
        if bundle.entries is not None:
            load_file(device, here(bundle.entries))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    return device, (BatchEngine(device) if bundle.engine == "batch" else None)


def _under(root: str, path: str) -> str:
    """Where a file of the client's (absolute path) goes under root."""
    drive, rest = os.path.splitdrive(os.path.abspath(path))
    return os.path.join(root, drive.replace(":", ""), rest.lstrip(os.sep))


# ------------------------------------------------------------------ the engines


class _Records:
    """An egress port's output records in memory, as PcapWriter.write_records would write them."""

    def __init__(self):
        self.chunks: list[bytes] = []
        self.count = 0

    def write_records(self, records: bytes, count: int) -> None:
        self.chunks.append(records)
        self.count += count


def _scalar_piece(device, piece: Piece) -> PieceResult:
    from ..replay import replay_untraced
    device.internal_errors.clear()
    device.log_lines.clear()
    ports: dict[int, _Records] = {}

    def open_port(port: int) -> None:
        ports[port] = _Records()
    drops: dict[str, int] = {}
    n = replay_untraced(device, _packet_lists(piece), open_port, ports, drops, clock=piece.clock)
    result = PieceResult(piece.index, n, {p: b"".join(r.chunks) for p, r in ports.items()},
                         {p: r.count for p, r in ports.items()}, drops)
    errors = device.internal_errors
    if errors:
        port, _data, detail = errors[0]
        result.internal_errors, result.first_internal_error = len(errors), (port, detail)
        errors.clear()
    return result


def _packet_lists(piece: Piece):
    """(port, [(time_ns, data, None), ...]) per run of packets from one port, as replay_untraced takes
    them."""
    b = piece.batch
    raw = b.buf.tobytes()
    rows = zip(b.times.tolist(), b.ports.tolist(), b.starts.tolist(), b.lengths.tolist())
    current, run = None, []
    for t, port, start, length in rows:
        if port != current:
            if run:
                yield current, run
            current, run = port, []
        run.append((t, raw[start:start + length], None))
    if run:
        yield current, run


def _batch_piece(engine, piece: Piece) -> PieceResult:
    import numpy as np

    from ..batch.replay import CHUNK, run_batches
    bodies: dict[int, list] = {}
    result = PieceResult(piece.index, 0)
    for n, ports, outs, drops in run_batches(engine, piece.batch.split(CHUNK), piece.clock):
        result.packets += n
        for port, body in ports.items():
            bodies.setdefault(port, []).append(body)
        _add(result.out, outs)
        _add(result.drops, drops)
    # numpy arrays as they are (Dask sends them without a copy into bytes first).
    result.outputs = {p: np.ascontiguousarray(parts[0]) if len(parts) == 1 else np.concatenate(parts)
                      for p, parts in bodies.items()}
    return result


def _add(total: dict, more: dict) -> None:
    for k, v in more.items():
        total[k] = total.get(k, 0) + v


__all__ = ["PieceResult", "ProgramBundle", "program_bundle", "replay_piece"]
