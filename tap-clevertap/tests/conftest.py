"""Serves RoutedAPI to the tap's tests (helpers are importable through pytest's pythonpath)."""

from __future__ import annotations

import pytest
from routed_api import RoutedAPI


@pytest.fixture
def routed_api():
    """Start RoutedAPI servers for a test; all are closed afterwards."""
    servers: list[RoutedAPI] = []

    def start(routes):
        server = RoutedAPI(routes)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()
