"""Run the columnar form of a program over a batch of packets: parse, controls, fates, deparse.

The v1model steps are the scalar engine's (arch/v1model.py and the generated `fast` function): the
parser stops at its first error and the packet goes on with what it extracted; egress_spec 511 at
the end of ingress drops the packet (mark_to_drop), else it becomes egress_port and egress runs;
511 at the end of egress drops it too; then the checksum control and the deparser, whose headers
are followed by the bytes the parser did not consume.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..compiler.carried_state import carried_state
from ..runtime.trace import DropReason
from .packets import RECORD_HEADER, Batch, record_headers
from .program import BatchProgram, Ctx, Unsupported, compile_batch
from .tables import ColumnTable

U64 = np.uint64
KEPT, MARK_TO_DROP, EGRESS_DROP = 0, 1, 2
DROP_REASONS = {MARK_TO_DROP: DropReason.MARK_TO_DROP, EGRESS_DROP: DropReason.EGRESS_DROP}


def batch_form(program) -> BatchProgram:
    """The columnar form of a CompiledProgram (compiled once); raises Unsupported when it has none."""
    form = getattr(program, "_batch_form", None)
    if form is None:
        try:
            form = compile_batch(program)
        except Unsupported as exc:
            form = exc
        program._batch_form = form
    if isinstance(form, Unsupported):
        raise form
    return form


def why_not_batch(program) -> Unsupported | None:
    """None if the batch engine runs this program, else what keeps it out (with its source span): first
    state carried from one packet to the next (the rule `replay --shards` shares), then any construct
    the columnar form lacks."""
    carried = carried_state(program)
    if carried is not None:
        why = Unsupported(carried.what)
        why.span = carried.span
        return why
    try:
        batch_form(program)
    except Unsupported as exc:
        return exc
    return None


@dataclass
class BatchResult:
    """What became of every packet: its fate (KEPT or a drop), its egress port, and its output bytes.

    Most programs leave every header where the parser found it: then `patches` says which bytes of the
    input packet change ([(rows, offset in the packet, n x k bytes)]) and the output is the input with
    those bytes written over it. Otherwise (patches is None) the output is the deparsed headers,
    `hdr_bytes[i, :hdr_len[i]]`, then the input from `payload_from[i]` on."""
    batch: Batch
    fate: np.ndarray
    egress_port: np.ndarray
    hdr_bytes: np.ndarray | None
    hdr_len: np.ndarray
    payload_from: np.ndarray
    patches: list | None = None
    head: np.ndarray | None = None      # the first bytes of every packet, as parsed (with patches)

    def out_counts(self) -> dict[int, int]:
        counts = np.bincount(self.egress_port[self.fate == KEPT], minlength=1)
        return {int(p): int(counts[p]) for p in np.nonzero(counts)[0]}

    def drop_counts(self) -> dict[str, int]:
        codes = np.bincount(self.fate, minlength=len(DROP_REASONS) + 1)
        return {reason.name.lower(): int(codes[code]) for code, reason in DROP_REASONS.items() if codes[code]}

    def packets(self, port: int) -> list[bytes]:
        """The output packets of one port, in order (for tests and small runs): its pcap records split."""
        body = self.pcap_bodies(self.batch.times).get(port)
        out = []
        pos = 0
        data = body.tobytes() if body is not None else b""
        while pos < len(data):
            length = int.from_bytes(data[pos + 8:pos + 12], "little")
            out.append(data[pos + 16:pos + 16 + length])
            pos += 16 + length
        return out

    def pcap_bodies(self, times: np.ndarray) -> dict[int, np.ndarray]:
        """The records of every port's output pcap (everything after the file header), as bytes in numpy
        arrays, made in one pass for all ports: the kept packets in order of port (and of arrival within
        a port), each port's records then one slice."""
        kept = self.fate == KEPT
        ports = self.out_counts()
        rows = np.nonzero(kept)[0]
        port_of = self.egress_port[rows]
        if len(ports) > 1:
            order = np.argsort(port_of.astype(np.uint16), kind="stable")
            rows, port_of = rows[order], port_of[order]
        if self.patches is not None:
            flat, rec_pos = self._patched_records(rows, times)
        else:
            flat, rec_pos = self._deparsed_records(rows, times)
        first = np.searchsorted(port_of, list(ports))
        ends = np.append(rec_pos, len(flat))
        bounds = ends[np.append(first, len(rows))]
        return {port: flat[bounds[i]:bounds[i + 1]] for i, port in enumerate(ports)}

    def _patched_records(self, rows: np.ndarray, times: np.ndarray):
        """Packets that keep their layout: the input records, with new record headers and patches."""
        b = self.batch
        n = len(rows)
        lengths = b.lengths[rows]
        records = b.records()
        if records is None:
            flat, rec_pos = _segments(b.buf, b.starts[rows] - RECORD_HEADER, lengths + RECORD_HEADER)
            _put(flat, rec_pos, record_headers(times[rows], lengths))
            for valid, offset, data in self.patches:
                sel = valid[rows]
                _put(flat, rec_pos[sel] + RECORD_HEADER + offset[rows[sel]], data[rows[sel]])
            return flat, rec_pos
        if n == len(records) and (n == 0 or (rows[0] == 0 and (np.diff(rows) == 1).all())):
            whole = records.copy()
        else:
            whole = np.take(records, rows, axis=0)
        # The changed front of every record (record header, then the packet up to its last patched byte,
        # from the patched head) is written over the copied records at once; the record headers as they
        # are when the input's are the ones to write.
        end = max([lo + k for lo, k in (_patch_end(p) for p in self.patches)] + [0])
        keep_heads = b.heads_as_written and bool((times == b.times).all())
        start = RECORD_HEADER if keep_heads else 0
        if end or not keep_heads:
            front = np.empty((n, RECORD_HEADER + end - start), dtype=np.uint8)
            front[:, RECORD_HEADER - start:] = np.take(self.head[:, :end], rows, axis=0)
            if not keep_heads:
                front[:, :RECORD_HEADER] = record_headers(times[rows], lengths)
            _set_columns(whole, start, front)
        return whole.reshape(-1), np.arange(n, dtype=np.int64) * whole.shape[1]

    def _deparsed_records(self, rows: np.ndarray, times: np.ndarray):
        """Packets whose headers moved: record header, deparsed headers, the rest of the input."""
        b = self.batch
        hl = self.hdr_len[rows]
        pf = self.payload_from[rows]
        out_len = hl + b.lengths[rows] - pf
        heads = record_headers(times[rows], out_len)
        n = len(rows)
        hw = self.hdr_bytes.shape[1]
        src = np.concatenate([b.buf, self.hdr_bytes[rows].ravel(), heads.ravel()])
        hdr_base = len(b.buf)
        head_base = hdr_base + n * hw
        k = np.arange(n, dtype=np.int64)
        seg_src = np.stack([head_base + 16 * k, hdr_base + hw * k, b.starts[rows] + pf], axis=1).ravel()
        seg_len = np.stack([np.full(n, 16, dtype=np.int64), hl, out_len - hl], axis=1).ravel()
        flat, seg_pos = _segments(src, seg_src, seg_len)
        return flat, seg_pos[::3]


