"""The files a sweep's points need, shipped with their tasks so that workers need no shared file system.

    files = collect("exp/net.yaml", [["seed=1"], ["seed=2", "nodes.s1.program=v2.p4"]])   # on the client
    ...
    with materialized(files) as here:                                                     # on a worker
        topo = load_topology(here.topology, settings=point_settings)
        ...
        row = here.client_paths(text)         # worker paths back into the client's

What travels (`Files.entries`, each file's text as read_source read it): the
topology file (YAML, or a P4 tutorials topology.json); each node's P4 program
with every file its #includes bring in, from its own directory or from its
`include:` directories; its `entries:` file (YAML or runtime JSON, a
tutorial's sX-runtime.json); the CDF files of traffic patterns
(net/patterns.py); the programs `send:` items build frames from; a traffic
file (`run --traffic`) and topology.json's --program. The `include:`
directories themselves travel too, even empty (the loader checks that they
exist). For a topology.json, also what the loader only looks at: the .p4
files of the exercise directory (with one of them, it is the switches'
program) and a program's solution/ twin (it decides a note). These are all
the files dataplane/net reads for a run (topology.py, tutorial.py,
patterns.py and distributions.find_cdf, network.py building devices through
build() and controlplane/loader.py, craft.py for `send:`); each goes through
read_source, whose reads recording_reads() collects, or is an existence
check listed here.

What does not travel: anything inside the dataplane package (shipped
topologies, programs, the p4include architecture files, shipped workloads).
Workers run the same dataplane version (cluster.py checks it) and find them
in their own installation, so a shipped topology or program keeps being
named by its name; a shipped topology alone makes an empty bundle.

How collect finds them, fast for hundreds of points: it loads the topology
once per distinct list of the settings that may name files (a setting of
numbers, or of a link, cannot: points that differ only in seeds, losses and
MTUs share one load), preprocesses each distinct (program, include
directories, defines) once, without compiling, and reads the entries files.
A load that fails is not the end: the document (with the settings) is
scanned for every file it names, so that on a worker the loader meets the
same files and the point fails with the same message.

On the worker, the files are written once per process under
tempfile.gettempdir()/dataplane-sweep-DIGEST/, at the client's own absolute
paths below that directory (/home/u/exp/net.yaml becomes
.../dataplane-sweep-DIGEST/home/u/exp/net.yaml): relative paths between the
files stay as on the client (`program: ../p4/router.p4` works), and so do
names made of a path's last parts (a tutorial topology's name,
basic/pod-topo/topology.json). The processes of one machine share the
directory: each writes a private one and renames it into place, and the
loser of that race uses the winner's; a directory of that name that is not
this user's, or lacks a file of the bundle, is left alone (the process
writes a private copy). Bundles stay there for
later points and sweeps (they are small; the system's temporary-file
cleaner removes them). `client_paths` turns the worker's paths in a text (an
error message, a result) back into the client's: the topology (program,
traffic file) as the client named it, other bundled files by the client's
absolute paths, shipped files by the client's installation's.

What cannot be relocated: an absolute path written in a topology file or a
setting (`program: /home/u/p4/router.p4`), and a path relative to the
client's working directory rather than to the topology file (find_program
tries the working directory last). The worker opens them as they are
written: on a worker that shares the file system (the embedded cluster, a
cluster on NFS) they are found there; elsewhere the point fails with the
loader's own message ("cannot find program '/home/u/p4/router.p4'"). Write
paths relative to the topology file for a sweep that runs anywhere. Paths
that the client shows relative to its working directory (a tutorial
switch's program in the notes) are shown absolute.

Errors met while collecting (a missing program, a bad setting) are not
raised: the point that has them reports them itself when it runs, with the
same message; collect only leaves out what it cannot read.
"""

from __future__ import annotations

import contextlib
import functools
import glob
import hashlib
import json
import os
import re
import shutil
import stat
import tempfile
import threading
from dataclasses import dataclass
from importlib import resources
from typing import Iterable, Iterator

