"""A run's results as data (dataplane/net/rundata.py, series.py): --json, --csv, --interval."""

from __future__ import annotations

import csv
import json

import pytest

from dataplane.cli import main
from dataplane.net import rundata
from dataplane.net.network import Network
from dataplane.net.rundata import Recorder, collect
from dataplane.net.series import Sampler
from dataplane.net.topology import load_topology_text

MS = 1_000_000

# Two TCP flows through a 5 Mbit/s bottleneck with a short queue (drops), and a ping.
DUMBBELL = """\
name: dumbbell
defaults:
  link: {latency: 1ms, bandwidth: 10Mbps, queue: 20}
nodes:
  h1: {kind: host, interfaces: {eth0: {ipv4: 10.0.1.1/24}}}
  h3: {kind: host, interfaces: {eth0: {ipv4: 10.0.3.1/24}}}
  r1:
    kind: router
    interfaces:
      eth1: {ipv4: 10.0.1.254/24}
      eth3: {ipv4: 10.0.3.254/24}
      eth2: {ipv4: 10.0.12.1/30}
  r2:
    kind: router
    interfaces:
      eth1: {ipv4: 10.0.12.2/30}
      eth2: {ipv4: 10.0.2.254/24}
  h2: {kind: host, interfaces: {eth0: {ipv4: 10.0.2.2/24}}}
links:
  - [h1:eth0, r1:eth1]
  - [h3:eth0, r1:eth3]
  - {ends: [r1:eth2, r2:eth1], bandwidth: 5Mbps, name: bottleneck}
  - [r2:eth2, h2:eth0]
traffic:
  - {at: 0, tcp: {from: h1, to: h2, bytes: 200000}}
  - {at: 50ms, tcp: {from: h3, to: h2, bytes: 100000, port: 5002, cc: reno}}
  - {at: 0, ping: {from: h1, to: h2, count: 3, interval: 100ms}}
"""


def run(interval_ns=None, record=True):
    net = Network(load_topology_text(DUMBBELL))
    apps = net.schedule_traffic()
    rec = Recorder(net, apps, interval_ns) if record else None
    net.run()
    return net, apps, rec


@pytest.fixture(scope="module")
def sampled():
    net, apps, rec = run(10 * MS)
    return net, collect(net, apps, rec)


def test_the_result_follows_its_json_schema(sampled):
    jsonschema = pytest.importorskip("jsonschema")
    _, data = sampled
    with open(rundata.SCHEMA_FILE) as f:
        schema = json.load(f)
    jsonschema.validate(json.loads(rundata.dumps(data)), schema)
    assert data["schema"] == "dataplane-run/1"


def test_flows_have_endpoints_completion_times_and_rtts(sampled):
    _, data = sampled
    f1, f2 = data["flows"]
    assert (f1["id"], f1["src"], f1["dst"], f1["dst_host"], f1["dst_port"], f1["cc"]) == \
        ("tcp1", "h1", "10.0.2.2", "h2", 5001, "cubic")
    assert (f2["id"], f2["src"], f2["dst_port"], f2["cc"], f2["start_s"]) == ("tcp2", "h3", 5002, "reno", 0.05)
    for f in (f1, f2):
        assert f["intact"] and f["delivered_bytes"] == f["bytes"]
        assert 0 < f["handshake_s"] < f["fct_s"]
        assert f["goodput_bps"] == pytest.approx(f["bytes"] * 8 / f["fct_s"])
        assert f["goodput_bps"] < 5e6                              # the bottleneck's rate
        assert f["rtt_samples_s"] and all(r >= 0.006 for r in f["rtt_samples_s"])   # 3 links of 1 ms, twice
        assert f["srtt_s"] > 0
        assert [s["state"] for s in f["client_states"]][:3] == ["CLOSED", "SYN-SENT", "ESTABLISHED"]
        assert f["server_states"][-1]["state"] == "CLOSED"
    assert f1["retransmissions"] >= f1["fast_retransmits"] + f1["timeouts"] > 0   # the short queue drops
    assert f1["retransmitted_bytes"] > 0 and f1["sack"] and f2["sack"]          # SACK by default, as Linux


