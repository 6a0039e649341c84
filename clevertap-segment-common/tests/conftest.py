"""Fixtures of the common library's tests; helpers live in delivery_testkit."""

from __future__ import annotations

import typing as t

import pytest
from delivery_testkit import Script, ScriptedServer


@pytest.fixture
def server_factory() -> t.Iterator[t.Callable[[Script], ScriptedServer]]:
    """Scripted batch APIs, closed after the test."""
    servers: list[ScriptedServer] = []

    def make(script: Script) -> ScriptedServer:
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()
