"""One point of a sweep: a picklable task, run in a worker (or in this process), giving a picklable result.

    tasks = make_tasks(sweep)              # one per point, in grid order, each with its cache key
    result = run_point(tasks[3])           # what `dataplane run TOPO --set P=V ... --until T` runs, as metrics

A point runs exactly what `dataplane run` runs (net/commands.py simulate()). A user error of the point (an
impossible value, a topology the settings make invalid) becomes the row's error text and the sweep goes on;
any other exception is a bug in dataplane and propagates.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, replace

from .. import __version__
from ..diagnostics import DiagnosticError
from .spec import Sweep


@dataclass(frozen=True)
class TopologySource:
    """Where a point's topology comes from: a file, or a generator and its fixed arguments."""
    path: str | None
    generate: tuple | None                 # (kind, ((arg, value), ...)) with the grid's own arguments left out
    location: str | None                   # where the sweep file says `generate:`, for the generator's errors


@dataclass(frozen=True)
class PointTask:
    index: int                             # the point's place in grid order, from 0
    parameters: tuple[str, ...]            # grid paths
    values: tuple[str, ...]                # each as YAML text (--set VALUE)
    locations: tuple[str, ...]             # where each value is written in the sweep file
    topology: TopologySource
    metrics: tuple[str, ...]
    until_ns: int | None
    key: str                               # sha256 of all of the above but the index, with the input files


@dataclass(frozen=True)
class PointResult:
    index: int
    key: str
    values: tuple                          # the metrics, in order; None for a value not known
    error: str | None                      # the point's user error, one line (then every value is None)


def generate_text(spec: dict, overrides: dict) -> str:
    """The YAML of a generated topology: `spec` is the sweep's generate mapping, `overrides` the grid's
    generate.ARG values. Raises ValueError for impossible arguments (the generator's own messages)."""
    from ..net import generate
    kind = spec["kind"]
    args = {k: v for k, v in spec.items() if k != "kind"}
    args.update(overrides)
    return (generate.routers if kind == "routers" else generate.fat_tree)(**args)


def _settings(task: PointTask):
    """The (path, value text, location) of each --set setting of the task, and the generator's arguments."""
    import yaml
    settings, generated = [], {}
    for path, text, where in zip(task.parameters, task.values, task.locations):
        if path.startswith("generate."):
            generated[path[len("generate."):]] = yaml.safe_load(text)
        else:
            settings.append((path, text, where))
    return settings, generated


def point_topology(task: PointTask, settings: list, here=None):
    """The topology of a point with its settings applied: from the files that travelled with the sweep
    (`here`, sweep/bundle.py materialized on this worker) when it names a topology file, else generated."""
    from ..net.topology import load_topology, load_topology_text
    source = task.topology
    if source.path is not None:
        if here is None:
            return load_topology(source.path, settings=settings)
        return load_topology(here.topology, program=here.program, settings=settings)
    _, generated = _settings(task)
    spec = {"kind": source.generate[0], **dict(source.generate[1])}
    try:
        text = generate_text(spec, generated)
    except ValueError as exc:
        raise _PointError(f"{source.location}: error: generate: {exc}") from None
    return load_topology_text(text, f"generated {source.generate[0]}", settings=settings)


class _PointError(Exception):
    """A point's user error, already as its row text."""


def run_point(task: PointTask, files=None) -> PointResult:
    """Run one point (in a Dask worker or here) and compute its metrics. `files` are the sweep's files
    (sweep_files()), written on this worker once; paths in the row's error read as on the client."""
    if files is None:
        return _run_point(task, None)
    from .bundle import materialized
    with materialized(files) as here:
        result = _run_point(task, here)
    if result.error is None:
        return result
    return replace(result, error=here.client_paths(result.error))


def _run_point(task: PointTask, here) -> PointResult:
    from ..net.commands import simulate
    from ..net.rundata import Recorder, collect
    from ..net.setpath import SetError, parse_setting
    from .metrics import compute
    located, _ = _settings(task)
    texts = [f"{path}={text}" for path, text, _ in located]
    settings = []
    try:
        settings = [parse_setting(t) for t in texts]
        topo = point_topology(task, settings, here)
        recorders = []
        net, apps, _ = simulate(topo, task.until_ns, prepare=lambda n, a: recorders.append(Recorder(n, a)))
        data = collect(net, apps, recorders[0], settings=texts)
    except DiagnosticError as exc:
        return _failed(task, _first_line(exc, settings, located))
    except SetError as exc:
        return _failed(task, _set_error(exc, located))
    except _PointError as exc:
        return _failed(task, str(exc))
    return PointResult(task.index, task.key, compute(data, task.metrics), None)


