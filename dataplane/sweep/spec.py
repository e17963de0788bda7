"""A sweep file, read and checked: the topology (a file, a shipped name, or generated), the grid of settings,
the metrics, the time limit.

    topology: lossy-link            # a shipped name, or a path relative to this file
    grid:                           # every combination is one point, the first key outermost
      defaults.link.loss: [0, 0.01, 0.05]
      links.r1-r2.mtu: [1280, 1500]
    metrics: [tcp.throughput, tcp.retransmissions]     # optional: default the run summary's figures
    until: 30s                      # optional: simulated time limit of each point, as `run --until`

or, instead of `topology:`, `generate: {kind: routers, n: 50, seed: 1}` (the arguments of
`dataplane generate`), with `generate.ARG` paths in the grid (`generate.n: [10, 50, 100]`).

Grid paths are `--set` paths (net/setpath.py); each is checked against the topology document before anything
runs, so a typo costs nothing. Every mistake is a located error in the sweep file.
"""

from __future__ import annotations

import copy
import difflib
import itertools
import math
import os
from dataclasses import dataclass, field

import yaml

from ..controlplane.positions import DocumentChecker, Positions, load_json, load_yaml
from ..diagnostics import DiagnosticError, SourceFile, error
from ..frontend.preprocess import read_source
from . import metrics as metric_table

KEYS = {"topology", "generate", "grid", "metrics", "until"}

# A sweep larger than this is refused before it starts: it is a typo or a job for several sweeps.
MAX_POINTS = 100_000

# The generators of `generate:` (net/generate.py) and the type of each of their arguments.
GENERATORS = {
    "routers": {"n": int, "seed": int, "hosts": int, "traffic": str, "family": str},
    "fat-tree": {"k": int, "traffic": str, "family": str},
}
GENERATE_PREFIX = "generate."


@dataclass(frozen=True)
class Parameter:
    """One key of the grid: a --set path (or generate.ARG) and its values."""
    path: str
    values: tuple                # as read from the sweep file
    texts: tuple[str, ...]       # each value as YAML text: the VALUE of `--set PATH=VALUE`, and the table's cell
    locations: tuple[str, ...]   # where each value is written, file:line:col

    @property
    def generator_arg(self) -> str | None:
        return self.path[len(GENERATE_PREFIX):] if self.path.startswith(GENERATE_PREFIX) else None


@dataclass
class Sweep:
    path: str                              # the sweep file
    topology: str | None                   # the topology file (None when generated)
    generate: dict | None                  # {kind, arguments...} when generated
    generate_location: str | None          # where `generate:` is written
    parameters: list[Parameter]
    metrics: tuple[str, ...]
    until_ns: int | None
    source: SourceFile = field(repr=False, default=None)

    @property
    def size(self) -> int:
        return math.prod(len(p.values) for p in self.parameters)

    def points(self):
        """Each point as a tuple of value indices, one per parameter, in grid order (first key outermost)."""
        return itertools.product(*(range(len(p.values)) for p in self.parameters))


def value_text(value) -> str:
    """A value as one line of YAML, the way `--set PATH=VALUE` takes it (None is the empty text)."""
    if value is None:
        return ""
    text = yaml.safe_dump(value, default_flow_style=True, width=math.inf, allow_unicode=True)
    if text.endswith("\n...\n"):        # a plain scalar document ends with an explicit end marker
        text = text[:-5]
    return text.strip()


def find_sweep(name: str) -> str | None:
    """A sweep file given as a path, or by the name of one we ship (topologies/sweeps/)."""
    from ..locate import find_sweep as find
    return find(name)


def load_sweep(path: str) -> Sweep:
    """Read and check a sweep file (a path, or the name of a shipped sweep)."""
    found = find_sweep(path)
    if found is None:
        from ..locate import shipped_sweeps
        raise error(f"no sweep '{path}': not a file, nor one we ship ({', '.join(shipped_sweeps()) or 'none'})")
    source = read_source(found, kind="sweep files")
    doc, pos = load_yaml(source)
    return _SweepLoader(source, doc, pos).load()


