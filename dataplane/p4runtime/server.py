"""A P4Runtime server for one device (what BMv2's simple_switch_grpc offers controllers), on grpcio and the
`p4runtime` package's generated bindings.

`P4RuntimeSwitch` is the device as controllers see it: its pipeline (set by SetForwardingPipelineConfig), its
arbitration state and the lock that guards its tables. A network takes the same lock while it simulates, so
a gRPC thread never touches tables while packets are processed. `Servicer` turns each RPC into calls on it
and every failure into a gRPC status: P4RuntimeError as its code, anything else INTERNAL, logged.
"""

from __future__ import annotations

import logging
import os
import queue
import tempfile
import threading
from concurrent import futures

import grpc
from google.protobuf import any_pb2
from google.rpc import code_pb2, status_pb2
from p4.v1 import p4runtime_pb2 as R
from p4.v1 import p4runtime_pb2_grpc as G

from ..diagnostics import DiagnosticError
from ..runtime.errors import ControlPlaneError
from .arbitration import Arbitration, election_number, not_primary
from .errors import P4RuntimeError, check_exists, invalid, not_found, unimplemented
from .translate import Translator, make_pipeline, to_bytes, to_int

log = logging.getLogger("dataplane.p4runtime")

API_VERSION = "1.4.1"
Action = R.SetForwardingPipelineConfigRequest


