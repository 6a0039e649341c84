"""Makes the test helpers importable (pytest runs in importlib mode) and serves RoutedAPI."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

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