def load_sweep_text(text: str, path: str = "sweep.yaml") -> Sweep:
    """A sweep from text; relative topology paths are relative to `path`'s directory."""
    source = SourceFile(path, text)
    doc, pos = load_yaml(source)
    return _SweepLoader(source, doc, pos).load()


class _SweepLoader(DocumentChecker):
    def __init__(self, source: SourceFile, doc, pos: Positions):
        super().__init__(pos)
        self.source, self.doc = source, doc

    def where(self, path: tuple) -> str:
        return str(self.pos.span(path))

    def load(self) -> Sweep:
        doc = self.expect(self.doc, dict, (), "a sweep file")
        self.check_keys(doc, KEYS, (), "a sweep file")
        if ("topology" in doc) == ("generate" in doc):
            both = "generate" in doc
            raise self.fail("a sweep names its topology (topology: NAME or PATH) or generates one "
                            "(generate: {kind: routers, n: 50}): exactly one of the two",
                            ("generate",) if both else (), key=both)
        topology = self.topology(doc["topology"]) if "topology" in doc else None
        generate = self.generate(doc["generate"]) if "generate" in doc else None
        if "grid" not in doc:
            raise self.fail("a sweep needs a grid: the settings to vary, each with a list of values", ())
        parameters = self.grid(doc["grid"], generate)
        size = math.prod(len(p.values) for p in parameters)
        if size > MAX_POINTS:
            raise self.fail(f"the grid has {size:,} points, more than the limit of {MAX_POINTS:,}; "
                            f"split it into several sweeps", ("grid",), key=True)
        sweep = Sweep(self.source.path, topology, generate,
                      self.where(("generate",)) if generate is not None else None, parameters,
                      self.metrics(doc.get("metrics")), self.until(doc.get("until")), self.source)
        self.check_paths(sweep)
        return sweep

    def topology(self, value) -> str:
        from ..locate import find_topology, shipped_topologies
        name = self.expect(value, str, ("topology",), "topology")
        beside = os.path.join(os.path.dirname(os.path.abspath(self.source.path)), name)
        if os.path.isfile(beside):
            return beside
        found = find_topology(name) if not os.path.isabs(name) else None
        if found is None or not os.path.isfile(found):
            raise self.fail(f"no topology '{name}': not a file beside the sweep file, nor one we ship "
                            f"({', '.join(shipped_topologies())})", ("topology",))
        return os.path.abspath(found)

    def generate(self, value) -> dict:
        spec = self.expect(value, dict, ("generate",), "generate")
        if "kind" not in spec:
            raise self.fail(f"generate needs a kind: {' or '.join(GENERATORS)}", ("generate",))
        kind = spec["kind"]
        if kind not in GENERATORS:
            raise self.fail(f"generate: the kind is {' or '.join(GENERATORS)}, not '{kind}'", ("generate", "kind"))
        args = GENERATORS[kind]
        self.check_keys(spec, {"kind", *args}, ("generate",), f"generate ({kind})")
        for arg, v in spec.items():
            if arg != "kind":
                self.argument(v, args[arg], ("generate", arg), f"generate: {arg}")
        return dict(spec)

    def argument(self, value, kind: type, path: tuple, what: str) -> None:
        if isinstance(value, bool) or not isinstance(value, kind):
            raise self.fail(f"{what} must be {'an integer' if kind is int else 'a string'}", path)

    def grid(self, value, generate: dict | None) -> list[Parameter]:
        grid = self.expect(value, dict, ("grid",), "grid")
        if not grid:
            raise self.fail("the grid is empty: give at least one setting with its values, e.g. "
                            "{seed: [1, 2, 3]}", ("grid",))
        out = []
        for key, values in grid.items():
            path = ("grid", key)
            if not isinstance(key, str):
                raise self.fail("a grid key is a setting's path, such as defaults.link.loss", path, key=True)
            if not isinstance(values, list):
                raise self.fail(f"the values of '{key}' must be a list, e.g. [{value_text(values)}]", path)
            if not values:
                raise self.fail(f"'{key}' has no values: give at least one", path)
            arg = key[len(GENERATE_PREFIX):] if key.startswith(GENERATE_PREFIX) else None
            if arg is not None:
                self.grid_argument(key, arg, values, generate)
            for i, v in enumerate(values):
                if isinstance(v, (dict, list)) and arg is None:
                    continue            # a mapping or a list is a valid setting (a list of include dirs)
                if isinstance(v, float) and not math.isfinite(v):
                    raise self.fail("a value must be a finite number", path + (i,))
            out.append(Parameter(key, tuple(values), tuple(value_text(v) for v in values),
                                 tuple(self.where(path + (i,)) for i in range(len(values)))))
        return out

    def grid_argument(self, key: str, arg: str, values: list, generate: dict | None) -> None:
        path = ("grid", key)
        if generate is None:
            raise self.fail(f"'{key}' sets an argument of a generated topology; this sweep names its topology "
                            f"(use generate: instead of topology:)", path, key=True)
        args = GENERATORS[generate["kind"]]
        if arg not in args:
            near = difflib.get_close_matches(arg, sorted(args), n=1)
            raise self.fail(f"generate ({generate['kind']}) has no argument '{arg}'", path,
                            f"did you mean '{GENERATE_PREFIX}{near[0]}'?" if near else
                            f"its arguments: {', '.join(sorted(args))}", key=True)
        for i, v in enumerate(values):
            self.argument(v, args[arg], path + (i,), key)

    def metrics(self, value) -> tuple[str, ...]:
        if value is None:
            return metric_table.DEFAULT
        items = self.expect(value, list, ("metrics",), "metrics")
        if not items:
            raise self.fail("metrics is empty: leave it out for the run summary's figures, or name some "
                            "(dataplane sweep --list-metrics)", ("metrics",))
        for i, name in enumerate(items):
            name = self.expect(name, str, ("metrics", i), "a metric")
            if name not in metric_table.METRICS:
                near = difflib.get_close_matches(name, list(metric_table.METRICS), n=1)
                raise self.fail(f"unknown metric '{name}'", ("metrics", i),
                                f"did you mean '{near[0]}'?" if near else
                                "dataplane sweep --list-metrics lists them")
            if items.index(name) != i:
                raise self.fail(f"metric '{name}' is named twice", ("metrics", i))
        return tuple(items)

    def until(self, value) -> int | None:
        if value is None:
            return None
        from ..net.topology import parse_time
        try:
            ns = parse_time(value)
        except ValueError as exc:
            raise self.fail(f"until: {exc}", ("until",)) from None
        if ns <= 0:
            raise self.fail("until must be longer than 0", ("until",))
        return ns

    def check_paths(self, sweep: Sweep) -> None:
        """Each grid path must name something in the topology document (with its first value), before
        anything runs; a bad value is only found when its point runs, and becomes that row's error."""
        settings = [p for p in sweep.parameters if p.generator_arg is None]
        if not settings:
            return
        doc = self.base_document(sweep)
        from ..net.setpath import SetError, apply_settings, parse_setting
        for p in settings:
            text = f"{p.path}={p.texts[0]}"
            try:
                apply_settings(copy.deepcopy(doc), None, [parse_setting(text)])
            except SetError as exc:
                message = str(exc)
                prefix = f"--set {text}: "
                if message.startswith(prefix):
                    message = message[len(prefix):]
                raise self.fail(f"grid path '{p.path}': {message}", ("grid", p.path), key=True) from None
            except DiagnosticError:
                raise self.fail(f"grid path '{p.path}' is not a setting's path", ("grid", p.path),
                                key=True) from None

    def base_document(self, sweep: Sweep):
        """The topology document before any setting: the file's, or the one generated with each argument's
        first value."""
        if sweep.topology is not None:
            source = read_source(sweep.topology, kind="topology files")
            return (load_json if sweep.topology.endswith(".json") else load_yaml)(source)[0]
        from .point import generate_text
        args = {p.generator_arg: p.values[0] for p in sweep.parameters if p.generator_arg is not None}
        try:
            text = generate_text(sweep.generate, args)
        except ValueError as exc:
            raise self.fail(f"generate: {exc}", ("generate",)) from None
        return yaml.safe_load(text)
