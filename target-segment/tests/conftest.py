"""Fixtures of target-segment's tests (helpers live in segment_testkit)."""

from __future__ import annotations

import typing as t

import pytest
from segment_testkit import WRITE_KEY, ScriptedSegment

if t.TYPE_CHECKING:
    from pathlib import Path

# (batch of messages, attempt number for that batch) -> (HTTP status, response headers)
Script = t.Callable[[list[dict[str, t.Any]], int], tuple[int, dict[str, str]]]


@pytest.fixture
def segment_config(sandbox: t.Any, sandbox_client: t.Any, tmp_path: Path) -> dict[str, t.Any]:
    """A config pointing at the (freshly reset) shared sandbox."""
    _ = sandbox_client
    return {
        "write_key": WRITE_KEY,
        "api_url": sandbox.segment_url,
        "settings_url": sandbox.segment_url,
        "verify_write_key": False,
        "rejected_records_path": str(tmp_path / "rejected.jsonl"),
        "summary_path": str(tmp_path / "summary.json"),
        "max_retries": 3,
    }


@pytest.fixture
def scripted(
    tmp_path: Path,
) -> t.Iterator[t.Callable[..., tuple[ScriptedSegment, dict[str, t.Any]]]]:
    """Start a ScriptedSegment; returns it with a config pointing at it."""
    servers: list[ScriptedSegment] = []

    def start(script: Script) -> tuple[ScriptedSegment, dict[str, t.Any]]:
        server = ScriptedSegment(script)
        servers.append(server)
        config = {
            "write_key": WRITE_KEY,
            "api_url": server.url,
            "settings_url": server.url,
            "verify_write_key": False,
            "rejected_records_path": str(tmp_path / "rejected.jsonl"),
            "summary_path": str(tmp_path / "summary.json"),
            "max_retries": 3,
        }
        return server, config

    yield start
    for server in servers:
        server.close()
