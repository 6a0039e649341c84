"""message_reports: a full refresh each run, aggregate or split by day."""

from __future__ import annotations

from collections import defaultdict

import pytest
from tap_clevertap.errors import SettingsError
from tap_clevertap_testkit import FIRST_DAY, LAST_DAY, run_tap, selecting, tap_config


def _schema(run, stream):
    return next(m for m in run.messages if m["type"] == "SCHEMA" and m["stream"] == stream)


def _report_posts(client):
    return client.clevertap_stats()["requests"]["POST /1/message/report.json"]["200"]


def test_aggregate_rows_one_per_message_read_again_every_run(sandbox, sandbox_client):
    config = tap_config(sandbox)
    first = run_tap(config, streams=["message_reports"])
    rows = first.records("message_reports")
    assert len(rows) == sandbox_client.seed_summary()["messages"]
    assert len({r["message_id"] for r in rows}) == len(rows)
    assert all(r["date"] is None and r["sent"] >= r["viewed"] >= r["clicked"] for r in rows)
    assert _schema(first, "message_reports")["key_properties"] == ["message_id"]
    assert first.state["bookmarks"].get("message_reports", {}) == {}  # no bookmark
    # Full refresh: the next run, even with the state, reads the whole range again.
    second = run_tap(config, state=first.state, streams=["message_reports"])
    assert second.records("message_reports") == rows
    assert _report_posts(sandbox_client) == 2


def test_daily_rows_split_each_message_by_day(sandbox, sandbox_client):
    aggregate = run_tap(tap_config(sandbox), streams=["message_reports"]).records("message_reports")
    run = run_tap(tap_config(sandbox, message_report_daily=True), streams=["message_reports"])
    rows = run.records("message_reports")
    assert _schema(run, "message_reports")["key_properties"] == ["message_id", "date"]
    assert len({(r["message_id"], r["date"]) for r in rows}) == len(rows)
    assert all(FIRST_DAY.isoformat() <= r["date"] <= LAST_DAY.isoformat() for r in rows)
    by_message = defaultdict(list)
    for row in rows:
        by_message[row["message_id"]].append(row)
    assert set(by_message) == {r["message_id"] for r in aggregate}
    totals = {r["message_id"]: r["sent"] for r in aggregate}
    checked = 0
    for message_id, days in by_message.items():
        assert days[0]["date"] == days[0]["start_date"]  # a message's days start at its start
        if days[-1]["date"] < LAST_DAY.isoformat():  # ended inside the window: nothing cut off
            assert sum(d["sent"] for d in days) == totals[message_id]
            checked += 1
    assert checked >= 5


def test_a_catalog_from_the_other_setting_is_refused(sandbox, sandbox_client):
    aggregate_catalog = selecting(tap_config(sandbox), ["message_reports"])
    config = tap_config(sandbox, message_report_daily=True)
    with pytest.raises(SettingsError, match=r"primary key \['message_id'\].*Discover"):
        run_tap(config, catalog=aggregate_catalog)
    assert "POST /1/message/report.json" not in sandbox_client.clevertap_stats()["requests"]
