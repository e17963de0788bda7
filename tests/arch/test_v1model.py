"""The v1model traffic manager: what happens around the P4 blocks, as BMv2 simple_switch does it."""

from __future__ import annotations

import pytest

from dataplane.arch.v1model import outputs_and_drops
from dataplane.compiler.program import compile_program
from dataplane.diagnostics import SourceFile
from dataplane.frontend.program import check_source
from dataplane.runtime.device import Device
from dataplane.runtime.trace import DropReason

PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
struct headers_t { eth_t eth; }
struct meta_t { @field_list(0) bit<8> passes; bit<8> scratch; }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); transition accept; }
}
control V(inout headers_t hdr, inout meta_t meta) { apply { } }
control C(inout headers_t hdr, inout meta_t meta) { apply { } }
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        meta.scratch = 7;
        bit<8> op = hdr.eth.dst[7:0];
        if (op == 1) { sm.egress_spec = 2; }
        else if (op == 2) { mark_to_drop(sm); }
        else if (op == 3) { sm.mcast_grp = 5; }
        else if (op == 4) { sm.egress_spec = 2; clone_preserving_field_list(CloneType.I2E, 9, 0); }
        else if (op == 5) {
            if (sm.instance_type == 0) { meta.passes = 1; resubmit_preserving_field_list(0); }
            else { sm.egress_spec = (bit<9>)meta.passes + 3; }
        }
        else if (op == 6) { meta.passes = meta.passes + 1; resubmit_preserving_field_list(0); }
        else if (op == 7) { sm.egress_spec = 2; truncate(20); }
        else if (op == 8) { assert(false); }
        else if (op == 9) { sm.egress_spec = 2; }
        else if (op == 10) { digest<eth_t>(1, hdr.eth); sm.egress_spec = 1; }
        else if (op == 11 && sm.instance_type == 4) { meta.passes = 9; }   // back from recirculation
        else if (op == 13) { sm.egress_spec = 2; hdr.eth.setInvalid(); truncate(20); }   // nothing left to send
        // op 0: egress_spec stays 0, so the packet leaves on port 0
    }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        hdr.eth.type = (bit<16>)sm.egress_rid;
        hdr.eth.src[7:0] = (bit<8>)sm.instance_type;
        bit<8> op = hdr.eth.dst[7:0];
        if (op == 9) { mark_to_drop(sm); }
        // BMv2 sets instance_type to 0 before egress, even for recirculated packets: use metadata.
        if (op == 11 && meta.passes == 0) { recirculate_preserving_field_list(0); }
        if (op == 11) { hdr.eth.src[15:8] = meta.passes; }
        if (op == 12) { clone(CloneType.E2E, 9); }
        if (sm.instance_type == 1) { hdr.eth.src[15:8] = meta.scratch; }
    }
}
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


@pytest.fixture(scope="module")
def program():
    return compile_program(check_source(SourceFile("arch.p4", PROGRAM)))


@pytest.fixture
def dev(program):
    d = Device(program)
    d.mcast_group_set(5, [(1, 10), (2, 20), (3, 30)])
    d.clone_session_set(9, port=4)
    return d


def frame(op: int, payload: bytes = b"\xaa" * 20) -> bytes:
    return bytes([0, 0, 0, 0, 0, op]) + bytes(6) + b"\x08\x00" + payload


def send(dev, op, traced=False):
    return dev.process(1, frame(op), trace=traced)


@pytest.mark.parametrize("traced", [False, True])
def test_unicast_and_default_port_zero(dev, traced):
    r = send(dev, 1, traced)
    assert [p for p, _ in r.outputs] == [2] and r.drops == []
    r = send(dev, 0, traced)
    assert [p for p, _ in r.outputs] == [0]        # BMv2: egress_spec starts at 0


@pytest.mark.parametrize("traced", [False, True])
def test_mark_to_drop_at_ingress_and_egress(dev, traced):
    assert send(dev, 2, traced).drops[0][0] is DropReason.MARK_TO_DROP
    assert send(dev, 9, traced).drops[0][0] is DropReason.EGRESS_DROP


@pytest.mark.parametrize("traced", [False, True])
def test_multicast_copies_carry_their_replica_id(dev, traced):
    r = send(dev, 3, traced)
    assert [p for p, _ in r.outputs] == [1, 2, 3]
    for (port, pkt), rid in zip(r.outputs, (10, 20, 30)):
        assert int.from_bytes(pkt[12:14], "big") == rid
        assert pkt[11] == 5                  # instance_type REPLICATION
    dev.mcast_groups[5] = []
    assert send(dev, 3, traced).drops[0][0] is DropReason.EMPTY_MULTICAST_GROUP
    del dev.mcast_groups[5]
    assert send(dev, 3, traced).drops[0][0] is DropReason.UNKNOWN_MULTICAST_GROUP


