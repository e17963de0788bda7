"""Primary / backup arbitration among a device's StreamChannel clients (P4Runtime spec, 5. Client Arbitration).

Each stream announces an election ID; the stream with the highest is the primary and is the only one that may
write. Every MasterArbitrationUpdate a stream sends is answered with the primary's election ID and OK for the
primary, ALREADY_EXISTS for a backup; when the primary changes, every stream is told. Without a primary (it
left) the answer is NOT_FOUND with the highest election ID seen. Only the default role is kept apart.
"""

from __future__ import annotations

import threading

import grpc
from p4.v1 import p4runtime_pb2 as R

from .errors import P4RuntimeError, invalid


def election_number(uint128) -> int:
    return (uint128.high << 64) | uint128.low


class Arbitration:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.elections: dict = {}          # stream -> election ID (an int)
        self.highest_seen: int | None = None

    def primary_id(self) -> int | None:
        return max(self.elections.values()) if self.elections else None

    def primary_stream(self):
        with self.lock:
            primary = self.primary_id()
            return next((s for s, e in self.elections.items() if e == primary), None)

    def is_primary(self, election_id: int) -> bool:
        with self.lock:
            return self.elections and election_id == self.primary_id()

    def update(self, stream, device_id: int, request: R.MasterArbitrationUpdate) -> list:
        """Record a stream's election ID; returns [(stream, response)] to send."""
        if not request.HasField("election_id"):
            raise invalid("the arbitration update has no election ID (only controllers with one are supported)")
        eid = election_number(request.election_id)
        with self.lock:
            for other, other_id in self.elections.items():
                if other is not stream and other_id == eid:
                    raise invalid(f"election ID {eid} is already used by another controller")
            before = self.primary_id()
            self.elections[stream] = eid
            self.highest_seen = max(eid, self.highest_seen or 0)
            after = self.primary_id()
            targets = list(self.elections) if after != before else [stream]
            return [(s, self._response(s, device_id, request.role)) for s in targets]

    def remove(self, stream, device_id: int) -> list:
        with self.lock:
            before = self.primary_id()
            if self.elections.pop(stream, None) is None:
                return []
            if self.primary_id() == before:
                return []
            return [(s, self._response(s, device_id, R.Role())) for s in self.elections]

    def _response(self, stream, device_id: int, role) -> R.StreamMessageResponse:
        out = R.StreamMessageResponse()
        a = out.arbitration
        a.device_id = device_id
        if role.name:
            a.role.CopyFrom(role)
        primary = self.primary_id()
        shown = primary if primary is not None else self.highest_seen
        if shown is not None:
            a.election_id.high, a.election_id.low = shown >> 64, shown & ((1 << 64) - 1)
        if primary is None:
            a.status.code = grpc.StatusCode.NOT_FOUND.value[0]
            a.status.message = "there is no primary controller"
        elif self.elections.get(stream) == primary:
            a.status.code = grpc.StatusCode.OK.value[0]
            a.status.message = "this controller is the primary"
        else:
            a.status.code = grpc.StatusCode.ALREADY_EXISTS.value[0]
            a.status.message = "this controller is a backup: another one has a higher election ID"
        return out


def not_primary(election_id: int) -> P4RuntimeError:
    return P4RuntimeError(grpc.StatusCode.PERMISSION_DENIED,
                          f"election ID {election_id} is not the primary controller's: only the primary may write")
