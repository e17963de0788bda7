"""calc: h1 sends p4calc packets (README: `./calc.py`, then `1+1`); the switch answers each with the result."""

from __future__ import annotations

from craftlab import exercise_network, header, received, send

OPERATIONS = [("+", 1, 2, 3), ("-", 10, 3, 7), ("&", 6, 3, 2), ("|", 4, 1, 5), ("^", 5, 1, 4),
              ("-", 1, 2, (1 - 2) & 0xFFFFFFFF)]


def test_every_operator_comes_back_with_its_result():
    net = exercise_network("calc")
    for i, (op, a, b, _) in enumerate(OPERATIONS):
        send(net, "h1", {"ethernet": {"dstAddr": "00:04:00:00:00:00"},
                         "p4calc": {"op": op, "operand_a": a, "operand_b": b}}, payload=" ", at_ns=i * 1_000_000)
    net.run()
    replies = received(net, "h1")
    assert [(chr(header(r, "p4calc")["op"]), header(r, "p4calc")["res"]) for r in replies] == \
        [(op, result) for op, _, _, result in OPERATIONS]
    # The switch swapped the addresses: each reply is addressed to h1.
    assert {header(r, "ethernet")["dstAddr"] for r in replies} == {0x080000000101}
    assert "op='+'" in replies[0].render("h1") and "res=3" in replies[0].render("h1")
    assert net.summary().drops == {}


def test_an_unknown_operator_is_dropped_by_the_switch():
    net = exercise_network("calc")
    send(net, "h1", {"p4calc": {"op": "*", "operand_a": 2, "operand_b": 3}})
    net.run()
    assert received(net, "h1") == []
    assert net.summary().drops_by_node == {"s1": 1}


def test_a_packet_without_the_p4calc_magic_is_not_parsed_as_p4calc():
    net = exercise_network("calc")
    send(net, "h1", {"p4calc": {"p": "Q", "op": "+", "operand_a": 1, "operand_b": 2}})
    net.run()
    assert received(net, "h1") == [] and net.summary().drops_by_node == {"s1": 1}
