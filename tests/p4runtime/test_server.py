"""The P4Runtime server through its gRPC stubs: pipeline, arbitration, Write / Read of every entity, errors.

Every call has a timeout; servers listen on 127.0.0.1 and stop at the end of each test (conftest.served)."""

from __future__ import annotations

import queue
import threading

import grpc
import pytest
from google.rpc import code_pb2, status_pb2
from p4.v1 import p4runtime_pb2 as R
from p4.v1 import p4runtime_pb2_grpc as G

from dataplane.build import build
from dataplane.p4runtime.p4info import build_p4info
from dataplane.p4runtime.server import P4RuntimeSwitch, program_source

from p4rt_support import SERVE_P4

T = 20  # seconds: the bound of every call


class Client:
    """A bare controller: one channel, one stream, election ID `eid`."""

    def __init__(self, address: str, eid: int = 1, device_id: int = 0):
        self.channel = grpc.insecure_channel(address)
        self.stub = G.P4RuntimeStub(self.channel)
        self.eid = eid
        self.device_id = device_id
        self.requests: queue.Queue = queue.Queue()
        self.responses: queue.Queue = queue.Queue()
        self.stream = self.stub.StreamChannel(iter(self.requests.get, None), timeout=60)
        threading.Thread(target=self._pump, daemon=True).start()

    def _pump(self):
        try:
            for r in self.stream:
                self.responses.put(r)
        except grpc.RpcError as exc:
            self.responses.put(exc)

    def arbitrate(self, eid: int | None = None):
        m = R.StreamMessageRequest()
        m.arbitration.device_id = self.device_id
        m.arbitration.election_id.low = self.eid if eid is None else eid
        if eid is not None:
            self.eid = eid
        self.requests.put(m)
        return self.next()

    def next(self):
        return self.responses.get(timeout=T)

    def close(self):
        self.requests.put(None)
        self.channel.close()

    def set_pipeline(self, info, config: bytes):
        req = R.SetForwardingPipelineConfigRequest(device_id=self.device_id,
                                                   action=R.SetForwardingPipelineConfigRequest.VERIFY_AND_COMMIT)
        req.election_id.low = self.eid
        req.config.p4info.CopyFrom(info)
        req.config.p4_device_config = config
        return self.stub.SetForwardingPipelineConfig(req, timeout=60)

    def write(self, *updates):
        req = R.WriteRequest(device_id=self.device_id)
        req.election_id.low = self.eid
        for kind, entity in updates:
            u = req.updates.add(type=kind)
            getattr(u.entity, _snake(entity.DESCRIPTOR.name)).CopyFrom(entity)
        return self.stub.Write(req, timeout=T)

    def read(self, **entity):
        req = R.ReadRequest(device_id=self.device_id)
        e = req.entities.add()
        for k, v in entity.items():
            getattr(e, k).CopyFrom(v)
        return [x for r in self.stub.Read(req, timeout=T) for x in r.entities]


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name).lstrip("_")


def write_errors(exc: grpc.RpcError) -> list:
    """The p4.v1.Error of each update, as p4runtime-shell reads them from the status details."""
    assert exc.code() == grpc.StatusCode.UNKNOWN
    details = dict(exc.trailing_metadata())["grpc-status-details-bin"]
    status = status_pb2.Status.FromString(details)
    out = []
    for d in status.details:
        e = R.Error()
        d.Unpack(e)
        out.append((e.canonical_code, e.message))
    return out


@pytest.fixture(scope="module")
def program():
    compiled = build(str(SERVE_P4))
    return compiled, build_p4info(compiled)


@pytest.fixture
def client(served, program):
    address = served(P4RuntimeSwitch("s1", device_id=0, program=str(SERVE_P4)))
    c = Client(address)
    assert c.arbitrate().arbitration.status.code == code_pb2.OK
    c.set_pipeline(program[1], SERVE_P4.read_bytes())
    yield c
    c.close()


def ids(info):
    names = {}
    for kind in ("tables", "actions", "counters", "registers", "action_profiles", "direct_counters"):
        for o in getattr(info, kind):
            names[o.preamble.name] = o.preamble.id
    return names