class P4RuntimeSwitch:
    """One device behind a P4Runtime server.

    program: the P4 file used when a controller's device config is empty or a BMv2 JSON (as the tutorials'
    controllers send); install(compiled) -> Device puts a new program in place (a network swaps its node's
    device); lock: held around every change, shared with the simulator when there is one."""

    def __init__(self, name: str = "device", device_id: int = 0, program: str | None = None,
                 include_dirs=None, defines=None, install=None, lock=None, cpu_port: int = 510):
        self.name = name
        self.device_id = device_id
        self.program = program
        self.include_dirs = include_dirs
        self.defines = defines
        self.install = install or self._new_device
        self.lock = lock if lock is not None else threading.RLock()
        self.cpu_port = cpu_port
        self.device = None
        self.pipeline = None
        self.saved = None                   # a pipeline verified and saved (VERIFY_AND_SAVE), not yet committed
        self.digest_configs: dict = {}      # digest ID -> DigestEntry.Config: the digests the controller wants
        self.digest_list_id = 0
        self.arbitration = Arbitration()
        # Called (with no arguments) when the primary controller's stream ends while a pipeline is set:
        # `dataplane serve -i` replays its captures then, once the controller has programmed the switch.
        self.on_primary_closed = None

    def _new_device(self, compiled):
        from ..runtime.device import Device
        return Device(compiled, name=self.name)

    # -- checks shared by the RPCs

    def check_device(self, device_id: int) -> None:
        if device_id != self.device_id:
            raise not_found(f"no device with ID {device_id} here (this server's device ID is {self.device_id})")

    def check_primary(self, has_election_id: bool, election_id) -> None:
        eid = election_number(election_id) if has_election_id else 0
        if not self.arbitration.is_primary(eid):
            raise not_primary(eid)

    def translator(self) -> Translator:
        if self.pipeline is None:
            raise P4RuntimeError(grpc.StatusCode.FAILED_PRECONDITION,
                                 "no forwarding pipeline is set: send SetForwardingPipelineConfig first")
        return Translator(self.device, self.pipeline)

    # -- the pipeline

    def set_pipeline(self, request: R.SetForwardingPipelineConfigRequest) -> None:
        self.check_device(request.device_id)
        self.check_primary(request.HasField("election_id"), request.election_id)
        if request.action == Action.UNSPECIFIED:
            raise invalid("SetForwardingPipelineConfig needs an action (VERIFY_AND_COMMIT, ...)")
        if request.action == Action.COMMIT:
            if self.saved is None:
                raise P4RuntimeError(grpc.StatusCode.FAILED_PRECONDITION,
                                     "COMMIT without a pipeline saved by VERIFY_AND_SAVE")
            pipe, self.saved = self.saved, None
            self._commit(pipe)
            return
        cfg = request.config
        compiled = self.compile(cfg.p4_device_config)
        pipe = make_pipeline(compiled, cfg.p4info, cfg.p4_device_config, cfg.cookie.cookie)
        if request.action == Action.VERIFY:
            return
        if request.action == Action.VERIFY_AND_SAVE:
            self.saved = pipe
            return
        self._commit(pipe)

    def _commit(self, pipe) -> None:
        with self.lock:
            self.device = self.install(pipe.compiled)
            self.pipeline = pipe
            self.digest_configs = {}
            self.device.on_digest(self._digest)

    # -- digests: sent as DigestList (one digest each) once the controller asked for them with a DigestEntry

    def write_digest_entry(self, kind: int, entry: R.DigestEntry) -> None:
        ids = {d.preamble.id: d.preamble.name for d in self.pipeline.p4info.digests}
        if entry.digest_id not in ids:
            raise not_found(f"no digest with ID {entry.digest_id} in the P4Info")
        check_exists(kind, entry.digest_id in self.digest_configs,
                     f"digest '{ids[entry.digest_id]}' is already configured",
                     f"digest '{ids[entry.digest_id]}' is not configured")
        if kind == R.Update.DELETE:
            del self.digest_configs[entry.digest_id]
        else:
            self.digest_configs[entry.digest_id] = entry.config

    def read_digest_entries(self, entry: R.DigestEntry):
        for did, config in sorted(self.digest_configs.items()):
            if not entry.digest_id or entry.digest_id == did:
                yield R.DigestEntry(digest_id=did, config=config)

    def _digest(self, digest) -> None:
        pipe, stream = self.pipeline, self.arbitration.primary_stream()
        if pipe is None or stream is None:
            return
        did = next((d.preamble.id for d in pipe.p4info.digests if d.preamble.name == digest.type_name), None)
        if did is None or did not in self.digest_configs:
            return
        self.digest_list_id += 1
        out = R.StreamMessageResponse()
        out.digest.digest_id = did
        out.digest.list_id = self.digest_list_id
        data = out.digest.data.add()
        for value in digest.fields.values():
            data.struct.members.add().bitstring = to_bytes(value)
        out.digest.timestamp = int(digest.time_us * 1000)
        stream.put(out)

    def compile(self, device_config: bytes):
        source = program_source(device_config)
        try:
            if source is None:
                if self.program is None:
                    raise invalid("the device config is not a P4 program and the server was given none: send the "
                                  "program's P4 source as the device config, or start the server with a program")
                return build_cached(self.program, self.include_dirs, self.defines)
            return _build_source(source, self.include_dirs, self.defines)
        except DiagnosticError as exc:
            raise invalid(f"the P4 program does not compile:\n{exc.render()}") from None

    # -- packets to and from the controller (the CPU port, with the @controller_header headers)

    def packet_out(self, packet: R.PacketOut) -> None:
        """Send a controller's packet into the pipeline on the CPU port, its metadata as the packet_out header
        in front of the payload."""
        with self.lock:
            pipe = self.translator().pipe
            fields = controller_fields(pipe.p4info, "packet_out")
            values = {m.metadata_id: m.value for m in packet.metadata}
            bits = 0
            for mid, name, width in fields:
                if mid not in values:
                    raise invalid(f"the PacketOut lacks its metadata '{name}'")
                bits = (bits << width) | to_int(values.pop(mid), width, f"PacketOut metadata '{name}'")
            if values:
                raise invalid(f"the PacketOut has metadata with unknown ID {min(values)}")
            total = sum(w for _, _, w in fields)
            if total % 8:
                raise invalid(f"the packet_out header is {total} bits, not a whole number of bytes")
            frame = bits.to_bytes(total // 8, "big") + packet.payload if fields else packet.payload
            self.inject(frame)

    def inject(self, frame: bytes) -> None:
        """A frame from the controller on the CPU port; the caller holds the lock. On its own the device has
        no links: what it sends back to the CPU port goes to the controller, anything else nowhere (logged)."""
        result = self.device.process(self.cpu_port, frame)
        for port, out in result.outputs:
            if port == self.cpu_port:
                self.packet_in(out)
            else:
                log.info("%s: a packet from the controller left by port %d, which has no link", self.name, port)

    def packet_in(self, frame: bytes) -> bool:
        """Hand a frame the pipeline sent to the CPU port to the primary controller, its packet_in header as
        metadata; False when there is no pipeline or no primary controller to take it."""
        pipe, stream = self.pipeline, self.arbitration.primary_stream()
        if pipe is None or stream is None:
            return False
        fields = controller_fields(pipe.p4info, "packet_in")
        total = sum(w for _, _, w in fields)
        size = (total + 7) // 8
        out = R.StreamMessageResponse()
        if fields and len(frame) >= size:
            bits = int.from_bytes(frame[:size], "big") >> (size * 8 - total)
            shift = total
            for mid, _name, width in fields:
                shift -= width
                out.packet.metadata.add(metadata_id=mid, value=to_bytes((bits >> shift) & ((1 << width) - 1)))
            frame = frame[size:]
        out.packet.payload = frame
        stream.put(out)
        return True

    def get_pipeline(self, request: R.GetForwardingPipelineConfigRequest) -> R.GetForwardingPipelineConfigResponse:
        self.check_device(request.device_id)
        out = R.GetForwardingPipelineConfigResponse()
        pipe = self.pipeline
        if pipe is None:
            return out
        rt = R.GetForwardingPipelineConfigRequest
        out.config.cookie.cookie = pipe.cookie
        if request.response_type in (rt.ALL, rt.P4INFO_AND_COOKIE):
            out.config.p4info.CopyFrom(pipe.p4info)
        if request.response_type in (rt.ALL, rt.DEVICE_CONFIG_AND_COOKIE):
            out.config.p4_device_config = pipe.device_config
        return out

    # -- Write and Read

    def write(self, request: R.WriteRequest) -> list:
        """Apply the updates; returns one P4RuntimeError or None per update."""
        self.check_device(request.device_id)
        self.check_primary(request.HasField("election_id"), request.election_id)
        if request.atomicity != R.WriteRequest.CONTINUE_ON_ERROR:
            raise unimplemented("only CONTINUE_ON_ERROR atomicity is supported")
        with self.lock:
            tr = self.translator()
            return [self._update(tr, u) for u in request.updates]

    def _update(self, tr: Translator, update: R.Update):
        if update.type == R.Update.UNSPECIFIED:
            return invalid("the update has no type (INSERT, MODIFY or DELETE)")
        entity = update.entity
        which = entity.WhichOneof("entity")
        handlers = {
            "table_entry": tr.write_table_entry,
            "action_profile_member": tr.write_member,
            "action_profile_group": tr.write_group,
            "counter_entry": tr.write_counter,
            "direct_counter_entry": tr.write_direct_counter,
            "register_entry": tr.write_register,
            "packet_replication_engine_entry": tr.write_pre,
            "digest_entry": self.write_digest_entry,
        }
        try:
            if which not in handlers:
                raise unimplemented(f"writing {which or 'an empty entity'} is not supported")
            handlers[which](update.type, getattr(entity, which))
        except P4RuntimeError as exc:
            return exc
        return None

    def read(self, request: R.ReadRequest) -> list:
        self.check_device(request.device_id)
        out = []
        with self.lock:
            tr = self.translator()
            handlers = {
                "table_entry": tr.read_table_entries,
                "action_profile_member": tr.read_members,
                "action_profile_group": tr.read_groups,
                "counter_entry": tr.read_counters,
                "direct_counter_entry": tr.read_direct_counters,
                "register_entry": tr.read_registers,
                "packet_replication_engine_entry": tr.read_pre,
                "digest_entry": self.read_digest_entries,
            }
            for entity in request.entities:
                which = entity.WhichOneof("entity")
                if which not in handlers:
                    raise unimplemented(f"reading {which or 'an empty entity'} is not supported")
                for item in handlers[which](getattr(entity, which)):
                    e = R.Entity()
                    getattr(e, which).CopyFrom(item)
                    out.append(e)
        return out


def controller_fields(p4info, name: str) -> list:
    """[(ID, name, width)] of the metadata of the @controller_header("packet_in" / "packet_out") header."""
    for h in p4info.controller_packet_metadata:
        if h.preamble.name == name:
            return [(m.id, m.name, m.bitwidth) for m in h.metadata]
    return []


def program_source(device_config: bytes) -> str | None:
    """The P4 source in a device config: the bytes themselves, or the device_data of a P4DeviceConfig (what
    the tutorials' p4runtime_lib sends); None when there is none (empty, or a BMv2 JSON)."""
    text = _text(device_config)
    if text is None:
        text = _text(_device_data(device_config))
        if text is None:
            raise invalid("the device config's device_data is not P4 source text")
    if not text.strip() or text.lstrip().startswith("{"):
        return None
    return text


def _device_data(device_config: bytes) -> bytes:
    """The device_data (field 3) of a serialized p4.tmp.P4DeviceConfig. The `p4runtime` package no longer
    ships p4.tmp, so the message is read as an Empty whose fields are all unknown."""
    from google.protobuf import empty_pb2
    from google.protobuf.message import DecodeError
    try:
        fields = empty_pb2.Empty.FromString(device_config).UnknownFields()
    except DecodeError:
        raise invalid("the device config is neither P4 source text nor a P4DeviceConfig") from None
    for f in fields:
        if f.field_number == 3 and isinstance(f.data, bytes):
            return f.data
    raise invalid("the device config is a P4DeviceConfig without device_data")


def _text(data: bytes) -> str | None:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    if any(ord(c) < 32 and c not in "\t\n\r\f\v" for c in text):
        return None
    return text


_compiled_cache: dict = {}
_cache_lock = threading.Lock()


def build_cached(path: str, include_dirs, defines):
    from ..build import build
    key = ("path", os.path.abspath(path), tuple(include_dirs or ()), tuple(sorted((defines or {}).items())))
    with _cache_lock:
        if key not in _compiled_cache:
            _compiled_cache[key] = build(path, include_dirs, defines)
        return _compiled_cache[key]


def _build_source(source: str, include_dirs, defines):
    """Compile P4 source text (several switches pushing one program compile it once)."""
    key = ("source", source, tuple(include_dirs or ()), tuple(sorted((defines or {}).items())))
    with _cache_lock:
        if key in _compiled_cache:
            return _compiled_cache[key]
    from ..build import build
    with tempfile.TemporaryDirectory(prefix="dataplane-p4rt-") as tmp:
        path = os.path.join(tmp, "program.p4")
        with open(path, "w", encoding="utf-8") as f:
            f.write(source)
        compiled = build(path, include_dirs, defines)
    with _cache_lock:
        _compiled_cache[key] = compiled
    return compiled


# ---------------------------------------------------------------------------- gRPC


class _Stream:
    """The responses waiting to go out on one StreamChannel; None ends it, a P4RuntimeError aborts it."""

    def __init__(self) -> None:
        self.queue: queue.Queue = queue.Queue()

    def put(self, item) -> None:
        self.queue.put(item)


class Servicer(G.P4RuntimeServicer):
    def __init__(self, switch: P4RuntimeSwitch):
        self.switch = switch

    def _run(self, context, fn):
        try:
            return fn()
        except P4RuntimeError as exc:
            err = exc
        except (DiagnosticError, ControlPlaneError) as exc:
            err = invalid(exc.render() if isinstance(exc, DiagnosticError) else str(exc))
        except Exception as exc:     # noqa: BLE001 - the server answers INTERNAL rather than dying
            _log_internal(exc, "a P4Runtime request")
            err = P4RuntimeError(grpc.StatusCode.INTERNAL, f"internal error: {type(exc).__name__}: {exc}")
        context.abort(err.code, err.message)

    def Write(self, request, context):
        errors = self._run(context, lambda: self.switch.write(request))
        if not any(errors):
            return R.WriteResponse()
        status = status_pb2.Status(code=code_pb2.UNKNOWN, message=_summary(errors))
        for err in errors:
            e = R.Error(canonical_code=err.code.value[0], message=err.message) if err else \
                R.Error(canonical_code=code_pb2.OK)
            detail = any_pb2.Any()
            detail.Pack(e)
            status.details.append(detail)
        context.set_trailing_metadata((("grpc-status-details-bin", status.SerializeToString()),))
        context.abort(grpc.StatusCode.UNKNOWN, status.message)

    def Read(self, request, context):
        entities = self._run(context, lambda: self.switch.read(request))
        # Chunks keep each response well under gRPC's default message size.
        for start in range(0, len(entities), 1000):
            yield R.ReadResponse(entities=entities[start:start + 1000])
        if not entities:
            yield R.ReadResponse()

    def SetForwardingPipelineConfig(self, request, context):
        self._run(context, lambda: self.switch.set_pipeline(request))
        return R.SetForwardingPipelineConfigResponse()

    def GetForwardingPipelineConfig(self, request, context):
        return self._run(context, lambda: self.switch.get_pipeline(request))

    def Capabilities(self, request, context):
        return R.CapabilitiesResponse(p4runtime_api_version=API_VERSION)

    def StreamChannel(self, request_iterator, context):
        stream = _Stream()
        switch = self.switch
        threading.Thread(target=self._read_stream, args=(request_iterator, stream), daemon=True,
                         name=f"p4runtime-stream-{switch.name}").start()
        context.add_callback(lambda: (self._leave(stream), stream.put(None)))
        while True:
            item = stream.queue.get()
            if item is None:
                break
            if isinstance(item, P4RuntimeError):
                self._leave(stream)
                context.abort(item.code, item.message)
            yield item
        self._leave(stream)

    def _read_stream(self, request_iterator, stream: _Stream) -> None:
        switch = self.switch
        try:
            for msg in request_iterator:
                which = msg.WhichOneof("update")
                try:
                    if which == "arbitration":
                        switch.check_device(msg.arbitration.device_id)
                        for target, response in switch.arbitration.update(stream, switch.device_id,
                                                                          msg.arbitration):
                            target.put(response)
                    elif which == "packet":
                        self._packet_out(stream, msg)
                    elif which == "digest_ack":
                        pass          # digests are sent one by one, never held back for an ack
                    else:
                        stream.put(_stream_error(msg, which))
                except P4RuntimeError as exc:
                    stream.put(exc)
                    return
                except Exception as exc:     # noqa: BLE001 - logged; the stream ends with INTERNAL
                    _log_internal(exc, "a P4Runtime stream")
                    stream.put(P4RuntimeError(grpc.StatusCode.INTERNAL, "internal error in the stream"))
                    return
        except grpc.RpcError:
            pass                      # the client went away
        finally:
            self._leave(stream)
            stream.put(None)

    def _packet_out(self, stream: _Stream, msg: R.StreamMessageRequest) -> None:
        """A PacketOut from the primary goes in; a problem with it is a stream error, not the stream's end."""
        switch = self.switch
        if switch.arbitration.primary_stream() is not stream:
            stream.put(_stream_error(msg, "packet", code_pb2.PERMISSION_DENIED,
                                     "only the primary controller may send packets"))
            return
        try:
            switch.packet_out(msg.packet)
        except P4RuntimeError as exc:
            stream.put(_stream_error(msg, "packet", exc.code.value[0], exc.message))

    def _leave(self, stream: _Stream) -> None:
        switch = self.switch
        was_primary = switch.arbitration.primary_stream() is stream
        for target, response in switch.arbitration.remove(stream, switch.device_id):
            target.put(response)
        if was_primary and switch.pipeline is not None and switch.on_primary_closed is not None:
            switch.on_primary_closed()


def _stream_error(msg: R.StreamMessageRequest, which: str | None, code: int = code_pb2.UNIMPLEMENTED,
                  message: str | None = None) -> R.StreamMessageResponse:
    out = R.StreamMessageResponse()
    out.error.canonical_code = code
    out.error.message = message or f"stream messages of kind {which or 'none'} are not supported"
    if which == "packet":
        out.error.packet_out.packet_out.CopyFrom(msg.packet)
    return out


def _log_internal(exc: Exception, where: str) -> None:
    """One line, as the command line reports its own internal errors; the traceback with DATAPLANE_DEBUG."""
    log.error("internal error in %s: %s: %s (this is a bug in dataplane; set DATAPLANE_DEBUG=1 for details)",
              where, type(exc).__name__, exc, exc_info=exc if os.environ.get("DATAPLANE_DEBUG") else None)


def _summary(errors: list) -> str:
    failed = [e for e in errors if e is not None]
    if len(failed) == 1:
        return failed[0].message
    return f"{len(failed)} of {len(errors)} updates failed"


def start_server(switch: P4RuntimeSwitch, address: str, workers: int = 16) -> grpc.Server:
    """Serve the switch on `address` (host:port); the caller stops it with server.stop(grace)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix=f"p4rt-{switch.name}"))
    G.add_P4RuntimeServicer_to_server(Servicer(switch), server)
    try:
        bound = server.add_insecure_port(address)
    except RuntimeError:
        bound = 0
    if not bound:
        raise P4RuntimeError(grpc.StatusCode.UNAVAILABLE, f"cannot listen on {address} (is the port in use?)")
    server.start()
    return server
