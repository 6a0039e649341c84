"""The audiences setting and the audience_members stream against the sandbox.

Expected members are computed here from the sandbox's raw seeded records (`seed_event_records`),
with this file's own reading of the conditions, never through the tap or the sandbox's filters.
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import sqlite3
from collections import Counter
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from tap_clevertap.audiences import parse_audiences
from tap_clevertap.errors import CleverTapError, MembershipStoreError, SettingsError
from tap_clevertap.membership import MembershipStore
from tap_clevertap_testkit import TODAY, run_tap, tap_config

STREAM = "audience_members"
COFFEE = {
    "name": "Coffee buyers",
    "event_name": "Charged",
    "last_days": 7,
    "event_properties": [
        {"name": "Category", "operator": "equals", "value": "Coffee"},
        {"name": "Amount", "operator": "greater_than", "value": 150},
    ],
    "profile_properties": [{"name": "Marketing Opt In", "operator": "equals", "value": True}],
}
SEARCHERS = {"name": "Recent searchers", "event_name": "Search", "last_days": 3}


def coffee_members(sandbox_client: Any, first: dt.date, last: dt.date) -> dict[str, str | None]:
    """objectId -> identity of everyone COFFEE selects, read from the raw records."""
    return {
        r["objectId"]: r["identity"] or None
        for r in sandbox_client.seed_event_records("Charged", first, last)
        if any(item["Category"] == "Coffee" for item in r["event_props"]["Items"])
        and r["event_props"]["Amount"] > 150
        and r["profileData"].get("Marketing Opt In") is True
    }


def searchers(sandbox_client: Any, first: dt.date, last: dt.date) -> set[str]:
    return {r["objectId"] for r in sandbox_client.seed_event_records("Search", first, last)}


def days_before(today: dt.date, count: int) -> tuple[dt.date, dt.date]:
    return today - dt.timedelta(days=count), today - dt.timedelta(days=1)


@pytest.fixture
def config(sandbox: Any, tmp_path: Any) -> dict[str, Any]:
    return tap_config(
        sandbox, audiences=[COFFEE, SEARCHERS], audience_store_path=str(tmp_path / "store.db")
    )


def changes(records: list[dict[str, Any]], key: str) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {"entered": set(), "exited": set(), "member": set()}
    for record in records:
        if record["audience_key"] == key:
            found[record["change"]].add(record["objectId"])
    return found


def test_first_run_enters_every_member_then_the_next_sends_exactly_the_changes(
    sandbox_client: Any, config: dict[str, Any]
) -> None:
    first = run_tap(config, streams=[STREAM])
    records = first.records(STREAM)
    expected = coffee_members(sandbox_client, *days_before(TODAY, 7))
    assert 0 < len(expected) < len(searchers(sandbox_client, *days_before(TODAY, 7)))
    coffee = [r for r in records if r["audience_key"] == "coffee_buyers"]
    assert {r["objectId"]: r["identity"] for r in coffee} == expected
    assert len(coffee) == len(expected)
    assert {r["change"] for r in records} == {"entered"}
    assert changes(records, "recent_searchers")["entered"] == searchers(
        sandbox_client, *days_before(TODAY, 3)
    )
    sample = coffee[0]
    assert sample["window_from"] == "2026-11-13"
    assert sample["window_to"] == "2026-11-19"
    assert sample["in_audience"] is True
    assert sample["generation"] == 1
    # CleverTap's clock, not ours: written in UTC, it falls on the account's today in the
    # account's timezone (at some hours of the day the UTC date is the day before).
    account_tz = ZoneInfo(sandbox_client.seed_summary(event_profiles=False)["timezone"])
    computed_at = dt.datetime.strptime(sample["computed_at"], "%Y-%m-%dT%H:%M:%SZ")
    assert computed_at.replace(tzinfo=dt.UTC).astimezone(account_tz).date() == TODAY
    partitions = first.state["bookmarks"][STREAM]["partitions"]
    assert {p["context"]["audience"]: p["generation"] for p in partitions} == {
        "coffee_buyers": 1,
        "recent_searchers": 1,
    }

    later = dt.date(2026, 11, 23)
    sandbox_client.set_today(later)
    second = run_tap(config, state=first.state, streams=[STREAM])
    now = coffee_members(sandbox_client, *days_before(later, 7))
    got = changes(second.records(STREAM), "coffee_buyers")
    assert got["entered"] == set(now) - set(expected)
    assert got["exited"] == set(expected) - set(now)
    assert got["entered"]
    assert got["exited"]
    before_s, now_s = (
        searchers(sandbox_client, *days_before(TODAY, 3)),
        searchers(sandbox_client, *days_before(later, 3)),
    )
    got_s = changes(second.records(STREAM), "recent_searchers")
    assert (got_s["entered"], got_s["exited"]) == (now_s - before_s, before_s - now_s)
    for record in second.records(STREAM):
        assert record["in_audience"] is (record["change"] == "entered")
        assert record["generation"] == 2
        assert (record["window_from"], record["window_to"]) in {
            ("2026-11-16", "2026-11-22"),
            ("2026-11-20", "2026-11-22"),
        }


def test_changes_the_target_never_confirmed_are_sent_again_first_with_the_same_ids(
    sandbox_client: Any, config: dict[str, Any]
) -> None:
    first = run_tap(config, streams=[STREAM])
    confirmed = copy.deepcopy(first.state)
    sandbox_client.set_today("2026-11-23")
    second = run_tap(config, state=first.state, streams=[STREAM])
    # The target died before confirming run two: its STATE never reached the bookmark store.
    again = run_tap(config, state=confirmed, streams=[STREAM])
    sent, resent = second.records(STREAM), again.records(STREAM)
    assert resent == sent, "the unconfirmed generation again, identical, and nothing new"
    assert [p["generation"] for p in again.state["bookmarks"][STREAM]["partitions"]] == [3, 3]
    # Once confirmed, a run on the same day finds nothing new.
    quiet = run_tap(config, state=again.state, streams=[STREAM])
    assert quiet.records(STREAM) == []


def test_a_sweep_that_dies_leaves_no_membership_behind(
    sandbox_client: Any, config: dict[str, Any]
) -> None:
    first = run_tap(config, streams=[STREAM])
    sandbox_client.set_today("2026-11-23")
    sandbox_client.set_faults(server="clevertap", fault_5xx=1.0)
    failing = {**config, "max_retries": 0}
    with pytest.raises(CleverTapError):
        run_tap(failing, state=copy.deepcopy(first.state), streams=[STREAM])
    sandbox_client.set_faults(server="clevertap", fault_5xx=0.0)
    run = run_tap(config, state=first.state, streams=[STREAM])
    before = coffee_members(sandbox_client, *days_before(TODAY, 7))
    now = coffee_members(sandbox_client, *days_before(dt.date(2026, 11, 23), 7))
    got = changes(run.records(STREAM), "coffee_buyers")
    assert got["exited"] == set(before) - set(now), "no false exit from the broken sweep"
    assert got["entered"] == set(now) - set(before)
    assert {r["generation"] for r in run.records(STREAM)} == {2}


def test_unchanged_members_on_request(sandbox_client: Any, config: dict[str, Any]) -> None:
    first = run_tap(config, streams=[STREAM])
    snapshot = run_tap(
        {**config, "audience_unchanged_members": True}, state=first.state, streams=[STREAM]
    )
    got = changes(snapshot.records(STREAM), "coffee_buyers")
    assert got["member"] == set(coffee_members(sandbox_client, *days_before(TODAY, 7)))
    assert not got["entered"]
    assert not got["exited"]
    assert all(r["in_audience"] for r in snapshot.records(STREAM))


def test_a_bookmark_the_store_does_not_know_stops_the_run(
    config: dict[str, Any], tmp_path: Any
) -> None:
    first = run_tap(config, streams=[STREAM])
    elsewhere = {**config, "audience_store_path": str(tmp_path / "new" / "store.db")}
    with pytest.raises(MembershipStoreError, match="does not hold it"):
        run_tap(elsewhere, state=first.state, streams=[STREAM])
    # A full refresh (no state) starts over: every current member enters again.
    fresh = run_tap(elsewhere, streams=[STREAM])
    assert Counter(r["change"] for r in fresh.records(STREAM)) == Counter(
        r["change"] for r in first.records(STREAM)
    )


def test_the_store_is_used_by_one_run_at_a_time(tmp_path: Any) -> None:
    store = MembershipStore(tmp_path / "store.db")
    try:
        with pytest.raises(MembershipStoreError, match="in use by another run"):
            MembershipStore(tmp_path / "store.db")
    finally:
        store.close()
    MembershipStore(tmp_path / "store.db").close()


def test_memberships_live_in_the_store_not_in_the_bookmark(
    config: dict[str, Any], tmp_path: Any
) -> None:
    run = run_tap(config, streams=[STREAM])
    partition = run.state["bookmarks"][STREAM]["partitions"][0]
    assert set(partition) == {"context", "generation", "generation_id", "window_to"}
    with contextlib.closing(sqlite3.connect(tmp_path / "store.db")) as db:
        (count,) = db.execute("select count(*) from members").fetchone()
    assert count == len(run.records(STREAM))


def test_the_export_asks_only_for_identities(sandbox_client: Any, config: dict[str, Any]) -> None:
    run_tap(config, streams=[STREAM])
    opens = [
        r
        for r in sandbox_client.clevertap_requests()
        if r["method"] == "POST" and r["path"].startswith("/1/profiles.json?batch_size")
    ]
    assert len(opens) == 2
    for request in opens:
        assert "events=false" in request["path"]
        assert "profile=false" in request["path"]
    assert sandbox_client.clevertap_stats()["max_concurrent"]["export"] <= 3


@pytest.mark.parametrize(
    ("audience", "fragment"),
    [
        ({**SEARCHERS, "min_count": 2}, "frequency condition"),
        ({**SEARCHERS, "at_least_times": 2}, "no count condition"),
        ({**SEARCHERS, "demographics": []}, "documents no shape"),
        ({**SEARCHERS, "did_all": []}, "advanced event filters"),
        ({**SEARCHERS, "colour": "red"}, "unknown key `colour`"),
        ({**SEARCHERS, "last_days": 0}, "from 1 to 365"),
        ({**SEARCHERS, "last_days": 400}, "from 1 to 365"),
        ({"name": "x", "last_days": 3}, "`event_name` is required"),
        ({**SEARCHERS, "name": ""}, "non-empty `name`"),
        (
            {**SEARCHERS, "event_properties": [{"name": "A", "operator": "approx", "value": 1}]},
            "operator 'approx'",
        ),
        (
            {
                **SEARCHERS,
                "event_properties": [{"name": "A", "operator": "less_than", "value": "x"}],
            },
            "compares numbers",
        ),
        (
            {**SEARCHERS, "event_properties": [{"name": "A", "operator": "contains", "value": 3}]},
            "compares text",
        ),
        (
            {**SEARCHERS, "event_properties": [{"name": "A", "value": {"nested": 1}}]},
            "strings, numbers or booleans",
        ),
        ({**SEARCHERS, "session_properties": {"name": "A"}}, "must be a list"),
    ],
)
def test_definitions_the_profiles_export_cannot_take_are_refused(
    audience: dict[str, Any], fragment: str
) -> None:
    with pytest.raises(SettingsError, match=fragment):
        parse_audiences([audience])


def test_definitions_are_read_as_clevertap_takes_them() -> None:
    (coffee, searching) = parse_audiences([COFFEE, {**SEARCHERS, "key": "search_3"}])
    assert coffee.key == "coffee_buyers"
    assert searching.key == "search_3"
    assert coffee.conditions() == {
        "event_properties": [
            {"name": "Category", "operator": "equals", "value": "Coffee"},
            {"name": "Amount", "operator": "greater_than", "value": 150},
        ],
        "common_profile_properties": {
            "profile_fields": [{"name": "Marketing Opt In", "operator": "equals", "value": "True"}]
        },
    }
    assert coffee.window(TODAY, include_today=False) == (
        dt.date(2026, 11, 13),
        dt.date(2026, 11, 19),
    )
    assert searching.window(TODAY, include_today=True) == (
        dt.date(2026, 11, 18),
        dt.date(2026, 11, 20),
    )
    with pytest.raises(SettingsError, match="two audiences have the name"):
        parse_audiences([SEARCHERS, SEARCHERS])
    with pytest.raises(SettingsError, match="two audiences have the key"):
        parse_audiences([SEARCHERS, {**COFFEE, "key": "recent_searchers"}])