def exact_entry(info, dst: int, port: int) -> R.TableEntry:
    n = ids(info)
    te = R.TableEntry(table_id=n["Ing.l2"])
    te.match.add(field_id=1).exact.value = dst.to_bytes(6, "big")
    te.action.action.action_id = n["Ing.forward"]
    te.action.action.params.add(param_id=1, value=port.to_bytes(2, "big"))
    return te


# ---------------------------------------------------------------------------- the device config


def test_program_source_reads_text_wrapped_text_and_bmv2_json():
    assert program_source(b"control C() { apply {} }\n") == "control C() { apply {} }\n"
    # p4.tmp.P4DeviceConfig(reassign=True, device_data=...) as p4runtime_lib serializes it
    data = b"header h_t { bit<8> f; }"
    wrapped = b"\x08\x01\x1a" + bytes([len(data)]) + data
    assert program_source(wrapped) == "header h_t { bit<8> f; }"
    assert program_source(b"") is None
    assert program_source(b'{"header_types": []}') is None


# ---------------------------------------------------------------------------- arbitration


def test_arbitration_primary_backup_and_handover(served, program):
    address = served(P4RuntimeSwitch("s1", device_id=3))
    a = Client(address, eid=5, device_id=3)
    b = Client(address, eid=2, device_id=3)
    try:
        r = a.arbitrate().arbitration
        assert (r.status.code, r.election_id.low, r.device_id) == (code_pb2.OK, 5, 3)
        r = b.arbitrate().arbitration
        assert (r.status.code, r.election_id.low) == (code_pb2.ALREADY_EXISTS, 5)
        # b takes over with a higher election ID: both are told
        r = b.arbitrate(9).arbitration
        assert (r.status.code, r.election_id.low) == (code_pb2.OK, 9)
        r = a.next().arbitration
        assert (r.status.code, r.election_id.low) == (code_pb2.ALREADY_EXISTS, 9)
        # the primary leaves: a is primary again
        b.close()
        r = a.next().arbitration
        assert (r.status.code, r.election_id.low) == (code_pb2.OK, 5)
    finally:
        a.close()
        b.close()


def test_arbitration_refuses_a_used_election_id_and_another_device(served):
    address = served(P4RuntimeSwitch("s1"))
    a, b, c = Client(address, eid=4), Client(address, eid=4), Client(address, eid=1, device_id=7)
    try:
        a.arbitrate()
        err = b.arbitrate()
        assert isinstance(err, grpc.RpcError) and err.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert "already used" in err.details()
        err = c.arbitrate()
        assert isinstance(err, grpc.RpcError) and err.code() == grpc.StatusCode.NOT_FOUND
    finally:
        for x in (a, b, c):
            x.close()


def test_backup_cannot_write_and_nothing_works_before_a_pipeline(served, program):
    address = served(P4RuntimeSwitch("s1", program=str(SERVE_P4)))
    a, b = Client(address, eid=5), Client(address, eid=2)
    try:
        a.arbitrate()
        b.arbitrate()
        with pytest.raises(grpc.RpcError) as exc:
            a.write((R.Update.INSERT, exact_entry(program[1], 1, 1)))
        assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
        with pytest.raises(grpc.RpcError) as exc:
            b.set_pipeline(program[1], b"")
        assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED
        a.set_pipeline(program[1], b"")     # empty: the program the server was started with
        with pytest.raises(grpc.RpcError) as exc:
            b.write((R.Update.INSERT, exact_entry(program[1], 1, 1)))
        assert exc.value.code() == grpc.StatusCode.PERMISSION_DENIED
        a.write((R.Update.INSERT, exact_entry(program[1], 1, 1)))
    finally:
        a.close()
        b.close()


# ---------------------------------------------------------------------------- pipeline


def test_get_forwarding_pipeline_config_returns_what_was_set(client, program):
    r = client.stub.GetForwardingPipelineConfig(R.GetForwardingPipelineConfigRequest(device_id=0), timeout=T)
    assert r.config.p4info == program[1]
    assert r.config.p4_device_config == SERVE_P4.read_bytes()


def test_a_program_that_does_not_compile_is_invalid_argument(client, program):
    with pytest.raises(grpc.RpcError) as exc:
        client.set_pipeline(program[1], b"control C( { }")
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "does not compile" in exc.value.details()


