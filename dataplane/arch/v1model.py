"""The v1model architecture at run time: what BMv2's simple_switch does around the P4 blocks.

Order of events (as in BMv2's simple_switch):

ingress pass
    parser (errors set standard_metadata.parser_error; ingress still runs),
    VerifyChecksum, Ingress; then, in this order:
    - ingress clone (clone/clone_preserving_field_list with I2E): the
      *original* packet is parsed again, metadata reset except the
      preserved field list, instance_type 1, sent to the clone session;
    - resubmit: the original packet goes through ingress again with the
      preserved fields, instance_type 6, and nothing else happens to it;
    - multicast (mcast_grp != 0): one copy per member of the group, with
      egress_rid set, instance_type 5; the original is discarded;
    - egress_spec 511: dropped;
    - otherwise sent to egress on port egress_spec (instance_type 0).
egress pass
    egress_port set, egress_spec reset, the queueing fields set (the
    device's queueing(): in a network, from the egress link's transmit
    queue), Egress; then
    - egress clone (E2E): a copy with the headers as they are and the
      metadata reset except the preserved field list, instance_type 2;
    - egress_spec 511: dropped;
    - ComputeChecksum, Deparser; truncate;
    - recirculate: the deparsed packet goes through ingress again,
      instance_type 4, with the preserved fields;
    - otherwise the packet leaves on egress_port.

Resubmission, recirculation and chains of egress clones are bounded
(MAX_PASSES per packet); a packet that exceeds the bound is dropped with a
reason, never loops forever.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field

from ..runtime.errors import ControlPlaneError
from ..runtime.trace import Drop, DropReason, Note, Output, PacketIn, StageStart

NORMAL, INGRESS_CLONE, EGRESS_CLONE, RECIRCULATED, REPLICATED, RESUBMITTED = 0, 1, 2, 4, 5, 6
DROP_PORT = 511
# The numbers a v1model switch can be configured with, as BMv2 simple_switch has them:
# ports are 9 bits and 511 is the drop port, so real ports are 0..510; mirroring (clone)
# session ids are 0..32767 (simple_switch refuses larger ones with "mirror_id out of
# range"); standard_metadata.mcast_grp and egress_rid are bit<16>, and group 0 means "no
# multicast", so a group that could ever be used is 1..65535.
MAX_PORT = DROP_PORT - 1
MAX_CLONE_SESSION = (1 << 15) - 1
MAX_MCAST_GROUP = (1 << 16) - 1
MAX_RID = (1 << 16) - 1


class ConfigRangeError(ControlPlaneError):
    """A number a v1model switch cannot be configured with. `what` names the number ("port",
    "session", ...) so that a front end can point at the place in its input that gave it."""

    def __init__(self, what: str, value, message: str):
        super().__init__(message)
        self.what = what
        self.value = value


def _check_range(what: str, value, low: int, high: int, why: str, of: str) -> int:
    # bool is an int in Python, but True is no port number.
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise ConfigRangeError(what, value, f"{what} {value}{of} is out of range: {why}")
    return value


# `what` names the number in the message; `of` says whose it is (" of clone session 5").

def check_port(port, what: str = "port", of: str = "") -> int:
    return _check_range(what, port, 0, MAX_PORT, "v1model ports are 0..510 (9 bits; 511 is the drop port)", of)


def check_clone_session(session, what: str = "clone session", of: str = "") -> int:
    return _check_range(what, session, 0, MAX_CLONE_SESSION, "BMv2 mirroring session ids are 0..32767", of)


def check_mcast_group(group, what: str = "multicast group", of: str = "") -> int:
    return _check_range(what, group, 1, MAX_MCAST_GROUP, "multicast groups are 1..65535 (mcast_grp is "
                                                         "bit<16>; 0 means no multicast)", of)


def check_rid(rid, what: str = "replication id", of: str = "") -> int:
    return _check_range(what, rid, 0, MAX_RID, "replication ids (egress_rid) are 0..65535", of)
MAX_PASSES = 16        # resubmissions plus recirculations of one packet
MAX_WORK = 65536       # ingress and egress passes for one received packet (copies included)


@dataclass
class Work:
    kind: str              # "ingress" or "egress"
    port: int
    data: bytes | None = None
    state: object = None
    instance_type: int = NORMAL
    preserved: dict = field(default_factory=dict)
    passes: int = 0


def outputs_and_drops(hop) -> tuple:
    """(outputs, drops) of a hop result, for callers that are not on a hot path.

    A hop result is what the generated fast(port, data) returns (and Device.unguarded's function):
    - `(port, frame)`, port an int: the packet left on that one port, nothing was dropped (the common case,
      without the list and tuples of (outputs, drops) to build and take apart again on every packet);
    - `(None, (outputs, drops))`: anything else, as V1SwitchRunner.process gives it; the general
      machinery's results (a packet cloned, resubmitted, recirculated, multicast) are such pairs even when
      one frame left.
    outputs is [(port, frame)], drops [(DropReason, detail)]."""
    port, frame = hop
    if port is None:
        return frame
    return [(port, frame)], ()


class V1SwitchRunner:
    def __init__(self, device):
        self.dev = device
        self.State = device.program.State
        self.field_lists = device.program.field_lists
        # Skip setting metadata that the program never reads (the fast path is per packet).
        self.uses_timestamps = device.program.uses_timestamps
        self.uses_queueing = device.program.uses_queueing

    # -- helpers -----------------------------------------------------------------------------------

    def _preserved(self, p, fl: int) -> dict:
        """The metadata fields of field list fl - 1 (generated code stores index + 1; 0 means none)."""
        if not fl:
            return {}
        return {n: getattr(p, n) for n in self.field_lists.get(fl - 1, ())}

    def _reset_metadata_copy(self, p):
        """A copy of p with its headers and all metadata reset (BMv2: clone_with_phv_reset_metadata)."""
        c = self.State()
        for k, v in p.__dict__.items():
            if k.startswith("h_"):
                setattr(c, k, v)
        c._payload = p._payload
        return c

    # -- one packet ---------------------------------------------------------------------------------

    def process(self, port: int, data: bytes, trace=None):
        """Run a packet through the switch. Returns (outputs, drops): [(port, bytes)], [(reason, detail)]."""
        stages = self.dev.stages(trace is not None)
        outputs: list[tuple[int, bytes]] = []
        drops: list[tuple[DropReason, str]] = []
        work = deque([Work("ingress", port, data)])
        self._drain(work, stages, outputs, drops, trace)
        return outputs, drops

    def _drop(self, drops, trace, reason: DropReason, detail: str = "") -> None:
        drops.append((reason, detail))
        if trace is not None:
            trace(Drop(reason, detail))

    def _new_state(self, port: int, length: int, instance_type: int):
        p = self.State()
        p.s_ingress_port = port
        p.s_packet_length = length
        p.s_instance_type = instance_type
        p.s_ingress_global_timestamp = int(self.dev.now_us) & 0xFFFFFFFFFFFF
        return p

    def _ingress(self, w: Work, stages, work, drops, trace) -> None:
        data = w.data
        if trace is not None:
            trace(PacketIn(w.port, len(data), w.instance_type))
        p = self._new_state(w.port, len(data), w.instance_type)
        for k, v in w.preserved.items():
            setattr(p, k, v)
        if trace is not None:
            trace(StageStart("parser", stages["names"]["parse"]))
        off = stages["parse"](p, data)
        p._payload = data[off:]
        if trace is not None:
            trace(StageStart("verify checksum", stages["names"]["verify"]))
        stages["verify"](p)
        if trace is not None:
            trace(StageStart("ingress", stages["names"]["ingress"]))
        stages["ingress"](p)
        self._after_ingress(p, w, stages, work, drops, trace)

    def _take_clone(self, p) -> tuple[int, dict, object]:
        """The clone a block asked for: its session, the preserved field list, the session's configuration."""
        session = p._clone_session & 0xFFFFFFFF
        preserved = self._preserved(p, p._clone_fl)
        p._clone_session = 0
        return session, preserved, self.dev.clone_sessions.get(session)

    def _after_ingress(self, p, w: Work, stages, work, drops, trace) -> None:
        data = w.data
        if p._assert_failed is not None:
            self._drop(drops, trace, DropReason.ASSERTION_FAILED, p._assert_failed)
            return
        if p._loop_limit is not None:
            self._drop(drops, trace, DropReason.FOR_LOOP_LIMIT, p._loop_limit)
            return
        # Ingress clone: the original packet, parsed again.
        if p._clone_session:
            session, preserved, cfg = self._take_clone(p)
            if cfg is None:
                if trace is not None:
                    trace(Note(f"  clone to session {session} ignored: the session is not configured"))
            else:
                c = self._new_state(w.port, len(data), INGRESS_CLONE)
                off2 = stages["parse"](c, data)
                c._payload = data[off2:]
                # BMv2 resets all metadata after parsing the clone, then copies the field list.
                for s in list(c.__dict__):
                    if s.startswith(("m_", "s_")):
                        delattr(c, s)
                for k, v in preserved.items():
                    setattr(c, k, v)
                c.s_instance_type = INGRESS_CLONE
                c.s_packet_length = len(data)
                if trace is not None:
                    trace(Note(f"  ingress clone to session {session}"))
                self._to_session(c, cfg, work, drops, trace, w.passes)
        # Resubmit: ingress again, nothing else.
        if p._resubmit_fl:
            if w.passes + 1 >= MAX_PASSES:
                self._drop(drops, trace, DropReason.RESUBMIT_LIMIT, f"{MAX_PASSES} passes")
                return
            preserved = self._preserved(p, p._resubmit_fl)
            if trace is not None:
                trace(Note("  resubmitted"))
            work.append(Work("ingress", w.port, data, None, RESUBMITTED, preserved, w.passes + 1))
            return
        mgid = p.s_mcast_grp
        if mgid:
            p.s_instance_type = REPLICATED
            self._multicast(p, mgid, work, drops, trace, w.passes)
            return
        spec = p.s_egress_spec
        if spec == DROP_PORT:
            self._drop(drops, trace, DropReason.MARK_TO_DROP)
            return
        p.s_instance_type = NORMAL
        p._special = False
        work.append(Work("egress", spec, None, p, NORMAL, passes=w.passes))

    # -- the common case, without tracing -------------------------------------------------------
    # The generated pipeline's fast(port, data) handles a packet that is simply forwarded or
    # dropped, and gives a hop result (see outputs_and_drops); when the program clones, resubmits,
    # multicasts or recirculates it, fast() calls one of these to finish the packet with the general
    # machinery.

    # fast()'s results for a packet it drops (hop results, made once).
    DROPPED_AT_INGRESS = (None, ([], [(DropReason.MARK_TO_DROP, "")]))
    DROPPED_AT_EGRESS = (None, ([], [(DropReason.EGRESS_DROP, "")]))
    DROPPED_TRUNCATED = (None, ([], [(DropReason.TRUNCATED_TO_NOTHING, "")]))

    def continue_after_ingress(self, p, port: int, data: bytes):
        st = self.dev.stages(False)
        outputs, drops = [], []
        work = deque()
        self._after_ingress(p, Work("ingress", port, data), st, work, drops, None)
        self._drain(work, st, outputs, drops, None)
        return outputs, drops

    def continue_after_egress(self, p, port: int):
        st = self.dev.stages(False)
        outputs, drops = [], []
        work = deque()
        self._after_egress(p, Work("egress", port, None, p), st, work, outputs, drops, None)
        self._drain(work, st, outputs, drops, None)
        return outputs, drops

    def process_fast(self, port: int, data: bytes):
        """process() without a trace, through the generated fast(): (outputs, drops)."""
        return outputs_and_drops(self.dev.stages(False)["fast"](port, data))

    def _drain(self, work, stages, outputs, drops, trace) -> None:
        done = 0
        while work:
            done += 1
            if done > MAX_WORK:
                self._drop(drops, trace, DropReason.LOOP_LIMIT, f"{len(work)} copies still pending after "
                                                                f"{MAX_WORK} passes")
                work.clear()
                return
            w = work.popleft()
            if w.kind == "ingress":
                self._ingress(w, stages, work, drops, trace)
            else:
                self._egress(w, stages, work, outputs, drops, trace)

    def _multicast(self, p, mgid: int, work, drops, trace, passes: int = 0) -> None:
        group = self.dev.mcast_groups.get(mgid)
        if group is None:
            self._drop(drops, trace, DropReason.UNKNOWN_MULTICAST_GROUP, f"group {mgid}")
            return
        if not group:
            self._drop(drops, trace, DropReason.EMPTY_MULTICAST_GROUP, f"group {mgid}")
            return
        if trace is not None:
            trace(Note(f"  multicast group {mgid}: ports {', '.join(str(port) for port, _ in group)}"))
        for port, rid in group:
            c = p.copy()
            c.s_egress_rid = rid & 0xFFFF
            work.append(Work("egress", port, None, c, c.s_instance_type, passes=passes))

    def _to_session(self, c, cfg, work, drops, trace, passes: int) -> None:
        port, mgid = cfg
        if mgid:
            self._multicast(c, mgid, work, drops, trace, passes)
        if port is not None:
            work.append(Work("egress", port, None, c, c.s_instance_type, passes=passes))

    def _egress(self, w: Work, stages, work, outputs, drops, trace) -> None:
        dev = self.dev
        p = w.state
        p.s_egress_port = w.port & 0x1FF
        p.s_egress_spec = 0      # BMv2 sets drop_port + 1, which is 0 in 9 bits
        p.s_egress_global_timestamp = int(dev.now_us) & 0xFFFFFFFFFFFF
        dev.queueing(p, w.port)
        if trace is not None:
            trace(StageStart(f"egress port {w.port}", stages["names"]["egress"]))
        stages["egress"](p)
        self._after_egress(p, w, stages, work, outputs, drops, trace)

    def _after_egress(self, p, w: Work, stages, work, outputs, drops, trace) -> None:
        if p._assert_failed is not None:
            self._drop(drops, trace, DropReason.ASSERTION_FAILED, p._assert_failed)
            return
        if p._loop_limit is not None:
            self._drop(drops, trace, DropReason.FOR_LOOP_LIMIT, p._loop_limit)
            return
        if p._clone_session:
            session, preserved, cfg = self._take_clone(p)
            if cfg is not None and w.passes + 1 >= MAX_PASSES:
                # An egress clone goes through egress again and may clone again: bound the chain.
                self._drop(drops, trace, DropReason.CLONE_LIMIT, f"{MAX_PASSES} passes")
            elif cfg is not None:
                c = self._reset_metadata_copy(p)
                for k, v in preserved.items():
                    setattr(c, k, v)
                c.s_instance_type = EGRESS_CLONE
                c.s_packet_length = p.s_packet_length
                if trace is not None:
                    trace(Note(f"  egress clone to session {session}"))
                self._to_session(c, cfg, work, drops, trace, w.passes + 1)
        if p.s_egress_spec == DROP_PORT:
            self._drop(drops, trace, DropReason.EGRESS_DROP)
            return
        if trace is not None:
            trace(StageStart("compute checksum", stages["names"]["compute"]))
        stages["compute"](p)
        if trace is not None:
            trace(StageStart("deparser", stages["names"]["deparse"]))
        out = stages["deparse"](p)
        pkt = b"".join(out) + p._payload
        if p._truncate:
            pkt = pkt[:p._truncate]
        if p._recirc_fl:
            if w.passes + 1 >= MAX_PASSES:
                self._drop(drops, trace, DropReason.RECIRCULATE_LIMIT, f"{MAX_PASSES} passes")
                return
            preserved = self._preserved(p, p._recirc_fl)
            if trace is not None:
                trace(Note("  recirculated"))
            work.append(Work("ingress", 0, pkt, None, RECIRCULATED, preserved, w.passes + 1))
            return
        if not pkt:
            self._drop(drops, trace, DropReason.TRUNCATED_TO_NOTHING)
            return
        if trace is not None:
            trace(Output(w.port, len(pkt)))
        outputs.append((w.port, pkt))
