"""The results cache: a finished point reads back exactly; damaged entries are ignored."""

from __future__ import annotations

from dataplane.sweep.cache import Cache, directory_for
from dataplane.sweep.point import PointResult


def test_a_point_reads_back_exactly(tmp_path):
    cache = Cache(str(tmp_path / "c"))
    result = PointResult(4, "abc", (1, 0.1 + 0.2, None, 1e-300), None)
    cache.put(result)
    assert cache.get("abc", 4, 4) == result
    failed = PointResult(5, "def", (None,), "s.yaml:1:2: error: no")
    cache.put(failed)
    assert cache.get("def", 5, 1) == failed
    assert cache.get("abc", 9, 4).index == 9          # the same input at another place in another grid


def test_missing_and_damaged_entries_are_ignored(tmp_path):
    cache = Cache(str(tmp_path / "c"))
    assert cache.get("none", 0, 1) is None
    cache.put(PointResult(0, "abc", (1,), None))
    assert cache.get("abc", 0, 2) is None               # another number of metrics
    (tmp_path / "c" / "abc.json").write_text('{"format": "dataplane-sweep-point/1", "key": "ab')
    assert cache.get("abc", 0, 1) is None
    (tmp_path / "c" / "abc.json").write_text('{"format": "dataplane-sweep-point/1", "key": "xyz", "values": [1]}')
    assert cache.get("abc", 0, 1) is None


def test_the_cache_is_beside_the_table():
    assert directory_for("out/results.csv") == "out/results.csv.cache"