def test_a_p4info_naming_unknown_objects_is_invalid_argument(client, program):
    info = type(program[1])()
    info.CopyFrom(program[1])
    info.tables[0].preamble.name = info.tables[0].preamble.alias = "Ing.nope"
    with pytest.raises(grpc.RpcError) as exc:
        client.set_pipeline(info, SERVE_P4.read_bytes())
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "Ing.nope" in exc.value.details()


def test_p4info_with_other_ids_is_matched_by_name(served, program):
    """A P4Info whose IDs differ from ours (another compiler's): requests use its IDs."""
    info = type(program[1])()
    info.CopyFrom(program[1])
    l2 = next(t for t in info.tables if t.preamble.name == "Ing.l2")
    l2.preamble.id = 0x02000099
    fwd = next(a for a in info.actions if a.preamble.name == "Ing.forward")
    old = fwd.preamble.id
    fwd.preamble.id = 0x01000099
    for t in info.tables:
        for ref in t.action_refs:
            if ref.id == old:
                ref.id = 0x01000099
    address = served(P4RuntimeSwitch("s1"))
    c = Client(address)
    try:
        c.arbitrate()
        c.set_pipeline(info, SERVE_P4.read_bytes())
        te = exact_entry(program[1], 0x0a, 3)
        te.table_id, te.action.action.action_id = 0x02000099, 0x01000099
        c.write((R.Update.INSERT, te))
        got = c.read(table_entry=R.TableEntry(table_id=0x02000099))
        assert [e.table_entry.action.action.action_id for e in got] == [0x01000099]
    finally:
        c.close()


# ---------------------------------------------------------------------------- table entries


def test_insert_read_modify_delete(client, program):
    info = program[1]
    n = ids(info)
    client.write((R.Update.INSERT, exact_entry(info, 0x0a0b, 3)), (R.Update.INSERT, exact_entry(info, 0x0c, 4)))
    got = client.read(table_entry=R.TableEntry(table_id=n["Ing.l2"]))
    assert len(got) == 2
    first = got[0].table_entry
    assert first.match[0].exact.value == b"\x0a\x0b"          # canonical: no leading zeros
    assert first.action.action.params[0].value == b"\x03"
    client.write((R.Update.MODIFY, exact_entry(info, 0x0a0b, 7)))
    one = R.TableEntry(table_id=n["Ing.l2"])
    one.match.add(field_id=1).exact.value = b"\x0a\x0b"
    got = client.read(table_entry=one)
    assert [e.table_entry.action.action.params[0].value for e in got] == [b"\x07"]
    client.write((R.Update.DELETE, exact_entry(info, 0x0a0b, 7)))
    assert len(client.read(table_entry=R.TableEntry(table_id=n["Ing.l2"]))) == 1
    # all tables at once
    assert len(client.read(table_entry=R.TableEntry())) == 1


def test_write_errors_are_per_update(client, program):
    info = program[1]
    n = ids(info)
    client.write((R.Update.INSERT, exact_entry(info, 1, 1)))
    too_wide = exact_entry(info, 2, 1)
    too_wide.action.action.params[0].value = b"\x04\x00"      # 1024 does not fit in bit<9>
    with pytest.raises(grpc.RpcError) as exc:
        client.write((R.Update.INSERT, exact_entry(info, 1, 1)),
                     (R.Update.DELETE, exact_entry(info, 9, 1)),
                     (R.Update.INSERT, too_wide),
                     (R.Update.INSERT, exact_entry(info, 3, 1)))
    errors = write_errors(exc.value)
    assert [c for c, _ in errors] == [code_pb2.ALREADY_EXISTS, code_pb2.NOT_FOUND, code_pb2.INVALID_ARGUMENT,
                                      code_pb2.OK]
    assert "parameter 'port' of action 'Ing.forward'" in errors[2][1]
    # the good update was applied
    assert len(client.read(table_entry=R.TableEntry(table_id=n["Ing.l2"]))) == 2


