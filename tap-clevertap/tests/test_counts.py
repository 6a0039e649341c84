"""event_counts, profile_counts and trends: req_id polling, ground truth, bookmarks."""

from __future__ import annotations

import datetime as dt

import pytest
from routed_api import routed_config
from tap_clevertap.errors import CountTimeoutError, RequestIdExpiredError
from tap_clevertap_testkit import EVENTS, FIRST_DAY, LAST_DAY, expected_days, run_tap, tap_config

COUNTS = ("event_counts", "profile_counts")


def _requests(client, key):
    return sum(client.clevertap_stats()["requests"].get(key, {}).values())


def _bookmarks(state, stream):
    partitions = state["bookmarks"][stream]["partitions"]
    return {p["context"]["event_name"]: p.get("replication_key_value") for p in partitions}


def test_counts_per_event_and_day_match_the_account(sandbox, sandbox_client):
    summary = sandbox_client.seed_summary()
    run = run_tap(tap_config(sandbox), streams=COUNTS)
    for name in EVENTS:
        events = {
            r["date"]: r["count"] for r in run.records("event_counts") if r["event_name"] == name
        }
        assert events == expected_days(summary, name)
        profiles = {
            r["date"]: r["count"] for r in run.records("profile_counts") if r["event_name"] == name
        }
        assert len(profiles) == 14
        for day, count in profiles.items():
            assert count == sandbox_client.seed_profile_count(name, day, day), (name, day)
    # Every query answered "partial" first and was polled with its req_id until it finished.
    posts = _requests(sandbox_client, "POST /1/counts/events.json")
    assert posts == 14 * len(EVENTS)
    assert _requests(sandbox_client, "GET /1/counts/events.json") >= posts
    for stream in COUNTS:
        assert _bookmarks(run.state, stream) == dict.fromkeys(EVENTS, LAST_DAY.isoformat())


def test_counts_are_incremental_with_lookback(sandbox, sandbox_client):
    config = tap_config(sandbox, lookback_days=2)
    first = run_tap(config, streams=["event_counts"])
    sandbox_client.set_today(dt.date(2026, 11, 22))
    before = _requests(sandbox_client, "POST /1/counts/events.json")
    second = run_tap({**config, "end_date": None}, state=first.state, streams=["event_counts"])
    # 2 lookback days (11-18, 11-19) and 2 new ones (11-20, 11-21), per event.
    assert _requests(sandbox_client, "POST /1/counts/events.json") - before == 4 * len(EVENTS)
    days = sorted({r["date"] for r in second.records("event_counts")})
    assert days == ["2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"]
    assert _bookmarks(second.state, "event_counts") == dict.fromkeys(EVENTS, "2026-11-21")


def test_todays_count_is_emitted_but_never_bookmarked(sandbox, sandbox_client):
    config = tap_config(sandbox, end_date=None, include_today=True, start_date="2026-11-19")
    run = run_tap(config, streams=["event_counts"])
    assert {r["date"] for r in run.records("event_counts")} == {"2026-11-19", "2026-11-20"}
    assert _bookmarks(run.state, "event_counts") == dict.fromkeys(EVENTS, "2026-11-19")


def _week_days(start: dt.date) -> list[str]:
    return [(start + dt.timedelta(days=i)).isoformat() for i in range(7)]


def test_weekly_trends_match_the_account_and_bookmark_complete_weeks(sandbox, sandbox_client):
    summary = sandbox_client.seed_summary()
    config = tap_config(sandbox, trend_type="weekly", event_names=["Charged"])
    run = run_tap(config, streams=["trends"])
    records = run.records("trends")
    # 2026-11-06 (Friday) .. 11-19: ISO weeks 45, 46 and 47; week 47 ends 11-22 (incomplete).
    assert [r["period"] for r in records] == ["202645", "202646", "202647"]
    assert [r["complete"] for r in records] == [True, True, False]
    daily = expected_days(summary, "Charged")
    for record in records:
        start = dt.date.fromisoformat(record["period_start"])
        assert start.weekday() == 0
        assert record["period_end"] == (start + dt.timedelta(days=6)).isoformat()
        days = [d for d in _week_days(start) if FIRST_DAY.isoformat() <= d <= LAST_DAY.isoformat()]
        assert record["event_count"] == sum(daily[d] for d in days)
        assert record["profile_count"] == sandbox_client.seed_profile_count(
            "Charged", days[0], days[-1]
        )
    assert _bookmarks(run.state, "trends") == {"Charged": "2026-11-15"}  # Sunday of week 46
    # The partial week is read again next run (from its Monday), nothing before it.
    trend_posts = _requests(sandbox_client, "POST /1/counts/trends.json")
    second = run_tap(config, state=run.state, streams=["trends"])
    assert [r["period"] for r in second.records("trends")] == ["202646", "202647"]
    assert _requests(sandbox_client, "POST /1/counts/trends.json") - trend_posts == 2


