"""Connection resets: nothing doubled when CleverTap stored the upload, nothing lost when not.

Two receivers. One drops a connection idle longer than ``stale_connection_seconds`` without a
word, as a load balancer does, and resets the next request on it unread: input arrives in bursts
with pauses longer than that, one upload lane, ten events per batch, so each batch after a pause
would go out on a connection the receiver has dropped - unless the target does not reuse it
(``connection_idle_seconds``). The other stores an upload and then resets the connection before
any byte of the answer (``fault_stored_reset``): the events of such a batch must be listed
``delivery_uncertain``, never sent twice; profile updates, which CleverTap may take twice, are
sent again.
"""

from __future__ import annotations

import io
import json
import time
import typing as t
from contextlib import redirect_stdout
from pathlib import Path

import pytest
from clevertap_testkit import (
    config_for,
    read_jsonl,
    record,
    run_target,
    schema,
    singer_text,
    state,
)
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


def test_a_reset_after_the_request_was_sent_is_never_retried_for_events(
    dropping_receiver, files
) -> None:
    """The control: with a bound above the receiver's its resets happen, and as the target
    cannot tell them from a reset after storing, those batches are listed, not sent again."""
    summary = load(dropping_receiver, files, idle=60)
    stats = dropping_receiver.client.clevertap_stats()
    resets = stats["stale_connection_resets"]
    assert resets >= 1
    stored = [e["evtData"]["n"] for e in dropping_receiver.client.clevertap_uploaded_events()]
    listed = [r["record"]["n"] for r in read_jsonl(Path(files["rejected_records_path"]))]
    # A reset that arrives while the body is still being sent proves the upload incomplete:
    # that batch is sent again. The others are listed.
    assert len(listed) // PER_BURST + summary["retries"] == resets
    assert sorted(stored + listed) == list(range(BURSTS * PER_BURST))  # each in one place


def uploads(count: int, *, users: int = 50) -> list[dict[str, t.Any]]:
    return [
        schema("pings", {"user": {"type": "string"}, "n": {"type": "integer"}}),
        *(record("pings", {"user": f"u-{n % users}", "n": n}) for n in range(count)),
        state({"bookmarks": {"pings": count}}),
    ]


@pytest.fixture
def storing_then_resetting(sandbox_factory: t.Any) -> t.Any:
    return sandbox_factory(fault_stored_reset=0.3, fault_5xx=0.1)


def test_events_stored_before_a_reset_are_listed_uncertain_never_doubled(
    storing_then_resetting, files
) -> None:
    client = storing_then_resetting.client
    config = config_for(
        storing_then_resetting,
        files,
        stream_mappings={"pings": EVENTS},
        batch_size_rows=10,
        max_concurrency=2,
        max_retries=20,
    )
    run = run_target(config, uploads(300))
    stats = client.clevertap_stats()
    injected = stats["faults_injected"]["stored_reset"]
    assert injected >= 3
    stored = [e["evtData"]["n"] for e in client.clevertap_uploaded_events()]
    assert stats["uploads"]["duplicate_events"] == 0
    assert len(stored) == len(set(stored)) == 300  # the sandbox stored every batch once
    reset = [
        event["evtData"]["n"]
        for logged in client.clevertap_requests()
        if logged["path"] == "/1/upload" and logged["status"] == 0
        for event in json.loads(logged["body"])["d"]
    ]
    assert len(reset) == len(set(reset))  # no batch was sent again after its reset
    uncertain = [r["record"]["n"] for r in run.rejects if r["rule"] == "delivery_uncertain"]
    assert sorted(uncertain) == sorted(reset)
    assert run.summary["delivered"] + len(uncertain) == 300
    assert run.states == [{"bookmarks": {"pings": 300}}]


def test_profile_updates_are_sent_again_after_a_reset(storing_then_resetting, files) -> None:
    client = storing_then_resetting.client
    config = config_for(
        storing_then_resetting,
        files,
        stream_mappings={"pings": {"kind": "profile", "identity": "user"}},
        batch_size_rows=10,
        max_concurrency=2,
        max_retries=20,
    )
    run = run_target(config, uploads(200, users=200))
    assert client.clevertap_stats()["faults_injected"]["stored_reset"] >= 3
    assert run.rejects == []
    assert run.summary["delivered"] == 200
    profiles = {p["identity"]: p for p in client.clevertap_profiles()}
    assert sorted(profiles) == sorted(f"u-{n}" for n in range(200))