def test_default_entry_is_modified_and_read(client, program):
    info = program[1]
    n = ids(info)
    te = R.TableEntry(table_id=n["Ing.l2"], is_default_action=True)
    te.action.action.action_id = n["Ing.forward"]
    te.action.action.params.add(param_id=1, value=b"\x05")
    client.write((R.Update.MODIFY, te))
    got = client.read(table_entry=R.TableEntry(table_id=n["Ing.l2"], is_default_action=True))
    assert got[0].table_entry.action.action.action_id == n["Ing.forward"]
    with pytest.raises(grpc.RpcError) as exc:
        client.write((R.Update.INSERT, te))
    assert write_errors(exc.value)[0][0] == code_pb2.INVALID_ARGUMENT
    # MODIFY without an action: back to the program's default
    client.write((R.Update.MODIFY, R.TableEntry(table_id=n["Ing.l2"], is_default_action=True)))
    got = client.read(table_entry=R.TableEntry(table_id=n["Ing.l2"], is_default_action=True))
    assert got[0].table_entry.action.action.action_id == n["Ing.drop"]


def test_lpm_ternary_range_optional_and_priorities(client, program):
    info = program[1]
    n = ids(info)
    lpm = R.TableEntry(table_id=n["Ing.routes"])
    m = lpm.match.add(field_id=1)
    m.lpm.value, m.lpm.prefix_len = bytes.fromhex("0a0000000000"), 8
    lpm.action.action.action_id = n["NoAction"]
    acl = R.TableEntry(table_id=n["Ing.acl"], priority=10)
    t = acl.match.add(field_id=1)
    t.ternary.value, t.ternary.mask = b"\x08\x00", b"\xff\x00"
    r = acl.match.add(field_id=2)
    r.range.low, r.range.high = b"\x01", b"\x04"
    acl.match.add(field_id=3).optional.value = b"\x07"
    acl.action.action.action_id = n["Ing.drop"]
    client.write((R.Update.INSERT, lpm), (R.Update.INSERT, acl))
    got = client.read(table_entry=R.TableEntry(table_id=n["Ing.acl"]))[0].table_entry
    assert got.priority == 10 and len(got.match) == 3 and got.match[1].range.high == b"\x04"
    # wildcards are left out; a second entry differing only in priority is another entry
    wild = R.TableEntry(table_id=n["Ing.acl"], priority=20)
    wild.action.action.action_id = n["NoAction"]
    client.write((R.Update.INSERT, wild))
    got = client.read(table_entry=R.TableEntry(table_id=n["Ing.acl"]))
    assert sorted(len(e.table_entry.match) for e in got) == [0, 3]
    no_priority = R.TableEntry(table_id=n["Ing.acl"])
    no_priority.action.action.action_id = n["NoAction"]
    host_bits = R.TableEntry()
    host_bits.CopyFrom(lpm)
    host_bits.match[0].lpm.value = bytes.fromhex("0a0100000000")
    with pytest.raises(grpc.RpcError) as exc:
        client.write((R.Update.INSERT, no_priority), (R.Update.INSERT, host_bits))
    errors = write_errors(exc.value)
    assert [c for c, _ in errors] == [code_pb2.INVALID_ARGUMENT] * 2
    assert "priority" in errors[0][1] and "prefix length" in errors[1][1]