from ..diagnostics import DiagnosticError
from ..frontend.preprocess import Preprocessor, read_source, recording_reads
from ..net.setpath import SetError, parse_setting

# The worker's directory for a bundle: tempfile.gettempdir()/PREFIX + digest.
PREFIX = "dataplane-sweep-"
# Bumped when the layout of a bundle changes, so that a digest never names two layouts.
LAYOUT = "dataplane bundle 1"

# Keys of a topology document whose values name files, or (defines) change which files a program's #if's
# include: a setting through one of them can change what a point reads.
FILE_KEYS = frozenset({"program", "entries", "include", "defines", "cdf", "runtime_json"})
# Top-level sections whose settings never name a file, even as text: links (MTUs, latencies such as 5ms,
# bandwidths, a tutorial link's items), link defaults, the seed, the run's length and name.
PLAIN_SECTIONS = frozenset({"links", "defaults", "seed", "duration", "max_frames", "name", "description"})


@dataclass(frozen=True)
class Files:
    """The files of a sweep's points, as the client read them; picklable, to travel with the tasks.

    `topology`, `program` and `traffic` are paths relative to `root` when their file travels (it is one
    of `entries`), else as the client named them (a shipped name; a file that could not be read, whose
    point will say so). `shown` is how the client named them, for messages. `digest` (sha256 over every
    field: names and contents) goes into a point's cache key: it changes with any file's content, not
    with a point's numbers."""

    root: str                                  # absolute: the common directory of every file
    entries: tuple[tuple[str, str], ...]       # (path relative to root, text), sorted
    topology: str
    digest: str
    program: str | None = None                 # a topology.json's --program
    traffic: str | None = None                 # a traffic file (run --traffic)
    directories: tuple[str, ...] = ()          # directories that must exist (include:), relative to root
    shown: tuple[str | None, str | None, str | None] = (None, None, None)    # topology, program, traffic
    package: str = ""                          # the client's dataplane package directory
    shipped: str = ""                          # sha256 of the shipped files read (programs, includes), by name

    def bundled(self, name: str | None) -> bool:
        """Whether `name` (topology, program or traffic) is a file of the bundle."""
        return name is not None and any(path == name for path, _ in self.entries)


@dataclass(frozen=True)
class Materialized:
    """A bundle on this worker: what to load, and how to turn this worker's paths back into the client's."""

    topology: str                 # the path (or shipped name) to give load_topology here
    program: str | None
    traffic: str | None
    directory: str | None         # where the files are on this worker (None: an empty bundle)
    _replacements: tuple[tuple[str, str], ...] = ()

    def client_paths(self, text: str) -> str:
        """`text` with this worker's paths written as the client's: an error message or a result reads
        as it would have on the client."""
        if not self._replacements or not text:
            return text
        table = dict(self._replacements)
        return _pattern(self._replacements).sub(lambda m: table[m.group(0)], text)


@functools.lru_cache(maxsize=64)
def _pattern(replacements: tuple[tuple[str, str], ...]) -> re.Pattern:
    """One pass over a text, longest path first, so that a replaced path is never replaced again. A path
    ends where no path character follows; a directory (ending in '/') is a prefix."""
    olds = sorted({old for old, _ in replacements}, key=len, reverse=True)
    return re.compile("|".join(re.escape(old) if old.endswith(os.sep) else re.escape(old) + r"(?![\w.\-/])"
                               for old in olds))


# ---------------------------------------------------------------------------- on the client


def collect(topology: str, settings_per_point: Iterable[Iterable[str]], program: str | None = None,
            traffic: str | None = None) -> Files:
    """The files that loading `topology` (a path or a shipped name, as load_topology takes it) and building
    its network read, for every point: `settings_per_point` gives each point's --set PATH=VALUE texts;
    `program` is a topology.json's --program, `traffic` a traffic file, for every point. Reads the
    topology once per distinct set of settings that may change what is read (settings of numbers, and
    of link values, do not), and preprocesses each distinct program once: it does not compile."""
    with recording_reads() as seen:
        reads = _Reads()
        for settings in _distinct(settings_per_point):
            reads.load(topology, program, traffic, list(settings))
        reads.read_the_rest()
    return _bundle(seen, reads.directories, topology, program, traffic)


