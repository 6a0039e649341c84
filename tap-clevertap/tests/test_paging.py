"""Cursor paging against the sandbox: every record of every day, whatever the page sizes."""

from __future__ import annotations

import datetime as dt

import orjson
from tap_clevertap.client import CleverTapClient, ExportLimiter
from tap_clevertap.settings import Settings
from tap_clevertap_testkit import (
    EVENTS,
    FIRST_DAY,
    LAST_DAY,
    counts_by_day,
    expected_days,
    run_tap,
    tap_config,
)


def _client(sandbox, **overrides):
    return CleverTapClient(Settings.from_config(tap_config(sandbox, **overrides)), ExportLimiter(3))


def test_small_pages_return_every_record_of_every_day(sandbox, sandbox_client):
    summary = sandbox_client.seed_summary()
    run = run_tap(tap_config(sandbox, batch_size=23))
    records = run.records()
    for name in EVENTS:
        expected = {day: n for day, n in expected_days(summary, name).items() if n}
        assert counts_by_day(records, name) == expected, name
    assert len({r["event_id"] for r in records}) == len(records)
    stats = sandbox_client.clevertap_stats()
    # 23 records a page: far more pages than days, so chains were long.
    assert stats["cursors"]["pages_served"] > 3 * len(EVENTS) * 14
    assert stats["cursors"]["invalid"] == 0  # every cursor went back byte for byte


def test_long_chain_with_short_last_pages_is_followed_to_the_end(sandbox, sandbox_client):
    summary = sandbox_client.seed_summary()
    day = dt.date(2026, 11, 18)
    expected = expected_days(summary, "App Launched")[day.isoformat()]
    pages = list(_client(sandbox, batch_size=23).export_pages("events", "App Launched", day, day))
    sizes = [len(orjson.loads(page)["records"]) for page in pages]
    assert sum(sizes) == expected
    assert len(sizes) >= 4
    assert sizes[-1] < sizes[0]  # the last pages are short and paging went on through them


def test_empty_pages_mid_chain_do_not_stop_paging(sandbox, sandbox_client):
    summary = sandbox_client.seed_summary()
    per_day = expected_days(summary, "App Version Changed")
    assert 0 in per_day.values()  # the seed has empty days inside the window
    client = _client(sandbox)
    pages = list(client.export_pages("events", "App Version Changed", FIRST_DAY, LAST_DAY))
    total = sum(len(orjson.loads(page)["records"]) for page in pages)
    assert total == sum(per_day.values())
    stats = sandbox_client.clevertap_stats()["cursors"]
    assert stats["pages_served"] > len(pages)  # empty pages were served and walked past


def test_profiles_export_pages(sandbox, sandbox_client):
    summary = sandbox_client.seed_summary()
    client = _client(sandbox, batch_size=46)
    pages = list(client.export_pages("profiles", "Charged", FIRST_DAY, LAST_DAY))
    records = [r for page in pages for r in orjson.loads(page)["records"]]
    assert len(records) == summary["profiles"]["by_event"]["Charged"]
    ids = {r.get("objectId") or r["platformInfo"][0]["objectId"] for r in records}
    assert ids == sandbox_client.seed_profile_object_ids(["Charged"], FIRST_DAY, LAST_DAY)
    assert len(pages) > 1
