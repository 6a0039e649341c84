"""ts -> event_time end to end, in a fixed-offset zone and across a DST change."""

from __future__ import annotations

import datetime as dt
import zoneinfo

from tap_clevertap_testkit import run_tap, tap_config


def _expected(ts: int, zone: str) -> tuple[str, str]:
    text = str(ts)
    local = dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=zoneinfo.ZoneInfo(zone))
    return (
        local.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        f"{text[:4]}-{text[4:6]}-{text[6:8]}",
    )


def test_kolkata_event_times(sandbox, sandbox_client):
    records = run_tap(tap_config(sandbox, event_names=["Charged"])).records()
    assert records
    for record in records:
        assert (record["event_time"], record["event_date"]) == _expected(
            record["ts"], "Asia/Kolkata"
        )
    # +05:30: local times before 05:30 fall on the previous UTC day.
    assert any(r["event_time"][:10] < r["event_date"] for r in records)


def test_new_york_event_times_across_the_fall_back(sandbox_factory):
    sandbox = sandbox_factory(seed=8, timezone="America/New_York", today="2026-11-05")
    config = tap_config(
        sandbox,
        timezone="America/New_York",
        event_names=["App Launched"],
        start_date="2026-10-31",
        end_date="2026-11-02",
    )
    records = run_tap(config).records()
    offsets = set()
    for record in records:
        assert (record["event_time"], record["event_date"]) == _expected(
            record["ts"], "America/New_York"
        )
        utc = dt.datetime.fromisoformat(record["event_time"])
        local = dt.datetime.strptime(str(record["ts"]), "%Y%m%d%H%M%S")
        offsets.add(round((local - utc.replace(tzinfo=None)).total_seconds() / 3600))
    assert offsets == {-4, -5}  # EDT before the change, EST after
    assert {r["event_date"] for r in records} == {"2026-10-31", "2026-11-01", "2026-11-02"}