def _segments(src: np.ndarray, starts: np.ndarray, lengths: np.ndarray):
    """The segments src[starts[i]:starts[i] + lengths[i]] one after the other, and where each begins in
    the result. Segments of one length are copied together, as rows of sliding-window views of the
    source and of the result (a row copy each), so the work is per distinct length, not per packet."""
    pos = np.cumsum(lengths) - lengths
    total = int(lengths.sum()) if len(lengths) else 0
    out = np.empty(total, dtype=np.uint8)
    if total == 0:
        return out, pos
    order = np.argsort(lengths, kind="stable")
    by_length = lengths[order]
    cuts = np.concatenate([[0], np.flatnonzero(np.diff(by_length)) + 1, [len(order)]])
    for a, b in zip(cuts[:-1].tolist(), cuts[1:].tolist()):
        k = int(by_length[a])
        if k == 0:
            continue
        sel = order[a:b]
        _windows(out, k)[pos[sel]] = _windows(src, k)[starts[sel]]
    return out, pos


def _windows(buf: np.ndarray, k: int) -> np.ndarray:
    """Every k bytes of a contiguous byte buffer from every position, as rows (a view, writeable when the
    buffer is); made directly, as sliding_window_view costs tens of microseconds a call."""
    return np.ndarray((len(buf) - k + 1, k), dtype=np.uint8, buffer=buf, strides=(1, 1))