def test_action_selector_members_and_groups(client, program):
    info = program[1]
    n = ids(info)
    prof = n["Ing.sel"]
    members = []
    for mid, port in ((1, 2), (2, 3)):
        m = R.ActionProfileMember(action_profile_id=prof, member_id=mid)
        m.action.action_id = n["Ing.forward"]
        m.action.params.add(param_id=1, value=bytes([port]))
        members.append((R.Update.INSERT, m))
    group = R.ActionProfileGroup(action_profile_id=prof, group_id=10)
    group.members.add(member_id=1, weight=1)
    group.members.add(member_id=2, weight=1)
    te = R.TableEntry(table_id=n["Ing.ecmp"])
    te.match.add(field_id=1).exact.value = b"\x08\x00"
    te.action.action_profile_group_id = 10
    client.write(*members, (R.Update.INSERT, group), (R.Update.INSERT, te))
    got = client.read(action_profile_group=R.ActionProfileGroup(action_profile_id=prof))
    assert [m.member_id for m in got[0].action_profile_group.members] == [1, 2]
    assert client.read(table_entry=R.TableEntry(table_id=n["Ing.ecmp"]))[0].table_entry.action \
        .action_profile_group_id == 10
    assert len(client.read(action_profile_member=R.ActionProfileMember(action_profile_id=prof))) == 2
    with pytest.raises(grpc.RpcError) as exc:
        client.write((R.Update.INSERT, members[0][1]))
    assert write_errors(exc.value)[0][0] == code_pb2.ALREADY_EXISTS
    # the entry now runs member 2; a missing member leaves it as it is
    te.action.action_profile_member_id = 2
    client.write((R.Update.MODIFY, te))
    missing = R.TableEntry()
    missing.CopyFrom(te)
    missing.action.action_profile_member_id = 9
    with pytest.raises(grpc.RpcError) as exc:
        client.write((R.Update.MODIFY, missing))
    assert write_errors(exc.value)[0][0] == code_pb2.NOT_FOUND
    got = client.read(table_entry=R.TableEntry(table_id=n["Ing.ecmp"]))
    assert [e.table_entry.action.action_profile_member_id for e in got] == [2]
    default = R.TableEntry(table_id=n["Ing.ecmp"], is_default_action=True)
    default.action.action_profile_member_id = 1
    client.write((R.Update.MODIFY, default))
    got = client.read(table_entry=R.TableEntry(table_id=n["Ing.ecmp"], is_default_action=True))
    assert got[0].table_entry.action.action_profile_member_id == 1


# ---------------------------------------------------------------------------- counters and registers


def test_counters_direct_counters_and_registers(client, program):
    info = program[1]
    n = ids(info)
    client.write((R.Update.INSERT, exact_entry(info, 0x0a, 3)))
    dc = R.DirectCounterEntry()
    dc.table_entry.CopyFrom(exact_entry(info, 0x0a, 3))
    dc.table_entry.ClearField("action")
    dc.data.packet_count, dc.data.byte_count = 5, 320
    client.write((R.Update.MODIFY, dc))
    got = client.read(direct_counter_entry=R.DirectCounterEntry(table_entry=R.TableEntry(table_id=n["Ing.l2"])))
    assert (got[0].direct_counter_entry.data.packet_count, got[0].direct_counter_entry.data.byte_count) == (5, 320)
    te = R.TableEntry(table_id=n["Ing.l2"])
    te.counter_data.SetInParent()
    assert client.read(table_entry=te)[0].table_entry.counter_data.packet_count == 5

    ce = R.CounterEntry(counter_id=n["Ing.port_counts"])
    ce.index.index = 2
    ce.data.packet_count, ce.data.byte_count = 7, 700
    client.write((R.Update.MODIFY, ce))
    got = client.read(counter_entry=R.CounterEntry(counter_id=n["Ing.port_counts"]))
    assert len(got) == 8 and got[2].counter_entry.data.packet_count == 7
    one = R.CounterEntry(counter_id=n["Ing.port_counts"])
    one.index.index = 2
    assert client.read(counter_entry=one)[0].counter_entry.data.byte_count == 700

    reg = R.RegisterEntry(register_id=n["Ing.seen"])
    reg.index.index = 1
    reg.data.bitstring = b"\x01\x02"
    client.write((R.Update.MODIFY, reg))
    got = client.read(register_entry=R.RegisterEntry(register_id=n["Ing.seen"]))
    assert [e.register_entry.data.bitstring for e in got] == [b"\x00", b"\x01\x02", b"\x00", b"\x00"]
    bad = R.CounterEntry(counter_id=n["Ing.port_counts"])
    bad.index.index = 99
    with pytest.raises(grpc.RpcError) as exc:
        client.read(counter_entry=bad)
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_multicast_groups_and_clone_sessions(client):
    pre = R.PacketReplicationEngineEntry()
    pre.multicast_group_entry.multicast_group_id = 1
    pre.multicast_group_entry.replicas.add(egress_port=1, instance=1)
    pre.multicast_group_entry.replicas.add(egress_port=2, instance=1)
    cs = R.PacketReplicationEngineEntry()
    cs.clone_session_entry.session_id = 5
    cs.clone_session_entry.replicas.add(egress_port=3, instance=0)
    client.write((R.Update.INSERT, pre), (R.Update.INSERT, cs))
    q = R.PacketReplicationEngineEntry()
    q.multicast_group_entry.SetInParent()
    got = client.read(packet_replication_engine_entry=q)
    assert [r.egress_port for r in got[0].packet_replication_engine_entry.multicast_group_entry.replicas] == [1, 2]
    with pytest.raises(grpc.RpcError) as exc:
        client.write((R.Update.INSERT, pre))
    assert write_errors(exc.value)[0][0] == code_pb2.ALREADY_EXISTS
    client.write((R.Update.DELETE, pre))
    assert client.read(packet_replication_engine_entry=q) == []