@pytest.mark.parametrize("traced", [False, True])
def test_ingress_clone_is_the_original_packet_with_reset_metadata(dev, traced):
    r = send(dev, 4, traced)
    assert sorted(p for p, _ in r.outputs) == [2, 4]
    clone = dict(r.outputs)[4]
    assert clone[11] == 1                    # instance_type INGRESS_CLONE
    assert clone[10] == 0                    # meta.scratch was reset (not in the field list)


@pytest.mark.parametrize("traced", [False, True])
def test_resubmit_preserves_the_field_list_and_is_bounded(dev, traced):
    r = send(dev, 5, traced)
    assert [p for p, _ in r.outputs] == [4]  # meta.passes == 1 survived the resubmission
    r = send(dev, 6, traced)
    assert r.outputs == [] and r.drops[0][0] is DropReason.RESUBMIT_LIMIT


@pytest.mark.parametrize("traced", [False, True])
def test_recirculate_and_egress_clone(dev, traced):
    r = send(dev, 11, traced)                # op 11 recirculates once; ingress then sets meta.passes = 9
    assert len(r.outputs) == 1 and r.outputs[0][1][10] == 9
    r = dev.process(1, frame(12), trace=traced)
    # Every egress pass of op 12 clones again (BMv2 would loop forever): the chain is bounded.
    ports = [p for p, _ in r.outputs]
    assert ports[0] == 0 and set(ports[1:]) == {4} and len(ports) == 16
    assert all(pkt[11] == 2 for _, pkt in r.outputs[1:])       # instance_type EGRESS_CLONE
    assert r.drops == [(DropReason.CLONE_LIMIT, "16 passes")]


@pytest.mark.parametrize("traced", [False, True])
def test_truncate_assert_and_digest(dev, traced):
    r = send(dev, 7, traced)
    assert len(r.outputs[0][1]) == 20
    r = send(dev, 8, traced)
    assert r.outputs == [] and r.drops[0][0] is DropReason.ASSERTION_FAILED
    seen = []
    dev.on_digest(seen.append)
    send(dev, 10, traced)
    assert seen[-1].receiver == 1 and seen[-1].fields["dst"] == 10 and seen[-1].type_name == "eth_t"


def test_devices_of_one_program_are_independent(program):
    a, b = Device(program), Device(program)
    a.clone_session_set(9, port=4)
    assert sorted(p for p, _ in a.process(1, frame(4)).outputs) == [2, 4]
    assert [p for p, _ in b.process(1, frame(4)).outputs] == [2]     # b has no clone session 9


def test_parser_error_still_runs_ingress(program):
    d = Device(program)
    r = d.process(1, b"\x00\x01\x02", trace=True)   # shorter than Ethernet
    assert "parser error: PacketTooShort" in r.trace.render()
    assert r.outputs == [(0, b"\x00\x01\x02")]       # nothing extracted: the bytes pass through


def test_traces_show_each_key_field_of_a_multi_field_key():
    """A table keyed by (srcAddr, ingress_port): the trace splits the packed key back into its fields."""
    from dataplane.build import build
    from dataplane.locate import shipped_program
    from dataplane.runtime.trace import TableApply
    d = Device(build(shipped_program("l2_switch")))
    frame = bytes.fromhex("020000000002" "020000010001" "88b5") + bytes(46)
    events = d.process(3, frame, trace=True).trace.events
    smac = next(e for e in events if isinstance(e, TableApply) and e.table.endswith("smac"))
    assert smac.keys == {"hdr.ethernet.srcAddr": (0x020000010001, 48), "standard_metadata.ingress_port": (3, 9)}


QUEUEING_PROGRAM = """
#include <core.p4>
#include <v1model.p4>
header eth_t { bit<48> dst; bit<48> src; bit<16> type; }
header queue_t { bit<32> enq_timestamp; bit<32> enq_qdepth; bit<32> deq_timedelta; bit<32> deq_qdepth; }
struct headers_t { eth_t eth; queue_t q; }
struct meta_t { }
parser P(packet_in pkt, out headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    state start { pkt.extract(hdr.eth); pkt.extract(hdr.q); transition accept; }
}
control V(inout headers_t hdr, inout meta_t meta) { apply { } }
control C(inout headers_t hdr, inout meta_t meta) { apply { } }
control I(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply { if (hdr.eth.dst == 0) { sm.egress_spec = 2; } else { sm.mcast_grp = 1; } }
}
control E(inout headers_t hdr, inout meta_t meta, inout standard_metadata_t sm) {
    apply {
        hdr.q.enq_timestamp = sm.enq_timestamp;
        hdr.q.enq_qdepth = (bit<32>)sm.enq_qdepth;
        hdr.q.deq_timedelta = sm.deq_timedelta;
        hdr.q.deq_qdepth = (bit<32>)sm.deq_qdepth;
    }
}
control D(packet_out pkt, in headers_t hdr) { apply { pkt.emit(hdr.eth); pkt.emit(hdr.q); } }
V1Switch(P(), V(), I(), E(), C(), D()) main;
"""


