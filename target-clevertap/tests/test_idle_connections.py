"""Kept-alive connections are not reused past ``connection_idle_seconds``.

The receiver is a sandbox that drops a connection idle longer than ``stale_connection_seconds``
without a word, as a load balancer does, and resets the next request on it unread. Input arrives
in bursts with pauses longer than that, one upload lane, ten events per batch, so each batch
after a pause would go out on a connection the receiver has dropped.
"""

from __future__ import annotations

import io
import json
import time
import typing as t
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from clevertap_testkit import config_for, record, schema, singer_text, state
from target_clevertap.target import TargetCleverTap

EVENTS = {"kind": "event", "identity": "user", "event_name": "Ping"}
BURSTS, PER_BURST, PAUSE = 4, 10, 0.8


def slow_input() -> t.Iterator[str]:
    """Four bursts of ten events, with pauses the receiver counts as idle."""
    yield singer_text([schema("pings", {"user": {"type": "string"}, "n": {"type": "integer"}})])
    for burst in range(BURSTS):
        if burst:
            time.sleep(PAUSE)
        numbers = range(burst * PER_BURST, (burst + 1) * PER_BURST)
        burst_records = [record("pings", {"user": f"u-{n}", "n": n}) for n in numbers]
        yield from singer_text(burst_records).splitlines(keepends=True)
    yield singer_text([state({"done": True})])


def load(process: t.Any, files: dict[str, str], idle: float) -> dict[str, t.Any]:
    config = config_for(
        process,
        files,
        stream_mappings={"pings": EVENTS},
        property_names="none",
        max_concurrency=1,
        batch_size_rows=PER_BURST,
        connection_idle_seconds=idle,
    )
    with redirect_stdout(io.StringIO()):
        TargetCleverTap(config=config).listen(slow_input())  # type: ignore[arg-type]
    return dict(json.loads(Path(files["summary_path"]).read_text()))


@pytest.fixture
def dropping_receiver(sandbox_factory: t.Any) -> t.Any:
    return sandbox_factory(stale_connection_seconds=0.5)


def test_connections_idle_past_the_bound_are_not_reused(dropping_receiver, files) -> None:
    summary = load(dropping_receiver, files, idle=0.3)
    stats = dropping_receiver.client.clevertap_stats()
    assert stats["stale_connection_resets"] == 0
    stored = sorted(e["evtData"]["n"] for e in dropping_receiver.client.clevertap_uploaded_events())
    assert stored == list(range(BURSTS * PER_BURST))  # nothing lost, nothing doubled
    assert summary["rejected"] == 0  # nothing listed uncertain
    assert summary["retries"] == 0


def test_the_receiver_does_reset_a_connection_kept_too_long(dropping_receiver, files) -> None:
    """The control: with a bound above the receiver's, its resets happen (and are retried)."""
    summary = load(dropping_receiver, files, idle=60)
    stats = dropping_receiver.client.clevertap_stats()
    assert stats["stale_connection_resets"] >= 1
    assert summary["retries"] >= 1
    stored = sorted(e["evtData"]["n"] for e in dropping_receiver.client.clevertap_uploaded_events())
    assert stored == list(range(BURSTS * PER_BURST))