def _patch_end(patch) -> tuple[int, int]:
    """(the largest offset, width) of a patch's rows."""
    valid, offset, data = patch
    return (int(offset[valid].max()) if valid.any() else 0), data.shape[1]


def _set_columns(whole: np.ndarray, c: int, data: np.ndarray) -> None:
    """whole[:, c:c + k] = data (m x k), a row at a time as one k-byte item (far faster than bytes)."""
    k = data.shape[1]
    if k and len(data):
        item = np.dtype((np.void, k))
        whole[:, c:c + k].view(item)[:, 0] = np.ascontiguousarray(data).view(item)[:, 0]


def _patch_rows(head: np.ndarray, valid: np.ndarray, offset: np.ndarray, data: np.ndarray) -> None:
    """head[i, offset[i]:offset[i] + k] = data[i] in the rows where valid."""
    k = data.shape[1]
    if valid.all() and len(offset) and offset.min() == offset.max():
        _set_columns(head, int(offset[0]), data)
    else:
        rows = np.nonzero(valid)[0]
        head[rows[:, None], offset[rows][:, None] + np.arange(k)] = data[rows]


def _put(flat: np.ndarray, at: np.ndarray, data: np.ndarray) -> None:
    """flat[at[i]:at[i] + k] = data[i] for every row i of an m x k matrix."""
    k = data.shape[1]
    if len(at) and k:
        _windows(flat, k)[at] = data