def test_pings_links_and_nodes(sampled):
    net, data = sampled
    (p,) = data["pings"]
    assert (p["id"], p["src"], p["dst"], p["transmitted"]) == ("ping1", "h1", "10.0.2.2", 3)
    assert p["lost"] == 3 - p["received"] and len(p["rtt_s"]) == p["received"]
    links = {l["id"]: l for l in data["links"]}
    assert len(links) == 2 * len(net.links)
    b = links["bottleneck:r1->r2"]
    assert (b["link"], b["from"], b["to"], b["bandwidth_bps"], b["queue_limit_frames"]) == \
        ("bottleneck", "r1", "r2", 5e6, 20)
    assert b["peak_queue_frames"] == 20 and b["drops"]["queue_full"] > 0
    assert b["frames"] == net.links["bottleneck"].end(net.devices["r1"], 3).sent
    # Every drop is counted once: on a link direction or at a node.
    on_links = sum(n for l in data["links"] for n in l["drops"].values())
    at_nodes = sum(n for node in data["nodes"] for n in node["drops"].values())
    assert on_links + at_nodes == sum(data["summary"]["drops"].values())
    assert data["drop_records_complete"]
    assert [n["node"] for n in data["nodes"]] == ["h1", "h3", "r1", "r2", "h2"]


def test_the_summary_is_the_runs_books(sampled):
    net, data = sampled
    s = data["summary"]
    assert s["frames"]["transmitted"] == net.sim.ledger.transmitted
    assert s["fates"]["forwarded"] == net.sim.ledger.fates["forwarded"]
    assert s["problems"] == [] and data["time_s"] == net.sim.now_ns / 1e9


def test_series_are_sampled_at_the_interval_and_line_up(sampled):
    _, data = sampled
    s = data["series"]
    t = s["time_s"]
    assert s["interval_s"] == 0.01 and t[0] == 0.0
    assert all(b - a == pytest.approx(0.01) for a, b in zip(t, t[1:]))
    for metrics in list(s["flows"].values()) + list(s["links"].values()):
        assert all(len(v) == len(t) for v in metrics.values())
    f1 = s["flows"]["tcp1"]
    assert sum(f1["throughput_bps"]) * 0.01 / 8 == 200000            # every byte, once
    assert f1["delivered_bytes"][-1] == 200000
    assert max(v for v in f1["cwnd_bytes"] if v is not None) > 14600  # slow start grew it beyond IW10
    assert s["flows"]["tcp2"]["cwnd_bytes"][0] is None              # not started at t = 0
    q = s["links"]["bottleneck:r1->r2"]
    assert max(q["queue_frames"]) > 10
    # A drop-tail bottleneck runs at its full rate while its queue is not empty (at both ends of an interval).
    n = q["queue_frames"]
    busy = [u for u, before, after in zip(q["utilisation"][1:], n, n[1:]) if before > 3 and after > 3]
    assert busy and all(u == pytest.approx(1.0, abs=0.05) for u in busy)
    assert max(q["utilisation"]) <= 1.0 + 1e-9


def test_sampling_stops_once_the_applications_are_over(sampled):
    net, data = sampled
    # TCP's TIME-WAIT keeps the run going a minute longer; the samples stop when the transfers are over.
    assert data["series"]["time_s"][-1] < 5 < data["time_s"]


def test_series_cost_nothing_when_not_asked_for(monkeypatch):
    made = []
    monkeypatch.setattr(Sampler, "__init__", lambda self, *a, **k: made.append(a))
    plain, _, _ = run(record=False)
    recorded, apps, rec = run(record=True)
    assert made == [] and rec.sampler is None
    assert recorded.sim.events_run == plain.sim.events_run      # not one event more
    assert collect(recorded, apps, rec)["series"] is None


def test_the_sampler_does_not_change_the_run():
    plain, _, _ = run(record=False)
    sampled_net, apps, rec = run(10 * MS)
    assert sampled_net.sim.ledger.transmitted == plain.sim.ledger.transmitted
    assert sampled_net.sim.now_ns == plain.sim.now_ns
    assert sampled_net.sim.events_run == plain.sim.events_run + len(rec.sampler.time_s)


@pytest.fixture
def topology_file(tmp_path):
    f = tmp_path / "dumbbell.yaml"
    f.write_text(DUMBBELL)
    return f


