"""link_monitor: h1 sends probes that follow a source route through every switch and come back (README:
`./send.py` and `./receive.py` on h1); each switch fills in, for the port the probe leaves by, the bytes sent
there since the last probe and the time, so that receive.py can print each link's utilization while a flow
runs from h1 to h4."""

from __future__ import annotations

from dataplane.net.apps import UdpFlow

from craftlab import MS, exercise_network, header, received, send

ROUTE = (4, 1, 4, 1, 3, 2, 3, 2, 1)          # send.py's probe route, back to h1


def probe() -> dict:
    return {"probe": {"hop_cnt": 0}, "probe_fwd": [{"egress_spec": p} for p in ROUTE]}


def test_probes_come_back_with_the_bytes_each_port_sent():
    net = exercise_network("link_monitor", "pod-topo/topology.json")
    send(net, "h1", probe())
    flow = UdpFlow(net, "h1", "h4", count=100, size=1000, interval_ns=MS)
    net.apps.append(flow.start(10 * MS))
    send(net, "h1", probe(), at_ns=200 * MS)
    net.run()
    assert len(flow.received) == 100
    first, second = received(net, "h1")
    for rx in (first, second):
        assert header(rx, "probe")["hop_cnt"] == len(ROUTE)
        records = [header(rx, f"probe_data[{i}]") for i in range(len(ROUTE))]
        # Newest first: the last hop (s1 port 1, to h1) is on top, and only the oldest has bos set.
        assert [r["bos"] for r in records] == [0] * (len(ROUTE) - 1) + [1]
        assert (records[0]["swid"], records[0]["port"]) == (1, 1)
    before = [header(first, f"probe_data[{i}]")["byte_cnt"] for i in range(len(ROUTE))]
    after = [header(second, f"probe_data[{i}]") for i in range(len(ROUTE))]
    # Before the flow the ports had sent next to nothing; after it, the ports on its way had sent its bytes,
    # and the time since the previous probe is there to turn bytes into a rate.
    assert max(before) < 1000
    assert max(r["byte_cnt"] for r in after) >= 100 * 1000
    assert all(r["cur_time"] > r["last_time"] > 0 for r in after)