class BatchEngine:
    """The columnar form of a device's program, run with the device's table entries."""

    def __init__(self, device):
        self.device = device
        self.form = batch_form(device.program)
        self.fields = {h.field_key(f): (h, first, width) for h in self.form.headers.values()
                       for f, first, width in h.fields}

    def run(self, batch: Batch) -> BatchResult:
        form = self.form
        n = batch.n
        ctx = Ctx(n)
        for use in form.tables.values():
            ctx.tables[use.name] = ColumnTable(self.device.tables[use.name])
        cols = ctx.cols
        head = batch.head(form.max_parse_bytes)
        if not head.flags.writeable:
            head = head.copy()          # the patches are written into it
        self._raw = {}
        self._bytes = {}
        ctx.decode = lambda key: self._decode(ctx, head, key)
        ctx.header_bytes = lambda h: self._header_bytes(ctx, h, head)
        cols[("s", "ingress_port")] = batch.ports.astype(U64)
        cols[("s", "packet_length")] = batch.lengths.astype(U64)
        everyone = np.ones(n, dtype=bool)
        off = self._parse(ctx, batch, head)
        form.stages["verify"](ctx, everyone)
        form.stages["ingress"](ctx, everyone)
        spec = ctx.col(("s", "egress_spec"), 9)
        fate = np.where(spec == 511, MARK_TO_DROP, KEPT)
        alive = fate == KEPT
        egress_port = spec.astype(np.int64)
        cols[("s", "egress_port")] = spec.copy()
        cols[("s", "egress_spec")] = np.zeros(n, dtype=U64)
        if alive.any():
            form.stages["egress"](ctx, alive)
        fate = np.where(alive & (ctx.col(("s", "egress_spec"), 9) == 511), EGRESS_DROP, fate)
        alive = fate == KEPT
        if alive.any():
            form.stages["compute"](ctx, alive)
        patches = self._patches(ctx, alive, head, off)
        if patches is not None:
            return BatchResult(batch, fate, egress_port, None, off, off, patches, head)
        hdr_bytes, hdr_len = self._deparse(ctx, alive, head)
        return BatchResult(batch, fate, egress_port, hdr_bytes, hdr_len, off)

    # ------------------------------------------------------------------ parser

    def _parse(self, ctx: Ctx, batch: Batch, head: np.ndarray) -> np.ndarray:
        form = self.form
        n = batch.n
        lengths = batch.lengths
        off = np.zeros(n, dtype=np.int64)
        err = np.zeros(n, dtype=np.int64)
        too_short = form.error_codes.get("PacketTooShort", 1)
        no_match = form.error_codes.get("NoMatch", 2)
        arrive = {"start": np.ones(n, dtype=bool)}
        for name, stmts, keys, targets in form.parser:
            m = arrive.pop(name, None)
            if m is None or not m.any():
                continue
            for kind, x in stmts:
                if kind == "extract":
                    short = m & (off + x.size > lengths)
                    if short.any():
                        err[short] = too_short
                        m = m & ~short
                    rows = np.nonzero(m)[0]
                    if len(rows):
                        self._extract(ctx, head, off, rows, x)
                elif m.any():
                    x(ctx, m)
            if not keys:
                target = targets[0][1]
                if target not in (None, "accept"):
                    arrive[target] = arrive.get(target, np.zeros(n, dtype=bool)) | m
                continue
            values = []
            for fn, w in keys:
                v = fn(ctx, m)
                v = np.asarray(v).astype(U64) if w == 0 else v
                values.append(np.broadcast_to(v, (n,)).astype(U64, copy=False))
            taken = np.zeros(n, dtype=bool)
            for tests, target in targets:
                sel = m & ~taken
                if tests is not None:
                    for t, v in zip(tests, values):
                        if t is None:
                            continue
                        kind, a, b = t
                        if kind == "eq":
                            sel &= v == U64(a)
                        elif kind == "mask":
                            sel &= (v & U64(b)) == U64(a)
                        else:
                            sel &= (v >= U64(a)) & (v <= U64(b))
                taken |= sel
                if target != "accept" and sel.any():
                    arrive[target] = arrive.get(target, np.zeros(n, dtype=bool)) | sel
            missed = m & ~taken
            if missed.any():
                err[missed] = no_match
        ctx.cols[("s", "parser_error")] = err.astype(U64)
        return off

    def _extract(self, ctx: Ctx, head: np.ndarray, off: np.ndarray, rows: np.ndarray, h) -> None:
        """Mark the header valid where it was found; its fields are decoded from the bytes when first used
        (fields already in use get the new values of these rows now)."""
        n = ctx.n
        o = off[rows]
        self._raw.pop(h.name, None)
        self._bytes.pop(h.name, None)
        for fname, first, width in h.fields:
            key = h.field_key(fname)
            col = ctx.cols.get(key)
            if col is not None:
                raw = head[rows[:, None], o[:, None] + np.arange(h.size)]
                col = col.copy()
                col[rows] = _field_from_bytes(raw, first, width)
                ctx.cols[key] = col
        if len(rows) == n:
            ctx.cols[h.valid_key()] = np.ones(n, dtype=bool)
            ctx.cols[h.extracted_key()] = np.ones(n, dtype=bool)
            ctx.cols[("o", h.name)] = o.copy()
        else:
            for key in (h.valid_key(), h.extracted_key()):
                mark = ctx.col(key, 0).copy()
                mark[rows] = True
                ctx.cols[key] = mark
            where = ctx.cols.get(("o", h.name))
            where = np.zeros(n, dtype=np.int64) if where is None else where.copy()
            where[rows] = o
            ctx.cols[("o", h.name)] = where
        off[rows] += h.size

    def _decode(self, ctx: Ctx, head: np.ndarray, key):
        """The column of a header field nobody has used yet: from the bytes it was extracted from (0 in the
        rows where the header was never extracted)."""
        spec = self.fields.get(key)
        if spec is None:
            return None
        h, first, width = spec
        found = ctx.cols.get(h.extracted_key())
        if found is None:
            return None
        v = _field_from_bytes(self._input_bytes(ctx, h, head), first, width)
        if found.all():
            return v
        return np.where(found[:, None] if v.ndim == 2 else found, v, U64(0))

    def _input_bytes(self, ctx: Ctx, h, head: np.ndarray) -> np.ndarray:
        """n x size: the bytes each row's header was extracted from (where it never was: anything, or
        zeros when the program may make it valid without extracting it, as the scalar engine's fields
        start at 0)."""
        raw = self._raw.get(h.name)
        if raw is None:
            found = ctx.col(h.extracted_key(), 0)
            o = ctx.cols.get(("o", h.name))
            everywhere = found.all()
            if o is None or not found.any():
                raw = np.zeros((ctx.n, h.size), dtype=np.uint8)
            else:
                ov = o if everywhere else o[found]
                if ov.min() == ov.max():
                    start = int(ov[0])
                    raw = head[:, start:start + h.size]
                else:
                    raw = head[np.arange(ctx.n)[:, None], o[:, None] + np.arange(h.size)]
                if not everywhere and h.name in self.form.set_valid:
                    raw = np.where(found[:, None], raw, np.uint8(0))
            self._raw[h.name] = raw
        return raw

    # ------------------------------------------------------------------ deparser

    def _patches(self, ctx: Ctx, alive: np.ndarray, head: np.ndarray, off: np.ndarray) -> list | None:
        """When every packet that leaves has its headers emitted where the parser found them, and all it
        extracted emitted, the bytes the program changed: [(rows, offset in the packet, n x k bytes)],
        one per header with written fields (the span of those fields). Else None."""
        at = np.zeros(ctx.n, dtype=np.int64)
        patches = []
        for h in self.form.emits:
            valid = ctx.col(h.valid_key(), 0) & alive
            if not valid.any():
                continue
            where = ctx.cols.get(("o", h.name))
            everywhere = valid.all()
            if where is None or not ((where == at).all() if everywhere else (where[valid] == at[valid]).all()):
                return None
            if h.name in self.form.set_valid and (valid & ~ctx.col(h.extracted_key(), 0)).any():
                return None             # made valid, not found in the packet: it is inserted
            at += h.size if everywhere else np.where(valid, h.size, 0)
            if ctx.versions.get(h.name, 0):
                for lo, hi, fields in self.form.written_span.get(h.name, ()):
                    patches.append((valid, where + lo, self._run_bytes(ctx, h, head, lo, hi, fields)))
        if not ((at == off).all() if alive.all() else (at[alive] == off[alive]).all()):
            return None
        for valid, offset, data in patches:
            _patch_rows(head, valid, offset, data)
        return patches

    def _run_bytes(self, ctx: Ctx, h, head: np.ndarray, lo: int, hi: int, fields) -> np.ndarray:
        """n x (hi - lo): bytes lo..hi of header h as it leaves, made from the columns of the written
        fields there (and the input bytes between them when they do not cover the run in whole bytes)."""
        whole = sum(w for _, _, w in fields) == 8 * (hi - lo) and all(first % 8 == 0 and w % 8 == 0
                                                                       for _, first, w in fields)
        if whole:
            out = np.empty((ctx.n, hi - lo), dtype=np.uint8)
        else:
            out = self._input_bytes(ctx, h, head)[:, lo:hi].copy()
        for f, first, width in fields:
            _field_into_bytes(out, ctx.col(h.field_key(f), width), first - 8 * lo, width)
        return out

    def _deparse(self, ctx: Ctx, alive: np.ndarray, head: np.ndarray):
        emits = self.form.emits
        n = ctx.n
        width = sum(h.size for h in emits)
        out = np.zeros((n, width), dtype=np.uint8)
        hdr_len = np.zeros(n, dtype=np.int64)
        for h in emits:
            valid = ctx.col(h.valid_key(), 0) & alive
            if not valid.any():
                continue
            raw = self._header_bytes(ctx, h, head)
            if valid.all():
                lens = hdr_len
                if (lens == lens[0]).all():
                    p = int(lens[0])
                    out[:, p:p + h.size] = raw
                    hdr_len += h.size
                    continue
            rows = np.nonzero(valid)[0]
            pos = hdr_len[rows]
            out[rows[:, None], pos[:, None] + np.arange(h.size)] = raw[rows]
            hdr_len[rows] += h.size
        return out, hdr_len

    def _header_bytes(self, ctx: Ctx, h, head: np.ndarray) -> np.ndarray:
        """n x size bytes of a header as on the wire: the bytes it was extracted from (a header is valid
        only if extracted), with the fields the program may write encoded again from their columns."""
        version = ctx.versions.get(h.name, 0)
        cached = self._bytes.get(h.name)
        if cached is not None and cached[0] == version:
            return cached[1]
        raw = self._input_bytes(ctx, h, head)
        if not version:
            return raw          # nothing written: the bytes it was extracted from (read only)
        raw = raw.view(np.dtype((np.void, h.size))).copy().view(np.uint8).reshape(len(raw), h.size)
        written = self.form.written
        for fname, first, width in h.fields:
            key = h.field_key(fname)
            if key in written and key in ctx.cols:
                _field_into_bytes(raw, ctx.cols[key], first, width)
        self._bytes[h.name] = (version, raw)
        return raw


