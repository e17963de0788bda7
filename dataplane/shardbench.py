"""`dataplane bench --which shards`: a capture replayed in one process and with `--shards 2`, side by side.

programs/basic_ipv4.p4 with bench.setup_lpm's 1,000 routes (given to the workers as an entries file, as a
user would) over a pcap of random packets of one length: the replay alone (the program built and its
entries loaded beforehand, as the summary line's rate counts it) in one process, then on an embedded
cluster of 2 workers, for each engine; wall time, since the point is parallelism. The sharded runs are
measured warm (the workers have built the program once, as a cluster serving several replays has); the
cold run's extra time (a build on every worker) and the cluster's start are printed beside them.
"""

from __future__ import annotations

import filecmp
import os
import random
import tempfile
import time

from .bench import _packet, _program_path, setup_lpm


def entries_yaml(device) -> str:
    """The ipv4_lpm entries of a device as an entries file (dataplane's YAML form)."""
    lines = ["tables:", "  MyIngress.ipv4_lpm:", "    entries:"]
    for entry in device.tables["MyIngress.ipv4_lpm"].entries.values():
        m = entry.match[0]
        addr = ".".join(str((m.value >> s) & 0xFF) for s in (24, 16, 8, 0))
        mac, port = entry.args
        lines.append(f"      - {{match: {{hdr.ipv4.dstAddr: {addr}/{m.prefix_len}}}, action: ipv4_forward, "
                     f"params: {{dstAddr: {mac:#x}, port: {port}}}}}")
    return "\n".join(lines) + "\n"


def bench_shards(n_packets: int = 1_000_000, workers: int = 2) -> list[str]:
    from .batch.engine import BatchEngine
    from .batch.replay import replay_batch
    from .build import build
    from .cluster import default_workers, open_client
    from .controlplane.loader import load_file
    from .pcap import PcapReader, PcapWriter
    from .replay import Source, replay
    from .runtime.device import Device
    from .shards import input_pieces, piece_limit, program_bundle, replay_sharded
    program = _program_path("basic_ipv4.p4")
    routes_dev, routes = setup_lpm()
    rng = random.Random(7)
    lines = []
    with tempfile.TemporaryDirectory() as tmp:
        pcap, entries = os.path.join(tmp, "in.pcap"), os.path.join(tmp, "routes.yaml")
        with open(entries, "w") as f:
            f.write(entries_yaml(routes_dev))
        with PcapWriter(pcap) as w:
            for i in range(n_packets):
                w.write(_packet(rng, rng.getrandbits(32)), 1_000_000_000 + i * 1000)
        device = Device(build(program), name="basic_ipv4.p4")
        load_file(device, entries)

        def one_process(engine: str, out: str) -> float:
            cpu[engine] = time.process_time()
            start = time.perf_counter()
            with PcapReader(pcap) as reader:
                if engine == "batch":
                    replay_batch(BatchEngine(device), [(1, pcap, None)], None, out)
                else:
                    replay(device, [Source(1, reader)], out)
            cpu[engine] = time.process_time() - cpu[engine]
            return time.perf_counter() - start

        def sharded(client, engine: str, out: str) -> float:
            bundle = program_bundle(program, [], {}, entries, engine)
            start, client_cpu = time.perf_counter(), time.process_time()
            with PcapReader(pcap) as reader:
                sources = [Source(1, reader)]
                run = replay_sharded(client, bundle, input_pieces(sources, piece_limit(sources, workers)), out,
                                     2 * workers, direct=True)
            spent[engine] = (time.process_time() - client_cpu, run.worker_seconds, run.pieces)
            return time.perf_counter() - start

        cpu: dict = {}
        spent: dict = {}
        started = time.perf_counter()
        with open_client(workers=workers) as client:
            start_s = time.perf_counter() - started
            for engine in ("scalar", "batch"):
                one = one_process(engine, os.path.join(tmp, f"one-{engine}"))
                cold = sharded(client, engine, os.path.join(tmp, f"cold-{engine}"))
                warm = sharded(client, engine, os.path.join(tmp, f"warm-{engine}"))
                same = _same_files(os.path.join(tmp, f"one-{engine}"), os.path.join(tmp, f"warm-{engine}"))
                lines.append(f"shards: basic_ipv4.p4, {routes} routes, {n_packets:,} packets, {engine} engine, "
                             f"{default_workers()} CPUs: one process {one:.2f} s, --shards {workers} {warm:.2f} s "
                             f"= {one / warm:.2f}x (wall time; the first run on fresh workers {cold:.2f} s, "
                             f"building the program on each); same bytes: {'yes' if same else 'NO'}")
                client_cpu, worker_cpu, pieces = spent[engine]
                lines.append(f"shards: {engine} engine, processor time: one process {cpu[engine]:.2f} s; "
                             f"--shards {workers}: {pieces} pieces, the workers {worker_cpu:.2f} s in all, the "
                             f"client (reading, sending, writing; the scheduler) {client_cpu:.2f} s")
        lines.append(f"shards: the embedded cluster of {workers} workers starts in {start_s:.1f} s")
    return lines


def _same_files(a: str, b: str) -> bool:
    names = sorted(os.listdir(a))
    return names == sorted(os.listdir(b)) and all(
        filecmp.cmp(os.path.join(a, n), os.path.join(b, n), shallow=False) for n in names)