@pytest.mark.parametrize("trend_type", ["daily", "monthly"])
def test_daily_and_monthly_trends(sandbox, sandbox_client, trend_type):
    summary = sandbox_client.seed_summary()
    config = tap_config(sandbox, trend_type=trend_type, event_names=["Search"])
    records = run_tap(config, streams=["trends"]).records("trends")
    daily = expected_days(summary, "Search")
    if trend_type == "daily":
        assert {r["period_start"]: r["event_count"] for r in records} == daily
        assert all(r["complete"] for r in records)
    else:
        assert [(r["period"], r["period_start"], r["period_end"]) for r in records] == [
            ("202611", "2026-11-01", "2026-11-30")
        ]
        assert records[0]["event_count"] == sum(daily.values())
        assert records[0]["profile_count"] == sandbox_client.seed_profile_count(
            "Search", FIRST_DAY.isoformat(), LAST_DAY.isoformat()
        )
        assert records[0]["complete"] is False


def test_a_count_that_never_finishes_fails_with_a_clear_error(routed_api):
    partial = {"status": "partial", "req_id": 77}
    api = routed_api(
        {
            "POST /1/counts/events.json": lambda q, b: (200, partial),
            "GET /1/counts/events.json": lambda q, b: (200, partial),
        }
    )
    config = routed_config(api, start_date="2026-11-19", count_max_wait=0.2)
    with pytest.raises(
        CountTimeoutError,
        match=r"event_counts of event 'Charged' for 2026-11-19.*"
        r"req_id 77.*count_max_wait",
    ):
        run_tap(config, streams=["event_counts"])
    polls = api.calls("GET", "/1/counts/events.json")
    assert polls
    assert all(query == {"req_id": "77"} for query, _ in polls)


def test_a_forgotten_req_id_issues_the_query_again(routed_api):
    issued: list[int] = []

    def submit(query, body):
        issued.append(len(issued) + 1)
        return 200, {"status": "partial", "req_id": len(issued)}

    def poll(query, body):
        if query["req_id"] == "1":
            return 400, {"status": "fail", "error": "Invalid or expired req_id", "code": 400}
        return 200, {"status": "success", "count": 42}

    api = routed_api({"POST /1/counts/events.json": submit, "GET /1/counts/events.json": poll})
    config = routed_config(api, start_date="2026-11-19")
    run = run_tap(config, streams=["event_counts"])
    assert run.records("event_counts") == [
        {"event_name": "Charged", "date": "2026-11-19", "count": 42}
    ]
    assert issued == [1, 2]
    body = api.calls("POST", "/1/counts/events.json")[0][1]
    assert body == {"event_name": "Charged", "from": 20261119, "to": 20261119}


def test_a_req_id_forgotten_every_time_gives_up(routed_api):
    api = routed_api(
        {
            "POST /1/counts/profiles.json": lambda q, b: (200, {"status": "partial", "req_id": 1}),
            "GET /1/counts/profiles.json": lambda q, b: (
                400,
                {"status": "fail", "error": "Invalid or expired req_id", "code": 400},
            ),
        }
    )
    config = routed_config(api, start_date="2026-11-19")
    with pytest.raises(RequestIdExpiredError, match="issued 4 times"):
        run_tap(config, streams=["profile_counts"])


def test_count_events_setting_chooses_what_is_counted(sandbox, sandbox_client):
    config = tap_config(sandbox, start_date="2026-11-19", count_events=["Search"])
    run = run_tap(config, streams=["event_counts"])
    assert {r["event_name"] for r in run.records("event_counts")} == {"Search"}