def _distinct(settings_per_point: Iterable[Iterable[str]]) -> list[tuple[str, ...]]:
    """The distinct lists of the points' settings that may change which files are read, in order of
    first appearance. The others (numbers, link values) cannot name a file: without them a load reads
    every file a point reads (a point they break reads fewer, and reports its error itself)."""
    return list(dict.fromkeys(tuple(text for text in settings if _may_change_reads(text))
                              for settings in settings_per_point))


@functools.lru_cache(maxsize=4096)
def _may_change_reads(text: str) -> bool:
    """Whether a --set text may change which files a point reads: one that names a file key, holds text
    outside the plain sections, or cannot even be read (its point fails on it; keeping it costs a load)."""
    try:
        setting = parse_setting(text)
    except (SetError, DiagnosticError):
        return True
    if FILE_KEYS.intersection(setting.steps) or _mentions(setting.value, FILE_KEYS):
        return True
    return setting.steps[0] not in PLAIN_SECTIONS and _has_text(setting.value)


def _mentions(value, keys: frozenset) -> bool:
    if isinstance(value, dict):
        return any(k in keys or _mentions(v, keys) for k, v in value.items())
    if isinstance(value, list):
        return any(_mentions(v, keys) for v in value)
    return False


def _has_text(value) -> bool:
    if isinstance(value, dict):
        return any(_has_text(k) or _has_text(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_text(v) for v in value)
    return isinstance(value, (str, bytes))


class _Reads:
    """What the loaded topologies name: programs to preprocess, other files to read, include directories."""

    def __init__(self):
        self.programs: set[tuple[str, tuple[str, ...], tuple[tuple[str, str], ...]]] = set()
        self.files: set[str] = set()              # read as they are (entries, a tutorial's .p4 files)
        self.directories: set[str] = set()

    def load(self, topology: str, program: str | None, traffic: str | None, settings: list[str]) -> None:
        """Load the topology with these settings and note what it names; on a user error, what the loader
        may have looked at before it stopped (see scan)."""
        from ..net.topology import load_topology, load_traffic
        try:
            topo = load_topology(topology, program=program, settings=settings)
        except (DiagnosticError, SetError):
            self.scan(topology, program, settings)
            return
        self.note(topo)
        if traffic is not None:
            try:
                topo.traffic = load_traffic(traffic, topo)
            except DiagnosticError:
                self.scan_traffic(traffic)
                return
            self.note_traffic(topo.traffic)

    def note(self, topo) -> None:
        for node in topo.nodes.values():
            if node.program is None:
                continue
            include = tuple(node.options.get("include", ()))
            self.programs.add((node.program, include, tuple(sorted(node.options.get("defines", {}).items()))))
            self.directories.update(os.path.abspath(d) for d in include)
            if isinstance(node.entries, str) and node.entries != "auto":
                self.files.add(node.entries)
        self.note_traffic(topo.traffic)
        if topo.path.endswith(".json"):
            self.note_exercise(topo.path)
            for node in topo.nodes.values():
                # Whether the program has a solution/ twin decides the note that it is a skeleton.
                if node.program is not None:
                    self.file(os.path.join(os.path.dirname(node.program), "solution",
                                           os.path.basename(node.program)))

    def note_traffic(self, traffic) -> None:
        for item in traffic:
            if item.kind == "send" and "program" in item.params:
                self.programs.add((item.params["program"], (), ()))

    def note_exercise(self, path: str, as_programs: bool = False) -> None:
        """The .p4 files the tutorial loader looks for without reading them: in the topology's directory and
        the exercise directory above it (the only one there is the switches' program) and their solution/
        directories (the source of a runtime JSON's bmv2_json)."""
        here = os.path.dirname(os.path.abspath(path))
        for d in (here, os.path.dirname(here)):
            for pattern in ("*.p4", os.path.join("solution", "*.p4")):
                for found in glob.glob(os.path.join(d, pattern)):
                    if as_programs:
                        self.program(found)
                    else:
                        self.file(found)

    def file(self, path: str | None) -> None:
        if path is not None and os.path.isfile(path):
            self.files.add(path)

    def program(self, path: str | None, include: tuple[str, ...] = (), defines: tuple = ()) -> None:
        if path is not None and os.path.isfile(path):
            self.programs.add((path, include, defines))

    # A load that fails stops at its first error, having checked that some files exist: on a worker the
    # same checks must find the same files, or the point would fail there with another message. The loader
    # gives back nothing on failure, so the document is read again here, with the settings, and every file
    # it names is noted, found as the loader finds it, programs with their #includes (more than the loader
    # looked at costs nothing). This also covers the points of the group whose other settings (numbers)
    # mend what fails here: they name no files.

    def scan(self, topology: str, program: str | None, settings: list[str]) -> None:
        from ..controlplane.positions import load_json, load_yaml
        from ..locate import find_program, find_topology
        from ..net.setpath import apply_settings
        if program is not None:
            self.program(find_program(program))
        path = find_topology(topology)
        if path is None:
            return
        tutorial = path.endswith(".json")
        try:
            source = read_source(path, kind="topology files")
            doc, pos = (load_json if tutorial else load_yaml)(source)
            doc = apply_settings(doc, pos, settings)
        except (DiagnosticError, SetError):
            return                                  # it fails before it looks for any other file
        if not isinstance(doc, dict):
            return
        if tutorial:
            self.scan_exercise(path, doc)
            return
        here = os.path.dirname(os.path.abspath(path))
        for spec in _values(doc.get("nodes")):
            if not isinstance(spec, dict):
                continue
            include = spec.get("include")
            dirs = tuple(os.path.join(here, d) for d in
                         ([include] if isinstance(include, str) else include if isinstance(include, list) else ())
                         if isinstance(d, str) and os.path.isdir(os.path.join(here, d)))
            self.directories.update(os.path.abspath(d) for d in dirs)
            defines = spec.get("defines")
            defines = tuple(sorted((k, str(v)) for k, v in defines.items() if isinstance(k, str)
                                   and isinstance(v, (str, int)))) if isinstance(defines, dict) else ()
            if isinstance(spec.get("program"), (str, int, float)):
                self.program(find_program(str(spec["program"]), path), dirs, defines)
            if isinstance(spec.get("entries"), str):
                self.file(os.path.join(here, spec["entries"]))
        self.scan_items(doc.get("traffic"), path)

    def scan_exercise(self, path: str, doc: dict) -> None:
        self.note_exercise(path, as_programs=True)
        here = os.path.dirname(os.path.abspath(path))
        for spec in _values(doc.get("switches")):
            if isinstance(spec, dict):
                for d in (here, os.path.dirname(here)):
                    if isinstance(spec.get("runtime_json"), str):
                        self.file(os.path.join(d, spec["runtime_json"]))
                    if isinstance(spec.get("program"), str):
                        self.program(os.path.join(d, spec["program"]))

    def scan_traffic(self, path: str) -> None:
        from ..controlplane.positions import load_yaml
        try:
            doc, _ = load_yaml(read_source(path, kind="traffic files"))
        except DiagnosticError:
            return
        self.scan_items(doc.get("traffic") if isinstance(doc, dict) else doc, path)

    def scan_items(self, items, path: str) -> None:
        """The CDF files of `pattern:` items and the programs of `send:` items, relative to `path`."""
        from ..locate import find_program
        from ..net.distributions import find_cdf
        for item in items if isinstance(items, list) else ():
            pattern = item.get("pattern") if isinstance(item, dict) else None
            size = pattern.get("size") if isinstance(pattern, dict) else None
            if isinstance(size, dict) and isinstance(size.get("cdf"), str):
                self.file(find_cdf(size["cdf"], path))
            send = item.get("send") if isinstance(item, dict) else None
            if isinstance(send, dict) and isinstance(send.get("program"), str):
                self.program(find_program(send["program"], path))

    def read_the_rest(self) -> None:
        """Preprocess each program (its #includes are read) and read the other files, recorded as read."""
        for path, include, defines in sorted(self.programs):
            try:
                Preprocessor(list(include), dict(defines)).run(read_source(path))
            except DiagnosticError:
                pass                   # what was read before the error is recorded; the point reports it
        for path in sorted(self.files):
            try:
                read_source(path)
            except DiagnosticError:
                pass


def _values(section) -> list:
    return list(section.values()) if isinstance(section, dict) else []


def _package_dirs() -> list[str]:
    """The directories of the installed dataplane package, as paths and as their real paths (a
    development checkout links programs/ and topologies/ into the package)."""
    from ..net.distributions import WORKLOADS
    from ..frontend.preprocess import system_include_dir
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    dirs = [here, str(resources.files("dataplane.programs")), str(resources.files("dataplane.topologies")),
            system_include_dir(), WORKLOADS]
    out = set()
    for d in dirs:
        out.add(os.path.abspath(d))
        out.add(os.path.realpath(d))
    return sorted(out)


def _inside(path: str, dirs: list[str]) -> bool:
    return any(path == d or path.startswith(d.rstrip(os.sep) + os.sep) for d in dirs)


def _shipped(path: str, package: list[str]) -> bool:
    return _inside(path, package) or _inside(os.path.realpath(path), package)


def _bundle(seen: dict[str, str], directories: set[str], topology: str, program: str | None,
            traffic: str | None) -> Files:
    package = _package_dirs()
    kept = {path: text for path, text in seen.items() if not _shipped(path, package)}
    # Workers read shipped files from their own installation; their texts still go into the digest (the
    # points' cache keys), so that a shipped program edited in a development checkout is not a cache hit.
    shipped = hashlib.sha256(json.dumps(sorted((os.path.basename(p), text) for p, text in seen.items()
                                               if p not in kept)).encode("utf-8")).hexdigest()
    dirs = sorted(d for d in directories if not _shipped(d, package))
    places = [os.path.dirname(p) for p in kept] + dirs
    root = os.path.commonpath(places) if places else os.sep
    entries = tuple(sorted((os.path.relpath(p, root), text) for p, text in kept.items()))

    def name(given: str | None, path: str | None, shipped_as=None) -> str | None:
        """The bundle's path of an input; for a shipped file, its name; else the name the client gave it
        (a file it could not read: the point will say so)."""
        if given is None:
            return None
        if path is not None and os.path.abspath(path) in kept:
            return os.path.relpath(os.path.abspath(path), root)
        if path is not None and shipped_as is not None and _shipped(path, package):
            stem = os.path.splitext(os.path.basename(path))[0]
            found = shipped_as(stem)
            if found is not None and os.path.samefile(found, path):
                return stem
        return given

    from ..locate import find_program, find_topology, shipped_program
    fields = dict(root=root, entries=entries,
                  topology=name(topology, find_topology(topology), _shipped_topology),
                  program=name(program, find_program(program) if program is not None else None, shipped_program),
                  traffic=name(traffic, traffic),
                  directories=tuple(os.path.relpath(d, root) for d in dirs),
                  shown=(topology, program, traffic),
                  package=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                  shipped=shipped)
    return Files(digest=_digest(fields), **fields)


def _shipped_topology(name: str) -> str | None:
    from ..locate import find_topology, shipped_topologies
    return find_topology(name) if name in shipped_topologies() else None


def _digest(fields: dict) -> str:
    """sha256 over every field (names and texts): JSON, so that no two bundles encode alike."""
    data = json.dumps([LAYOUT, {k: fields[k] for k in sorted(fields)}], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


# ---------------------------------------------------------------------------- on a worker


# This process's bundles: digest -> the directory its files are in.
_written: dict[str, str] = {}
_writing = threading.Lock()


@contextlib.contextmanager
def materialized(files: Files) -> Iterator[Materialized]:
    """The bundle's files on this worker, written once per process (and shared by the processes of one
    machine) under tempfile.gettempdir(); the files stay there for the next points with the same digest."""
    directory = _directory(files) if files.entries or files.directories else None
    yield _view(files, directory)


def _view(files: Files, directory: str | None) -> Materialized:
    if directory is None:
        return Materialized(files.topology, files.program, files.traffic, None, _package_replacement(files))
    base = os.path.join(directory, files.root.lstrip(os.sep))
    replacements = [(directory + os.sep, os.sep)]
    worker: list[str | None] = []
    for name, shown in zip((files.topology, files.program, files.traffic), files.shown):
        if files.bundled(name):
            path = os.path.normpath(os.path.join(base, name))
            worker.append(path)
            replacements.append((path, shown))
        else:
            worker.append(name)
    return Materialized(worker[0], worker[1], worker[2], directory,
                        tuple(replacements) + _package_replacement(files))


def _package_replacement(files: Files) -> tuple[tuple[str, str], ...]:
    """Shipped files are this worker's installation's; messages name them as the client's."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    if not files.package or files.package == here:
        return ()
    return ((here + os.sep, files.package + os.sep),)


def _directory(files: Files) -> str:
    with _writing:
        known = _written.get(files.digest)
        if known is not None and os.path.isdir(known):
            return known
        final = os.path.join(tempfile.gettempdir(), PREFIX + files.digest)
        if not _holds(final, files):
            fresh = _write(files)
            try:
                os.rename(fresh, final)
            except OSError:
                # Another process of this machine was first (or something else has that name): use its
                # copy when it holds this bundle, else keep ours, private to this process.
                if _holds(final, files):
                    shutil.rmtree(fresh, ignore_errors=True)
                else:
                    final = fresh
        _written[files.digest] = final
        return final


def _write(files: Files) -> str:
    """The bundle written into a new private directory (0700) beside where it is to go."""
    fresh = tempfile.mkdtemp(prefix=f"{PREFIX}{files.digest[:16]}.", dir=tempfile.gettempdir())
    try:
        base = os.path.join(fresh, files.root.lstrip(os.sep))
        os.makedirs(base, exist_ok=True)
        for d in files.directories:
            os.makedirs(_below(base, d), exist_ok=True)
        for name, text in files.entries:
            path = _below(base, name)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "w", encoding="utf-8", newline="") as f:
                f.write(text)
    except BaseException:
        shutil.rmtree(fresh, ignore_errors=True)
        raise
    return fresh


def _below(base: str, name: str) -> str:
    """base/name, which collect made relative and inside the root: anything else is a bug, not a file."""
    base = os.path.normpath(base)
    path = os.path.normpath(os.path.join(base, name))
    if os.path.isabs(name) or not (path == base or path.startswith(base.rstrip(os.sep) + os.sep)):
        raise ValueError(f"bundle path {name!r} is outside the bundle")
    return path


def _holds(directory: str, files: Files) -> bool:
    """Whether `directory` is a bundle written by this user (no one else could have put files in it) that
    holds every file of `files` with its text (a temporary-file cleaner may have removed some)."""
    try:
        st = os.lstat(directory)
    except OSError:
        return False
    if not stat.S_ISDIR(st.st_mode) or st.st_uid != os.getuid() or st.st_mode & 0o022:
        return False
    base = os.path.join(directory, files.root.lstrip(os.sep))
    if not all(os.path.isdir(os.path.join(base, d)) for d in files.directories):
        return False
    for name, text in files.entries:
        try:
            with open(os.path.join(base, name), encoding="utf-8", newline="") as f:
                if f.read() != text:
                    return False
        except (OSError, UnicodeDecodeError):
            return False
    return True