def test_run_writes_json_and_csv_byte_identical_each_time(capsys, tmp_path, topology_file):
    outs = []
    for n in (1, 2):
        rc = main(["run", str(topology_file), "--no-progress", "--json", str(tmp_path / f"r{n}.json"),
                   "--csv", str(tmp_path / f"csv{n}"), "--interval", "10ms"])
        out, err = capsys.readouterr()
        assert (rc, err) == (0, "")
        assert out.endswith(f"json: {tmp_path / f'r{n}.json'}\ncsv: 5 files in {tmp_path / f'csv{n}'}\n")
        outs.append(out)
    assert (tmp_path / "r1.json").read_bytes() == (tmp_path / "r2.json").read_bytes()
    for name in ("flows.csv", "pings.csv", "links.csv", "nodes.csv", "series.csv"):
        assert (tmp_path / "csv1" / name).read_bytes() == (tmp_path / "csv2" / name).read_bytes()
    data = json.loads((tmp_path / "r1.json").read_text())
    assert data["topology"] == "dumbbell" and len(data["flows"]) == 2


def test_csv_headers_and_rows(tmp_path, topology_file, capsys):
    assert main(["run", str(topology_file), "--no-progress", "--csv", str(tmp_path)]) == 0
    capsys.readouterr()

    def read(name):
        with open(tmp_path / name, newline="") as f:
            return list(csv.reader(f))
    flows = read("flows.csv")
    assert tuple(flows[0]) == rundata.FLOW_COLUMNS and len(flows) == 3
    row = dict(zip(flows[0], flows[1]))
    assert (row["id"], row["cc"], row["bytes"], row["intact"]) == ("tcp1", "cubic", "200000", "true")
    assert float(row["fct_s"]) > float(row["handshake_s"]) > 0
    assert tuple(read("pings.csv")[0]) == rundata.PING_COLUMNS
    links = read("links.csv")
    assert tuple(links[0]) == rundata.LINK_COLUMNS and len(links) == 1 + 8
    assert links[0][:4] == ["id", "link", "from", "to"]
    nodes = read("nodes.csv")
    assert nodes[0] == ["node", "kind", "drops", "copy_drops", "drops_by_reason"] and len(nodes) == 6
    assert read("series.csv") == [list(rundata.SERIES_COLUMNS)]       # no --interval: the header only