class FixedQueues:
    """A stand-in for a network's queue model: every port's queue state is given."""

    def __init__(self, states: dict):
        self.states = states

    def queue_state(self, port: int) -> tuple[int, int, int, int]:
        return self.states[port]


def queueing_fields(frame: bytes) -> tuple[int, ...]:
    return tuple(int.from_bytes(frame[14 + 4 * i:18 + 4 * i], "big") for i in range(4))


@pytest.mark.parametrize("traced", [False, True])
def test_a_device_on_its_own_has_no_queue(traced):
    d = Device(compile_program(check_source(SourceFile("queue.p4", QUEUEING_PROGRAM))))
    assert d.program.uses_queueing
    d.queue_depths[2] = 7          # what a test bench may set; a packet still waits for nothing
    [(port, out)] = d.process(1, bytes(30), now_us=1234.9, trace=traced).outputs
    assert (port, queueing_fields(out)) == (2, (1234, 7, 0, 7))


@pytest.mark.parametrize("traced", [False, True])
def test_the_queue_model_fills_the_queueing_fields_of_every_copy(traced):
    d = Device(compile_program(check_source(SourceFile("queue.p4", QUEUEING_PROGRAM))))
    d.egress_queues = FixedQueues({2: (100, 3, 40, 2), 3: (100, 0, 0, 0), 4: (2**32 + 5, 2**19 + 1, 7, 9)})
    [(_, out)] = d.process(1, bytes(30), trace=traced).outputs
    assert queueing_fields(out) == (100, 3, 40, 2)
    d.mcast_group_set(1, [(3, 0), (4, 0)])
    outs = d.process(1, b"\x01" + bytes(29), trace=traced).outputs
    # Each copy sees its own port's queue; values wrap to the fields' widths (32 and 19 bits).
    assert [(p, queueing_fields(f)) for p, f in outs] == [(3, (100, 0, 0, 0)), (4, (5, 1, 7, 9))]


# ---------------------------------------------------------------------- fast()'s hop result

def fast_result(dev, op: int, data: bytes | None = None):
    return dev.stages(False)["fast"](1, frame(op) if data is None else data)


def general_result(program, op: int, data: bytes | None = None) -> tuple:
    """(outputs, drops) of the packet on a device of its own that runs the stage functions (traced)."""
    d = Device(program)
    d.mcast_group_set(5, [(1, 10), (2, 20), (3, 30)])
    d.clone_session_set(9, port=4)
    r = d.process(1, frame(op) if data is None else data, trace=True)
    return r.outputs, r.drops


@pytest.mark.parametrize("op", [1, 0, 7])       # to port 2; to port 0 (a port that is false); truncated
def test_one_frame_out_and_nothing_dropped_is_the_pair_port_frame(program, dev, op):
    port, out = fast_result(dev, op)
    assert type(port) is int and type(out) is bytes
    assert ([(port, out)], []) == general_result(program, op)


@pytest.mark.parametrize("op, dropped", [(2, "DROPPED_AT_INGRESS"), (9, "DROPPED_AT_EGRESS"),
                                         (13, "DROPPED_TRUNCATED")])
def test_a_drop_is_the_runner_s_result_made_once(program, dev, op, dropped):
    result = fast_result(dev, op, frame(op, b"") if op == 13 else None)
    assert result is getattr(dev.runner, dropped) and result[0] is None
    outputs, drops = result[1]
    assert (outputs, drops) == general_result(program, op, frame(op, b"") if op == 13 else None)
    assert len(drops) == 1


@pytest.mark.parametrize("op", [3, 4, 5, 8, 11, 12])   # multicast, clone, resubmit, assert, recirculate, E2E clones
def test_whatever_the_general_machinery_finishes_is_none_and_outputs_and_drops(program, dev, op):
    port, (outputs, drops) = fast_result(dev, op)
    assert port is None and (outputs, drops) == general_result(program, op)


def test_a_packet_the_general_machinery_sends_out_of_one_port_is_still_none_and_outputs_and_drops(dev):
    port, (outputs, drops) = fast_result(dev, 5)          # resubmitted once, then sent out of port 4
    assert port is None and [p for p, _ in outputs] == [4] and not drops


def test_outputs_and_drops_of_a_hop_result():
    assert outputs_and_drops((3, b"abc")) == ([(3, b"abc")], ())
    assert outputs_and_drops((0, b"")) == ([(0, b"")], ())
    rest = ([(1, b"a"), (2, b"b")], [(DropReason.CLONE_LIMIT, "16 passes")])
    assert outputs_and_drops((None, rest)) is rest


@pytest.mark.parametrize("op", [0, 1, 2, 3, 4, 5, 7, 8, 9, 11, 12])
def test_process_and_process_raw_give_the_hop_result_as_outputs_and_drops(program, dev, op):
    outputs, drops = outputs_and_drops(fast_result(dev, op))
    assert dev.process_raw(1, frame(op)) == (outputs, drops)
    r = dev.process(1, frame(op))
    assert (r.outputs, r.drops) == (list(outputs), list(drops)) == general_result(program, op)
