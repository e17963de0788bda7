"""`dataplane p4info`: formats, output files, and errors as located diagnostics."""

from __future__ import annotations

from pathlib import Path

from google.protobuf import json_format, text_format
from p4.config.v1 import p4info_pb2

from dataplane.cli import main

FEATURES = Path(__file__).with_name("features.p4")


def test_text_to_stdout(capsysbinary):
    assert main(["p4info", str(FEATURES)]) == 0
    out = capsysbinary.readouterr().out.decode()
    assert out.startswith("# proto-file: p4/config/v1/p4info.proto\n")
    info = text_format.Parse(out, p4info_pb2.P4Info())
    assert "I.mac" in [t.preamble.name for t in info.tables]


def test_output_format_follows_the_file_name(tmp_path):
    text, binary, js = tmp_path / "p.p4info.txtpb", tmp_path / "p.p4info.bin", tmp_path / "p.p4info.json"
    for path in (text, binary, js):
        assert main(["p4info", str(FEATURES), "-o", str(path)]) == 0
    from_text = text_format.Parse(text.read_text(), p4info_pb2.P4Info())
    from_binary = p4info_pb2.P4Info()
    from_binary.ParseFromString(binary.read_bytes())
    from_json = json_format.Parse(js.read_text(), p4info_pb2.P4Info())
    assert from_text == from_binary == from_json


def test_format_option_wins_over_the_name(tmp_path):
    path = tmp_path / "p.txt"
    assert main(["p4info", str(FEATURES), "-o", str(path), "--format", "binary"]) == 0
    info = p4info_pb2.P4Info()
    info.ParseFromString(path.read_bytes())
    assert info.pkg_info.arch == "v1model"


def test_bad_program_is_a_located_diagnostic(p4_file, capsys):
    path = p4_file("control C() { apply { x = 1; } }\n")
    assert main(["p4info", str(path)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:1:" in err and "error:" in err and "Traceback" not in err


def test_unwritable_output_is_an_error_not_a_traceback(tmp_path, capsys):
    assert main(["p4info", str(FEATURES), "-o", str(tmp_path / "missing" / "p.txt")]) == 1
    err = capsys.readouterr().err
    assert "cannot write the P4Info" in err and "Traceback" not in err