# ---------------------------------------------------------------------------- packets


def test_packet_out_comes_back_as_packet_in(served):
    program = SERVE_P4.parent / "packetio.p4"
    info = build_p4info(build(str(program)))
    address = served(P4RuntimeSwitch("s1", program=str(program)))
    c, backup = Client(address, eid=2), Client(address, eid=1)
    try:
        c.arbitrate()
        backup.arbitrate()
        c.set_pipeline(info, b"")
        frame = bytes(range(14)) + b"payload"
        m = R.StreamMessageRequest()
        m.packet.payload = frame
        m.packet.metadata.add(metadata_id=1, value=(510).to_bytes(2, "big"))
        m.packet.metadata.add(metadata_id=2, value=b"\x00")
        c.requests.put(m)
        r = c.next()
        assert r.packet.payload == frame
        assert [(x.metadata_id, x.value) for x in r.packet.metadata] == [(1, b"\x01\xfe"), (2, b"\x00")]
        # a backup may not send packets; metadata missing is an error; both leave the stream open
        backup.requests.put(m)
        assert backup.next().error.canonical_code == code_pb2.PERMISSION_DENIED
        del m.packet.metadata[1]
        c.requests.put(m)
        err = c.next().error
        assert err.canonical_code == code_pb2.INVALID_ARGUMENT and "'pad'" in err.message
        assert err.packet_out.packet_out.payload == frame
    finally:
        c.close()
        backup.close()


def test_digests_are_sent_once_configured(served):
    from dataplane.locate import shipped_program
    program = shipped_program("l2_switch")
    info = build_p4info(build(program))
    learn = next(d.preamble.id for d in info.digests if d.preamble.name == "learn_t")
    address = served(P4RuntimeSwitch("s1", program=program))
    c = Client(address)
    try:
        c.arbitrate()
        c.set_pipeline(info, b"")
        frame = bytes.fromhex("ffffffffffff" "020000000007" "0800") + bytes(20)
        m = R.StreamMessageRequest()
        m.packet.payload = frame
        c.requests.put(m)                       # not configured yet: no digest
        c.write((R.Update.INSERT, R.DigestEntry(digest_id=learn)))
        assert [e.digest_entry.digest_id for e in c.read(digest_entry=R.DigestEntry())] == [learn]
        c.requests.put(m)
        r = c.next()
        assert r.digest.digest_id == learn and r.digest.list_id == 1
        assert [x.bitstring for x in r.digest.data[0].struct.members] == [bytes.fromhex("020000000007"), b"\x01\xfe"]
        with pytest.raises(grpc.RpcError) as exc:
            c.write((R.Update.INSERT, R.DigestEntry(digest_id=learn)))
        assert write_errors(exc.value)[0][0] == code_pb2.ALREADY_EXISTS
    finally:
        c.close()


def test_an_internal_error_is_internal_and_one_logged_line(client, program, monkeypatch, caplog):
    from dataplane.p4runtime import translate

    def broken(self, kind, te):
        raise KeyError("boom")
    monkeypatch.setattr(translate.Translator, "write_table_entry", broken)
    monkeypatch.delenv("DATAPLANE_DEBUG", raising=False)
    with pytest.raises(grpc.RpcError) as exc:
        client.write((R.Update.INSERT, exact_entry(program[1], 1, 1)))
    assert exc.value.code() == grpc.StatusCode.INTERNAL
    assert "KeyError" in exc.value.details()
    records = [r for r in caplog.records if r.name == "dataplane.p4runtime"]
    assert records and records[0].exc_info is None and "set DATAPLANE_DEBUG=1" in records[0].getMessage()
