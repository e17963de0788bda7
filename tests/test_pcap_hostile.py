"""Hostile pcap inputs: damaged records, bogus timestamps, devices and FIFOs, captures larger than memory.

Errors in a binary file read `file: error: ... at byte offset N`, exit status 1, never a traceback.
Cases that would exhaust memory or hang if they regressed run the command line in a subprocess with
an address-space limit and a timeout (hostile.limited_cli).
"""

from __future__ import annotations

import contextlib
import io
import json
import re
import os
import resource
import subprocess
import sys
import struct

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dataplane import cli
from dataplane.diagnostics import DiagnosticError
from dataplane.pcap import MAX_PACKET, PcapReader, PcapWriter, read_pcap
from hostile import MEMORY_LIMIT, assert_user_error, boxed, limited_cli
from p4helpers import PROGRAMS

US_HEADER = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
NS_HEADER = struct.pack("<IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 65535, 1)
FRAME = bytes.fromhex("080000000100" "080000000111" "0800") + bytes(46)


def record(data: bytes, sec: int = 1, frac: int = 0, endian: str = "<") -> bytes:
    return struct.pack(endian + "IIII", sec, frac, len(data), len(data)) + data


def replay(tmp_path, capsys, *inputs: str) -> tuple[int, str]:
    args = ["replay", str(PROGRAMS / "basic_ipv4.p4"), "--out-dir", str(tmp_path / "out")]
    for spec in inputs:
        args += ["-i", spec]
    code = cli.main(args)
    return code, capsys.readouterr().err


@pytest.mark.parametrize("header,frac,unit", [(US_HEADER, 0xFFFFFFFF, "microseconds"),
                                              (US_HEADER, 1_000_000, "microseconds"),
                                              (NS_HEADER, 1_000_000_000, "nanoseconds")],
                         ids=["usec-all-ones", "usec-1e6", "nsec-1e9"])
def test_a_bogus_timestamp_is_an_error_at_its_record(tmp_path, capsys, header, frac, unit):
    bad = tmp_path / "bad.pcap"
    bad.write_bytes(header + record(FRAME, frac=999) + record(FRAME, sec=0xFFFFFFFF, frac=frac))
    code, err = replay(tmp_path, capsys, f"1={bad}")
    assert_user_error(code, err, str(bad))
    second = 24 + 16 + len(FRAME)
    assert f"bogus timestamp in the record at byte offset {second}: {frac} {unit}" in err


def test_the_largest_valid_timestamps_are_read_and_written(tmp_path):
    path = tmp_path / "late.pcap"
    path.write_bytes(US_HEADER + record(FRAME, sec=0xFFFFFFFF, frac=999_999))
    [rec] = read_pcap(str(path))
    assert rec.time_ns == 0xFFFFFFFF * 1_000_000_000 + 999_999_000
    out = tmp_path / "out.pcap"
    with PcapWriter(str(out)) as w:
        w.write(FRAME, rec.time_ns)
        w.write(FRAME, rec.time_ns + 2 * 10**9)          # past the 32-bit seconds: wraps, as a counter does
        w.write(FRAME, -5)                               # before the epoch: written as 0
    times = [r.time_ns for r in read_pcap(str(out))]
    assert times == [rec.time_ns, 1 * 10**9 + 999_999_000, 0]


@pytest.mark.parametrize("cut,message", [
    (24 + 10, "truncated record header at byte offset 24"),
    (24 + 16 + 20, f"truncated packet at byte offset 40 ({len(FRAME)} bytes announced, 20 present)"),
])
def test_truncated_records_name_their_byte_offset(tmp_path, capsys, cut, message):
    path = tmp_path / "cut.pcap"
    path.write_bytes((US_HEADER + record(FRAME))[:cut])
    code, err = replay(tmp_path, capsys, f"1={path}")
    assert_user_error(code, err, str(path))
    assert message in err


def test_records_are_read_one_at_a_time(tmp_path):
    """The records before a damaged one are delivered before the error: nothing reads ahead."""
    path = tmp_path / "tail.pcap"
    path.write_bytes(US_HEADER + record(FRAME) + record(FRAME, sec=2) + b"\x01\x02")
    with PcapReader(str(path)) as reader:
        records = iter(reader)
        assert next(records).time_ns == 1_000_000_000
        assert next(records).time_ns == 2_000_000_000
        with pytest.raises(DiagnosticError, match=f"truncated record header at byte offset {24 + 2 * (16 + 60)}"):
            next(records)


def test_a_capture_larger_than_memory_is_streamed(tmp_path):
    """A 4 GiB capture (sparse, so it costs no disk) is opened and its first record read under 1 GiB."""
    path = tmp_path / "huge.pcap"
    with open(path, "wb") as f:
        f.write(US_HEADER + record(FRAME))
        f.truncate(4 << 30)
    script = ("import sys; from dataplane.pcap import PcapReader\n"
              "r = PcapReader(sys.argv[1]); first = next(iter(r)); r.close(); print(len(first.data))")
    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
    done = subprocess.run([sys.executable, "-c", script, str(path)], preexec_fn=limit, capture_output=True,
                          text=True, timeout=20)
    assert done.returncode == 0 and done.stdout.strip() == str(len(FRAME)), done.stderr


def test_a_record_longer_than_any_packet_is_refused_before_reading_it(tmp_path):
    path = tmp_path / "long.pcap"
    path.write_bytes(US_HEADER + struct.pack("<IIII", 1, 0, 0xFFFFFFFF, 0xFFFFFFFF))
    done = limited_cli(["replay", PROGRAMS / "basic_ipv4.p4", "-i", f"1={path}", "--out-dir", tmp_path / "o"],
                       tmp_path)
    assert_user_error(done.returncode, done.stderr, str(path))
    assert f"byte offset 24 announces 4294967295 bytes of packet, more than the largest packet ({MAX_PACKET}" \
        in done.stderr


@pytest.mark.parametrize("kind", ["device", "fifo"])
def test_only_regular_files_are_read_as_pcaps(tmp_path, kind):
    path = "/dev/zero" if kind == "device" else tmp_path / "fifo"
    if kind == "fifo":
        os.mkfifo(path)                   # with no writer: opening it to read would wait forever
    done = limited_cli(["replay", PROGRAMS / "basic_ipv4.p4", "-i", f"1={path}", "--out-dir", tmp_path / "o"],
                       tmp_path)
    assert_user_error(done.returncode, done.stderr, str(path))
    assert "not a regular file" in done.stderr


def test_a_directory_is_not_a_pcap(tmp_path, capsys):
    code, err = replay(tmp_path, capsys, f"1={tmp_path}")
    assert code == 1 and f"cannot open '{tmp_path}': it is a directory" in err


@pytest.mark.parametrize("port", ["１", "٣", "1٣", "9" * 5000, "0x1", ""],
                         ids=["fullwidth", "arabic-indic", "mixed", "5000-digits", "hex", "empty"])
def test_replay_ports_are_ascii_numbers_in_range(tmp_path, capsys, port):
    path = tmp_path / "in.pcap"
    path.write_bytes(US_HEADER + record(FRAME))
    code, err = replay(tmp_path, capsys, f"{port}={path}")
    assert code == 1 and "Traceback" not in err and "internal error" not in err
    assert ("inputs are written PORT=FILE.pcap" in err) if not port.isascii() or not port.isdigit() \
        else ("is out of range (0..510)" in err and len(err) < 200)


RUNTIME = {"table_entries": [
    {"table": "MyIngress.ipv4_lpm", "match": {"hdr.ipv4.dstAddr": ["10.0.2.0", 24]},
     "action_name": "MyIngress.ipv4_forward", "action_params": {"dstAddr": "08:00:00:00:02:22", "port": 2}}]}


def _ipv4(ident: int) -> bytes:
    ip = bytes.fromhex("4500001c") + ident.to_bytes(2, "big") + bytes.fromhex("00004011") + bytes(2) + \
        bytes([10, 0, 1, 1, 10, 0, 2, 7])
    total = sum(int.from_bytes(ip[i:i + 2], "big") for i in range(0, 20, 2))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    ip = ip[:10] + (~total & 0xFFFF).to_bytes(2, "big") + ip[12:]
    return bytes.fromhex("080000000100" "080000000111" "0800") + ip + bytes(8)


def test_inputs_are_merged_by_time_and_time_never_goes_back(tmp_path, capsys):
    runtime = tmp_path / "r.json"
    runtime.write_text(json.dumps(RUNTIME))
    a, b = tmp_path / "a.pcap", tmp_path / "b.pcap"
    # a: times 1 s and 3 s; b: 2 s, then a record stamped 0.5 s, earlier than one already replayed.
    a.write_bytes(US_HEADER + record(_ipv4(1), sec=1) + record(_ipv4(3), sec=3))
    b.write_bytes(US_HEADER + record(_ipv4(2), sec=2) + record(_ipv4(4), sec=0, frac=500_000))
    assert cli.main(["replay", str(PROGRAMS / "basic_ipv4.p4"), "--runtime", str(runtime), "-i", f"1={a}",
                     "-i", f"1={b}", "--out-dir", str(tmp_path / "out")]) == 0
    assert capsys.readouterr().out.startswith("replay: 4 packets in; out port 2: 4;")
    out = read_pcap(str(tmp_path / "out" / "port2.pcap"))
    idents = [int.from_bytes(r.data[18:20], "big") for r in out]
    assert idents == [1, 2, 4, 3]                 # b's late record follows b's earlier one, before a's at 3 s
    assert [r.time_ns // 10**9 for r in out] == [1, 2, 2, 3]


# ---------------------------------------------------------------------------- random damage (hypothesis)

VALID_PCAP = (US_HEADER + record(FRAME, sec=1, frac=10) + record(FRAME + bytes(40), sec=2, frac=999_999)
              + record(bytes(14), sec=3))


def _valid_pcapng() -> bytes:
    import tempfile
    from dataplane.pcap import PcapngWriter
    with tempfile.TemporaryDirectory() as d:
        with PcapngWriter(f"{d}/x.pcapng", ["a:1"], epoch_ns=10 ** 18) as w:
            w.write(FRAME, 10, 0)
            w.write(FRAME + bytes(41), 2 * 10 ** 9, 0)
            w.write(bytes(14), 3 * 10 ** 9, 0)
        return open(f"{d}/x.pcapng", "rb").read()


VALID_PCAPNG = _valid_pcapng()


def _damaged(data) -> bytes:
    """A valid capture (classic pcap in micro- or nanoseconds, or pcapng), damaged: header fields, record
    and block lengths and timestamps set to hostile values, bytes flipped, the file cut short or given junk
    at the end."""
    raw = bytearray(data.draw(st.sampled_from([VALID_PCAP, NS_HEADER + VALID_PCAP[24:], VALID_PCAPNG])))
    for _ in range(data.draw(st.integers(1, 4))):
        action = data.draw(st.sampled_from(["word", "flip", "cut", "append"]))
        if action == "word":
            at = data.draw(st.sampled_from([0, 4, 8, 16, 20, 24, 28, 32, 36, 40 + len(FRAME) + 8])
                           | st.integers(0, max(0, len(raw) - 4)).map(lambda n: n - n % 4))
            value = data.draw(st.sampled_from([0, 1, 0x7FFFFFFF, 0xFFFFFFFF, 1_000_000, 1_000_000_000, 262_145])
                              | st.integers(0, 0xFFFFFFFF))
            raw[at:at + 4] = struct.pack("<I", value)
        elif action == "flip" and raw:
            at = data.draw(st.integers(0, len(raw) - 1))
            raw[at] ^= data.draw(st.integers(1, 255))
        elif action == "cut":
            del raw[data.draw(st.integers(0, len(raw))):]
        else:
            raw += data.draw(st.binary(max_size=40))
    return bytes(raw)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.data())
def test_damaged_captures_are_replayed_or_refused_at_a_byte_offset(tmp_path_factory, data):
    d = tmp_path_factory.mktemp("pcap")
    bad = d / "in.pcap"
    bad.write_bytes(_damaged(data))
    out, err = io.StringIO(), io.StringIO()
    args = ["replay", str(PROGRAMS / "basic_ipv4.p4"), "-i", f"1={bad}", "--out-dir", str(d)]
    with boxed(d, allowed=r"port\d+\.pcap"), contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = cli.main(args)
    out, err = out.getvalue(), err.getvalue()
    assert code in (0, 1), err
    assert "Traceback" not in err and "internal error" not in err, err
    if code == 1:
        assert err.startswith(f"{bad}: error: "), err
        # A damaged record is named by its byte offset; a damaged file header by what is wrong with it.
        assert re.search(r"byte offset \d+|not a pcap (or pcapng )?file|link type \d+ is not Ethernet", err), err
    else:
        assert out.startswith("replay: ")


@pytest.mark.parametrize("engine", ["batch", "scalar"])
def test_a_pcapng_timestamp_past_signed_64_bit_nanoseconds_is_refused_at_its_block(tmp_path, capsys, engine):
    # Found by the property test above: the interface's if_tsresol option code damaged (9 -> 8), so the
    # nanosecond counts were read as microseconds and came out past 2**63 ns.
    raw = bytearray(VALID_PCAPNG)
    code_at = raw.index(struct.pack("<HH", 9, 1))
    raw[code_at] ^= 1
    bad = tmp_path / "in.pcapng"
    bad.write_bytes(bytes(raw))
    code = cli.main(["replay", str(PROGRAMS / "basic_ipv4.p4"), "-i", f"1={bad}", "--out-dir", str(tmp_path),
                     "--engine", engine])
    err = capsys.readouterr().err
    assert code == 1
    assert re.fullmatch(rf"{re.escape(str(bad))}: error: packet block at byte offset \d+ has a timestamp after the "
                        r"year 2262\n", err), err
