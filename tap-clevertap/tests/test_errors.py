"""Faults and error answers from the sandbox: retried to completion, or a clear error."""

from __future__ import annotations

import logging

import pytest
from tap_clevertap.errors import (
    CleverTapAuthError,
    CleverTapConnectionError,
    CleverTapEndpointError,
    CursorExpiredError,
    InvalidEventError,
    UnexportableEventError,
)
from tap_clevertap_testkit import EVENTS, counts_by_day, expected_days, run_tap, tap_config


@pytest.mark.slow
def test_faults_are_retried_until_every_record_arrives(sandbox_factory):
    sandbox = sandbox_factory(
        seed=5,
        fault_5xx=0.15,
        fault_429=0.15,
        fault_reset=0.1,
        fault_in_progress=0.15,
    )
    summary = sandbox.client.seed_summary()
    run = run_tap(tap_config(sandbox, batch_size=115, max_retries=30, in_progress_retries=30))
    for name in EVENTS:
        expected = {day: n for day, n in expected_days(summary, name).items() if n}
        assert counts_by_day(run.records(), name) == expected
    injected = sandbox.client.clevertap_stats()["faults_injected"]
    assert all(injected[kind] > 0 for kind in ("5xx", "429", "reset", "in_progress")), injected


@pytest.mark.slow
def test_expired_cursors_restart_the_day_without_losing_records(sandbox_factory):
    sandbox = sandbox_factory(seed=6, cursor_ttl_seconds=0.05, fault_slow=0.15, slow_ms=80)
    summary = sandbox.client.seed_summary()
    config = tap_config(sandbox, event_names=["Charged"], batch_size=23, max_cursor_restarts=50)
    records = run_tap(config).records()
    for name in ["Charged"]:
        expected = {day: n for day, n in expected_days(summary, name).items() if n}
        assert counts_by_day(records, name) == expected
    assert sandbox.client.clevertap_stats()["cursors"]["expired"] > 0
    # Re-opened days are emitted again, with the same event_id (idempotent downstream): the
    # occurrence numbering starts over with the day, so the ids are those of a clean run.
    clean = run_tap(tap_config(sandbox_factory(seed=6), event_names=["Charged"], batch_size=23))
    assert len(records) > len(clean.records())
    assert {r["event_id"] for r in records} == {r["event_id"] for r in clean.records()}


def test_timeouts_are_retried(sandbox_factory, caplog):
    caplog.set_level(logging.WARNING)
    sandbox = sandbox_factory(seed=7, fault_slow=0.2, slow_ms=250)
    summary = sandbox.client.seed_summary()
    config = tap_config(
        sandbox,
        event_names=["Charged"],
        start_date="2026-11-13",
        request_timeout=0.1,
        max_retries=30,
        # A timed-out page is still being served: the retry sees "still in progress" for a while.
        in_progress_retries=50,
        retry_max_wait=0.2,
        profile_events=[],
    )
    run = run_tap(config)
    expected = expected_days(summary, "Charged")
    expected = {day: n for day, n in expected.items() if n and day >= "2026-11-13"}
    assert counts_by_day(run.records(), "Charged") == expected
    assert sandbox.client.clevertap_stats()["faults_injected"]["slow"] > 0
    assert "ReadTimeout; retry" in caplog.text


def test_cursor_that_always_expires_fails_naming_event_and_day(sandbox, sandbox_client):
    sandbox_client.set_cursor_ttl(0)
    config = tap_config(sandbox, event_names=["Charged"], max_cursor_restarts=2)
    with pytest.raises(CursorExpiredError, match=r"'Charged' for 2026-11-06.*expired 3 times"):
        run_tap(config)


def test_unexportable_events_are_skipped_with_a_warning(sandbox, sandbox_client, caplog):
    caplog.set_level(logging.WARNING)
    run = run_tap(tap_config(sandbox, event_names=["Push Impressions", "Charged"]))
    assert {r["event_name"] for r in run.records()} == {"Charged"}
    assert "Skipping event 'Push Impressions'" in caplog.text
    assert "Export not allowed for this event" in caplog.text


def test_an_unexportable_event_is_not_asked_for_every_day(sandbox, sandbox_client, caplog):
    caplog.set_level(logging.WARNING)
    config = tap_config(sandbox, event_names=["Push Impressions"], start_date="2026-11-01")
    run_tap(config)
    asked = [
        r
        for r in sandbox_client.clevertap_requests()
        if b"Push Impressions" in (sandbox_client.logged_bytes(r) or b"")
    ]
    # Days are fetched concurrently: the ones already in flight when the refusal came back
    # ask once each; the other days of the window are never asked.
    assert 1 <= len(asked) <= config["max_concurrency"], len(asked)
    assert caplog.text.count("Skipping event 'Push Impressions'") == 1


def test_unexportable_events_fail_when_not_skipped(sandbox, sandbox_client):
    config = tap_config(sandbox, event_names=["Push Impressions"], skip_unexportable_events=False)
    with pytest.raises(UnexportableEventError, match=r"'Push Impressions'.*Export not allowed"):
        run_tap(config)


def test_unknown_event_names_the_event_and_where_it_came_from(sandbox, sandbox_client):
    config = tap_config(sandbox, event_names=["Charged", "No Such Event"])
    with pytest.raises(InvalidEventError, match=r"'No Such Event'.*the event_names setting"):
        run_tap(config)


def test_wrong_passcode_is_an_auth_error_without_the_passcode(sandbox, sandbox_client):
    config = tap_config(sandbox, passcode="wrong-passcode-123")
    with pytest.raises(CleverTapAuthError, match="account_id and passcode") as info:
        run_tap(config)
    assert "wrong-passcode-123" not in str(info.value)


def test_wrong_path_is_an_endpoint_error(sandbox, sandbox_client):
    config = tap_config(sandbox, api_url=sandbox.clevertap_url + "/not-clevertap")
    with pytest.raises(CleverTapEndpointError, match="does not serve the CleverTap API"):
        run_tap(config)


def test_unreachable_host_is_a_connection_error():
    config = {
        "account_id": "A",
        "passcode": "P",
        "api_url": "http://127.0.0.1:9",
        "timezone": "UTC",
        "start_date": "2026-11-01",
        "end_date": "2026-11-01",
        "event_names": ["X"],
        "max_retries": 1,
        "retry_initial_wait": 0.01,
    }
    with pytest.raises(
        CleverTapConnectionError, match=r"could not reach CleverTap at 127\.0\.0\.1"
    ):
        run_tap(config)
