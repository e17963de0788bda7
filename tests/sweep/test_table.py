"""The sweep's CSV: columns, grid order, floats by repr, empty unknowns, the error column."""

from __future__ import annotations

import csv

from dataplane.sweep import table
from dataplane.sweep.point import PointResult
from dataplane.sweep.spec import load_sweep_text


def test_the_table(tmp_path):
    sweep = load_sweep_text("topology: line\ngrid:\n  seed: [1, 2]\n  links.r2-r3.mtu: [1280, 'yes']\n"
                            "metrics: [delivered, ping.rtt.avg]\n", "s.yaml")
    results = [PointResult(0, "k0", (10, 0.1 + 0.2), None), PointResult(1, "k1", (None, None), "s.yaml:4:30: error: x"),
               PointResult(2, "k2", (11, 1e-05), None), PointResult(3, "k3", (None, None), "bad, \"quoted\"")]
    out = tmp_path / "r.csv"
    table.write(str(out), sweep, results)
    assert out.read_text() == (
        "seed,links.r2-r3.mtu,delivered,ping.rtt.avg,error\n"
        "1,1280,10,0.30000000000000004,\n"
        "1,'yes',,,s.yaml:4:30: error: x\n"
        "2,1280,11,1e-05,\n"
        "2,'yes',,,\"bad, \"\"quoted\"\"\"\n")
    assert list(csv.reader(out.open()))[4][4] == 'bad, "quoted"'
    assert not (tmp_path / "r.csv.partial").exists()
    rows = table.rows(sweep, results)
    assert rows[1] == {"seed": 1, "links.r2-r3.mtu": "yes", "delivered": None, "ping.rtt.avg": None,
                       "error": "s.yaml:4:30: error: x"}