def _failed(task: PointTask, text: str) -> PointResult:
    return PointResult(task.index, task.key, (None,) * len(task.metrics), text)


def _first_line(exc: DiagnosticError, settings: list, located: list) -> str:
    """`file:line:col: error: message` of the first diagnostic; an error about a value a setting put in the
    topology points at that value in the sweep file."""
    d = exc.diagnostics[0]
    where = None
    if d.span is not None and d.span.source is not None:
        where = str(d.span)
        for setting, (_, _, location) in zip(settings, located):
            if d.span.source is setting.source:
                where = location
    message = d.message.splitlines()[0] if d.message else ""
    return f"{where}: {d.severity}: {message}" if where else f"{d.severity}: {message}"


def _set_error(exc: Exception, located: list) -> str:
    """A setting that names nothing in this point's topology (a generated one of another size), located at
    its value in the sweep file."""
    text = str(exc)
    for path, value, where in located:
        prefix = f"--set {path}={value}: "
        if text.startswith(prefix):
            return f"{where}: error: grid path '{path}': {text[len(prefix):]}"
    return f"{located[0][2]}: error: {text}"


# ---------------------------------------------------------------------------- tasks and keys


def input_files(sweep: Sweep) -> dict[str, str]:
    """{path: text} of every file the programs of a generated topology read (with the grid's first
    arguments), includes too: what its points' cache keys cover. They are shipped programs, which every
    worker has, so nothing travels; compiling them reads them (a whole network would cost more)."""
    from ..build import build
    from ..frontend.preprocess import recording_reads
    from ..net.topology import load_topology_text
    arguments = {p.generator_arg: p.values[0] for p in sweep.parameters if p.generator_arg is not None}
    with recording_reads() as seen:
        try:
            topo = load_topology_text(generate_text(sweep.generate, arguments))
            for spec in topo.nodes.values():
                if spec.program is not None:
                    build(spec.program, spec.options.get("include"), spec.options.get("defines"))
        except (DiagnosticError, ValueError):
            pass            # the points report it; the key still covers what was read
    return dict(seen)


def topology_source(sweep: Sweep) -> TopologySource:
    if sweep.topology is not None:
        return TopologySource(sweep.topology, None, None)
    grid_args = {p.generator_arg for p in sweep.parameters}
    fixed = tuple((k, v) for k, v in sweep.generate.items() if k != "kind" and k not in grid_args)
    return TopologySource(None, (sweep.generate["kind"], fixed), sweep.generate_location)


def sweep_files(sweep: Sweep):
    """The files the points of a sweep over a topology file read (the file, its programs with their
    includes, entries, CDF files; sweep/bundle.py), to travel with the tasks so that workers need no shared
    file system; None for a generated topology (it names shipped programs, which every worker has)."""
    if sweep.topology is None:
        return None
    from .bundle import collect
    return collect(sweep.topology, ([f"{p.path}={p.texts[i]}" for p, i in zip(sweep.parameters, point)
                                     if p.generator_arg is None] for point in sweep.points()))


def make_tasks(sweep: Sweep, files: dict[str, str] | None = None, bundle=None) -> list[PointTask]:
    """One task per point in grid order. Each key covers the files the points read: for a topology file,
    the digest of those that travel with them (`bundle`: sweep_files(), which also covers the shipped files
    they read); for a generated topology, the texts its programs read (`files`: input_files())."""
    source = topology_source(sweep)
    if source.path is not None:
        bundle = sweep_files(sweep) if bundle is None else bundle
        files = {}
    elif files is None:
        files = input_files(sweep)
    common = {
        "bundle": None if bundle is None else bundle.digest,
        "dataplane": __version__,
        "topology": source.path, "generate": source.generate,
        "files": {path: hashlib.sha256(text.encode()).hexdigest() for path, text in sorted(files.items())},
        "metrics": list(sweep.metrics), "until_ns": sweep.until_ns,
        "parameters": [p.path for p in sweep.parameters],
    }
    tasks = []
    for index, point in enumerate(sweep.points()):
        values = tuple(p.texts[i] for p, i in zip(sweep.parameters, point))
        key = hashlib.sha256(json.dumps({**common, "values": values}, sort_keys=True).encode()).hexdigest()
        tasks.append(PointTask(index, tuple(p.path for p in sweep.parameters), values,
                               tuple(p.locations[i] for p, i in zip(sweep.parameters, point)), source,
                               tuple(sweep.metrics), sweep.until_ns, key))
    return tasks
