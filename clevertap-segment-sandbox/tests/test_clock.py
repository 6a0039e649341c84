"""The account clock: history up to yesterday, moving today, late-arriving data."""

from __future__ import annotations

from typing import Any

YESTERDAY = 20261119
SLIM = "?app=false&events=false&profile=false"


def test_moving_today_adds_days_and_keeps_old_ones(clevertap: Any, sandbox_client: Any) -> None:
    before = sandbox_client.seed_summary(event_profiles=False)
    assert before["history"] == {"first_day": "2026-11-06", "last_day": "2026-11-19"}
    rejected = clevertap.post(
        "/1/events.json", {"event_name": "Search", "from": 20261121, "to": 20261121}
    )
    assert rejected.status_code == 400
    sandbox_client.set_today("2026-11-23")
    after = sandbox_client.seed_summary(event_profiles=False)
    assert after["history"] == {"first_day": "2026-11-06", "last_day": "2026-11-22"}
    for day in ("20261120", "20261121", "20261122"):
        assert day not in before["events"]["Search"]["days"]
        assert after["events"]["Search"]["days"][day] > 0
    assert (
        len(clevertap.export("Search", 20261121, 20261121, query=SLIM))
        == (after["events"]["Search"]["days"]["20261121"])
    )
    old_day = str(YESTERDAY - 5)
    assert after["events"]["Search"]["days"][old_day] == before["events"]["Search"]["days"][old_day]


def test_late_records_appear_once_the_day_is_older_than_yesterday(
    sandbox_factory: Any, caller_for: Any
) -> None:
    sandbox = sandbox_factory(late_fraction=0.5, days=3, profiles=100)
    client, control = caller_for(sandbox), sandbox.client
    on_time = control.seed_summary(event_profiles=False)
    yesterday_count = on_time["events"]["Product Viewed"]["days"][str(YESTERDAY)]
    pending = on_time["late_pending"]["Product Viewed"][str(YESTERDAY)]
    assert pending > 0
    assert str(YESTERDAY - 1) not in on_time["late_pending"].get("Product Viewed", {})
    first_read = client.export("Product Viewed", YESTERDAY, YESTERDAY, query=SLIM)
    assert len(first_read) == yesterday_count

    opened_before = client.open("Product Viewed", YESTERDAY, YESTERDAY, query=SLIM)
    control.set_today("2026-11-21")
    later = control.seed_summary(event_profiles=False)
    assert later["events"]["Product Viewed"]["days"][str(YESTERDAY)] == yesterday_count + pending
    second_read = client.export("Product Viewed", YESTERDAY, YESTERDAY, query=SLIM)
    assert len(second_read) == yesterday_count + pending
    first_keys = {(r["ts"], r["profile"]["objectId"]) for r in first_read}
    second_keys = {(r["ts"], r["profile"]["objectId"]) for r in second_read}
    assert first_keys <= second_keys, "a lookback re-read returns the early records again"
    snapshot = [r for page in client.walk(opened_before) for r in page.get("records", [])]
    assert len(snapshot) == yesterday_count, "a chain keeps the clock it was opened with"


def test_date_header_follows_the_account_clock(clevertap: Any, sandbox_client: Any) -> None:
    from datetime import date
    from email.utils import parsedate_to_datetime
    from zoneinfo import ZoneInfo

    tz = ZoneInfo(sandbox_client.seed_summary(event_profiles=False)["timezone"])
    response = clevertap.get("/getSchema?type=events")
    assert parsedate_to_datetime(response.headers["Date"]).astimezone(tz).date() == date(
        2026, 11, 20
    )
    sandbox_client.set_today("2026-11-23")
    response = clevertap.get("/getSchema?type=events")
    assert parsedate_to_datetime(response.headers["Date"]).astimezone(tz).date() == date(
        2026, 11, 23
    )
