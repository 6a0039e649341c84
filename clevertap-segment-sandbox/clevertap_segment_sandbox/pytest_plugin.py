"""The project's sandbox fixtures (registered through the `pytest11` entry point).

- `sandbox`: one SandboxProcess per test session, default small data, today pinned to
  PINNED_TODAY so every test sees the same days.
- `sandbox_client`: that sandbox's SandboxClient, reset before and after each test (so
  faults, latency or a moved clock never leak into the next test).
- `sandbox_factory(**settings)`: start a sandbox with special settings (faults, latency,
  volume); everything it started is stopped after the test.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import pytest

from clevertap_segment_sandbox.process import SandboxProcess

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from clevertap_segment_sandbox.client import SandboxClient

PINNED_TODAY = date(2026, 11, 20)


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxProcess]:
    """A shared sandbox for the whole session (today = PINNED_TODAY)."""
    with SandboxProcess(today=PINNED_TODAY) as process:
        yield process


@pytest.fixture
def sandbox_client(sandbox: SandboxProcess) -> Iterator[SandboxClient]:
    """The shared sandbox's client, after clearing what earlier tests sent."""
    sandbox.client.reset()
    yield sandbox.client
    sandbox.client.reset()


@pytest.fixture
def sandbox_factory() -> Iterator[Callable[..., SandboxProcess]]:
    """Start sandboxes with special settings; `today` defaults to PINNED_TODAY."""
    started: list[SandboxProcess] = []

    def start(**settings: Any) -> SandboxProcess:
        settings.setdefault("today", PINNED_TODAY)
        process = SandboxProcess(**settings).start()
        started.append(process)
        return process

    yield start
    for process in reversed(started):
        process.stop()