def _field_from_bytes(raw: np.ndarray, first: int, width: int) -> np.ndarray:
    """The column of a field whose bits start `first` bits into rows of header bytes (at most 8 bytes),
    read in place as big-endian words of 4, 2 and 1 bytes (numpy reads them unaligned). A field wider
    than 64 bits (whole bytes) is n x 2 columns: the bits above 64, the low 64."""
    if width > 64:
        return np.stack([_field_from_bytes(raw, first, width - 64), _field_from_bytes(raw, first + width - 64, 64)],
                        axis=1)
    b0, b1 = first // 8, (first + width - 1) // 8
    k = b1 - b0 + 1
    v = None
    pos = b0
    for size in (4, 4, 2, 1):
        while pos + size <= b1 + 1 and (size != 4 or k >= 4):
            part = raw[:, pos:pos + size].view(f">u{size}")[:, 0]
            v = part.astype(U64) if v is None else (v << U64(8 * size)) | part
            pos += size
            if size == 4:
                break
    tail = 8 * (b1 + 1) - (first + width)
    if tail:
        v >>= U64(tail)
    if width < 8 * k - tail:
        v &= U64((1 << width) - 1)
    return v


def _field_into_bytes(raw: np.ndarray, v: np.ndarray, first: int, width: int) -> None:
    """Write a field's column into rows of header bytes, keeping the bits of its neighbours."""
    if width > 64:
        _field_into_bytes(raw, np.ascontiguousarray(v[:, 0]), first, width - 64)
        _field_into_bytes(raw, np.ascontiguousarray(v[:, 1]), first + width - 64, 64)
        return
    end = first + width
    b0, b1 = first // 8, (end - 1) // 8
    k = b1 - b0 + 1
    if first % 8 == 0 and width % 8 == 0:
        item = np.dtype((np.void, k))
        wire = v.astype(">u8").view(np.uint8).reshape(len(raw), 8)[:, 8 - k:]
        raw[:, b0:b1 + 1].view(item)[:, 0] = wire.view(item)[:, 0]
        return
    for j in range(b0, b1 + 1):
        shift = end - (8 * j + 8)
        part = (v >> U64(shift)) if shift >= 0 else (v << U64(-shift))
        lo_bit = max(first, 8 * j) - 8 * j          # bits of this byte the field covers, from its top
        hi_bit = min(end, 8 * j + 8) - 8 * j
        bits = (0xFF >> lo_bit) & (0xFF << (8 - hi_bit)) & 0xFF
        raw[:, j] = (raw[:, j] & (0xFF ^ bits)) | (part & U64(bits)).astype(np.uint8)


def output_times(batch: Batch, clock: int = 0) -> np.ndarray:
    """The time each packet leaves: replay's clock (starting at `clock`) never goes back: the latest
    time so far."""
    if not batch.n:
        return batch.times
    return np.maximum.accumulate(np.maximum(batch.times, clock))
