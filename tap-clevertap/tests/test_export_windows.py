"""export_window_days: several days per events export query, bookmarked once per window."""

from __future__ import annotations

import pytest
from tap_clevertap_testkit import (
    EVENTS,
    LAST_DAY,
    bookmarks,
    counts_by_day,
    expected_days,
    run_tap,
    tap_config,
)

#: FIRST_DAY..LAST_DAY (11-06..11-19) in windows of 5 days.
WINDOW_ENDS = {"2026-11-10", "2026-11-15", "2026-11-19"}


def _queries(client) -> int:
    """Export queries opened so far (POST /1/events.json answered 200)."""
    return client.clevertap_stats()["requests"].get("POST /1/events.json", {}).get("200", 0)


def test_windows_read_the_same_events_with_fewer_queries(sandbox, sandbox_client):
    start = _queries(sandbox_client)
    daily = run_tap(tap_config(sandbox), streams=["events"])
    daily_queries = _queries(sandbox_client) - start
    windowed = run_tap(tap_config(sandbox, export_window_days=5), streams=["events"])
    windowed_queries = _queries(sandbox_client) - start - daily_queries

    assert daily_queries == 14 * len(EVENTS)
    assert windowed_queries == len(WINDOW_ENDS) * len(EVENTS)
    ids = sorted(r["event_id"] for r in windowed.records())
    assert ids == sorted(r["event_id"] for r in daily.records())
    assert len(ids) == len(set(ids)) > 0
    assert bookmarks(windowed.state) == dict.fromkeys(EVENTS, LAST_DAY.isoformat())


def test_a_window_is_bookmarked_only_once_all_of_it_is_emitted(sandbox):
    # 23 records per page: every window takes several pages, so a STATE between them would show.
    run = run_tap(tap_config(sandbox, batch_size=23, export_window_days=5), streams=["events"])
    claimed: dict[str, str] = {}
    marks: dict[str, set[str]] = {name: set() for name in EVENTS}
    for message in run.messages:
        if message["type"] == "RECORD":
            record = message["record"]
            assert record["event_date"] > claimed.get(record["event_name"], ""), record
        elif message["type"] == "STATE":
            claimed = {k: v for k, v in bookmarks(message["value"]).items() if v}
            for name, day in claimed.items():
                marks[name].add(day)
    assert marks == dict.fromkeys(EVENTS, WINDOW_ENDS)


def test_a_partial_today_gets_a_window_of_its_own(sandbox, sandbox_client):
    start = _queries(sandbox_client)
    config = tap_config(
        sandbox, start_date="2026-11-16", end_date=None, include_today=True, export_window_days=7
    )
    run = run_tap(config, streams=["events"])
    # 11-16..11-19 in one query, then today (11-20 on the sandbox's clock) alone.
    assert _queries(sandbox_client) - start == 2 * len(EVENTS)
    assert bookmarks(run.state) == dict.fromkeys(EVENTS, "2026-11-19")


@pytest.mark.slow
def test_an_expired_cursor_rereads_its_whole_window(sandbox_factory):
    sandbox = sandbox_factory(seed=6, cursor_ttl_seconds=0.05, fault_slow=0.15, slow_ms=80)
    summary = sandbox.client.seed_summary()
    config = tap_config(
        sandbox,
        event_names=["Charged"],
        batch_size=23,
        max_cursor_restarts=50,
        export_window_days=5,
    )
    records = run_tap(config, streams=["events"]).records()
    expected = {day: n for day, n in expected_days(summary, "Charged").items() if n}
    assert counts_by_day(records, "Charged") == expected
    assert sandbox.client.clevertap_stats()["cursors"]["expired"] > 0
    # Records of a re-opened window come again with the ids of a clean, daily run.
    clean = run_tap(
        tap_config(sandbox_factory(seed=6), event_names=["Charged"], batch_size=23),
        streams=["events"],
    )
    assert len(records) > len(clean.records())
    assert {r["event_id"] for r in records} == {r["event_id"] for r in clean.records()}
