"""Shared by the P4Runtime server tests: the test program and free loopback ports."""

from __future__ import annotations

import socket
from pathlib import Path

HERE = Path(__file__).resolve().parent
SERVE_P4 = HERE / "serve.p4"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