def test_series_csv_is_long_form(tmp_path, topology_file, capsys):
    assert main(["run", str(topology_file), "--no-progress", "--csv", str(tmp_path), "--interval", "50ms"]) == 0
    capsys.readouterr()
    with open(tmp_path / "series.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    cwnd = [r for r in rows if (r["kind"], r["id"], r["metric"]) == ("flow", "tcp1", "cwnd_bytes")]
    assert [r["time_s"] for r in cwnd[:3]] == ["0.0", "0.05", "0.1"]
    assert {r["metric"] for r in rows if r["kind"] == "link"} == {"bytes", "utilisation", "queue_frames"}


def test_ping_traceroute_and_pingall_write_json(tmp_path, capsys):
    assert main(["ping", "line", "h1", "h2", "-c", "2", "-i", "0.1", "--no-progress",
                 "--json", str(tmp_path / "p.json")]) == 0
    assert main(["traceroute", "line", "h1", "h2", "--no-progress", "--json", str(tmp_path / "t.json")]) == 0
    capsys.readouterr()
    p = json.loads((tmp_path / "p.json").read_text())
    assert p["pings"][0]["received"] == 2 and p["flows"] == []
    t = json.loads((tmp_path / "t.json").read_text())
    assert t["apps"][0]["kind"] == "traceroute" and t["apps"][0]["reached"]
    assert main(["pingall", "line", "--no-progress", "--json", str(tmp_path / "a.json")]) == 0
    capsys.readouterr()
    a = json.loads((tmp_path / "a.json").read_text())
    assert a["apps"][0]["answered"] == {"h1->h2": True, "h2->h1": True}


def test_set_is_recorded_in_the_results(tmp_path, capsys):
    assert main(["ping", "line", "h1", "h2", "-c", "1", "--no-progress", "--set", "seed=7",
                 "--json", str(tmp_path / "p.json")]) == 0
    capsys.readouterr()
    data = json.loads((tmp_path / "p.json").read_text())
    assert (data["seed"], data["settings"]) == (7, ["seed=7"])


@pytest.mark.parametrize("argv, message", [
    (["--interval", "10ms"], "error: --interval samples time series for --json FILE or --csv DIR; give one of "
                             "them too\n"),
    (["--json", "x.json", "--interval", "soon"], "error: --interval: 'soon' is not a duration such as 1ms, 250us "
                                                 "or 2s\n"),
    (["--json", "x.json", "--interval", "0ms"], "error: --interval must be longer than 0\n"),
])
def test_bad_data_options_are_one_line_errors(capsys, argv, message):
    assert main(["ping", "line", "h1", "h2", "-c", "1", "--no-progress"] + argv) == 1
    assert capsys.readouterr().err == message


def test_an_unwritable_json_file_is_a_user_error(capsys, tmp_path):
    target = tmp_path / "missing-dir" / "r.json"
    assert main(["ping", "line", "h1", "h2", "-c", "1", "--no-progress", "--json", str(target)]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: cannot write the results: No such file or directory: ") and "Traceback" not in err


def test_a_run_stopped_early_has_nulls_where_nothing_is_known():
    net = Network(load_topology_text(DUMBBELL))
    apps = net.schedule_traffic()
    rec = Recorder(net, apps, 10 * MS)
    net.run(20 * MS)
    data = collect(net, apps, rec)
    f1, f2 = data["flows"]
    assert f1["fct_s"] is None and f1["goodput_bps"] is None and not f1["finished"]
    assert (f2["start_s"], f2["src_address"], f2["src_port"], f2["handshake_s"], f2["client_states"]) == \
        (None, None, None, None, [])
    assert data["series"]["time_s"] == [0.0, 0.01, 0.02]
    jsonschema = pytest.importorskip("jsonschema")
    with open(rundata.SCHEMA_FILE) as f:
        jsonschema.validate(json.loads(rundata.dumps(data)), json.load(f))


def test_json_text_puts_number_lists_on_one_line_and_leaves_strings_alone():
    data = {"b": [1, 2.5, None, -3e-05], "a": "[1,\n 2]", "c": [{"x": 1}], "d": []}
    text = rundata.dumps(data)
    assert json.loads(text) == data
    assert '"b": [1, 2.5, null, -3e-05]' in text and '"a": "[1,\\n 2]"' in text
    assert text.startswith('{\n "a"') and text.endswith("}\n")


def test_the_flows_of_a_container_application_are_flows_too():
    """A traffic pattern (one application running many flows in its `flows` list) gives one row per flow."""
    from dataplane.net.apps import App, Ping
    from dataplane.net.transfers import TcpTransfer

    class Group(App):
        name = "pattern"

        def __init__(self, net):
            super().__init__(net, "h1")
            self.flows = [TcpTransfer(net, "h1", "h2", nbytes=3000), TcpTransfer(net, "h3", "h2", port=5003,
                                                                              nbytes=2000), Ping(net, "h3", "h2", count=1)]

        def start(self, at_ns=0):
            for f in self.flows:
                f.start(at_ns)
            return super().start(at_ns)

        def _begin(self):
            pass

        def report(self):
            return "a group"

    net = Network(load_topology_text(DUMBBELL))
    apps = [TcpTransfer(net, "h1", "h2", port=6000, nbytes=1000).start(), Group(net).start()]
    rec = Recorder(net, apps, 10 * MS)
    net.run()
    data = collect(net, apps, rec)
    assert [a["id"] for a in data["apps"]] == ["tcp1", "pattern1"]
    assert [(f["id"], f["bytes"]) for f in data["flows"]] == [("tcp1", 1000), ("tcp2", 3000), ("tcp3", 2000)]
    assert [p["id"] for p in data["pings"]] == ["ping1"]
    assert list(data["series"]["flows"]) == ["tcp1", "tcp2", "tcp3"]
    assert all(f["rtt_samples_s"] and f["fct_s"] for f in data["flows"])
    assert data["series"]["time_s"][-1] < 5 < data["time_s"]          # not sampled through TIME-WAIT
