"""Servers for the P4Runtime tests: on 127.0.0.1, a free port, stopped when the test ends."""

from __future__ import annotations

import pytest

from p4rt_support import free_port


@pytest.fixture
def served():
    """served(switch) -> 'host:port' of a running server for it; stopped at the end of the test."""
    from dataplane.p4runtime.server import start_server
    servers = []

    def start(switch):
        address = f"127.0.0.1:{free_port()}"
        servers.append(start_server(switch, address))
        return address

    yield start
    for s in servers:
        s.stop(None).wait(5)
