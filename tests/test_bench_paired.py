"""bench/paired_fat_tree.py: alternating runs of two checkouts and the ratio of their medians."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def load():
    spec = importlib.util.spec_from_file_location("paired_fat_tree", ROOT / "bench" / "paired_fat_tree.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_two_checkouts_alternate_and_the_ratio_of_their_medians_is_reported(tmp_path, capsys):
    paired = load()
    other = tmp_path / "other"
    other.symlink_to(ROOT, target_is_directory=True)          # a second checkout of the same code
    order = []
    measure = paired.run_once
    paired.run_once = lambda checkout, datagrams: order.append(checkout) or measure(checkout, datagrams)
    paired.main([str(ROOT), str(other), "--pairs", "2", "--datagrams", "100"])
    assert order == [str(ROOT), str(other), str(other), str(ROOT)]       # the first swapped every pair
    old_line, new_line, ratio, pairs = capsys.readouterr().out.splitlines()
    assert old_line.startswith(f"{ROOT}: median ") and new_line.startswith(f"{other}: median ")
    assert ratio.startswith("new / old: ") and "x (medians)" in ratio and ratio.endswith("2 pairs")
    assert pairs.startswith("pair by pair: ") and pairs.count("x, ") == 1 and "(lowest " in pairs


def test_each_pair_s_ratio_is_its_new_run_over_its_old_run():
    paired = load()
    report = paired.report("a", "b", {"a": [10.0, 20.0, 40.0], "b": [30.0, 50.0, 100.0]})
    assert report.splitlines()[-1] == "pair by pair: 3.00x, 2.50x, 2.50x (lowest 2.50x)"


def test_a_directory_that_is_not_a_checkout_is_refused(tmp_path, capsys):
    with pytest.raises(SystemExit):
        load().main([str(tmp_path), str(ROOT)])
    assert "is not a checkout of dataplane" in capsys.readouterr().err
