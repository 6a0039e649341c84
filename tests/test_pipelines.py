"""Every job of meltano.yml, run for real (`meltano run` subprocesses) against the sandbox.

Expected numbers come from the sandbox's own ground truth (`seed_summary`) and from what it
received, never from the plugins under test.
"""

from __future__ import annotations

import json
import typing as t
from collections import Counter

import pytest
from pipeline_support import ROOT, MeltanoProject
from sandbox_truth import (
    FIRST_DAY,
    LAST_DAY,
    duckdb_rows,
    expected_events,
    exportable_event_names,
    read_jsonl,
)

pytestmark = pytest.mark.e2e

# Every stream of tap-clevertap: the plain tap (no select) extracts them all.
ALL_STREAMS = {
    "events",
    "profiles",
    "campaigns",
    "campaign_reports",
    "message_reports",
    "event_counts",
    "profile_counts",
    "trends",
    "event_schema",
    "user_property_schema",
    "property_name_audit",
}


@pytest.fixture
def project(meltano_project: MeltanoProject) -> MeltanoProject:
    meltano_project.env["TAP_CLEVERTAP_START_DATE"] = FIRST_DAY
    return meltano_project


def test_clevertap_to_segment_delivers_every_event_and_profile_exactly_once(
    project: MeltanoProject, sandbox: t.Any
) -> None:
    project.run("run", "clevertap-to-segment")
    truth = sandbox.client.seed_summary()
    messages = sandbox.client.segment_messages()
    stats = sandbox.client.segment_stats()

    tracks = Counter(m["event"] for m in messages if m["type"] == "track")
    expected = {k: v for k, v in expected_events(truth, FIRST_DAY, LAST_DAY).items() if v}
    assert dict(tracks) == expected
    assert stats["duplicates"] == 0
    assert stats["dropped"] == 0
    assert len({m["messageId"] for m in messages}) == len(messages)

    identifies = [m for m in messages if m["type"] == "identify"]
    assert identifies, "profiles become identify calls"
    people = {(m.get("userId"), m.get("anonymousId")) for m in identifies}
    assert len(people) == len(identifies)  # one identify per profile
    assert max(truth["profiles"]["by_event"].values()) <= len(identifies)
    assert len(identifies) <= truth["profiles"]["total"]

    summary = project.summary("target-segment")  # the job's last task: profiles -> identify
    assert summary["rejected"] == 0
    assert summary["delivered"] == len(identifies)

    state = project.state("demo:tap-clevertap-events-to-target-segment")
    partitions = state["singer_state"]["bookmarks"]["events"]["partitions"]
    bookmarks = {p["context"]["event_name"]: p.get("replication_key_value") for p in partitions}
    # every exportable event is bookmarked at the last completed day (even days without events);
    # events CleverTap refuses to export are skipped and keep no bookmark
    exportable = set(expected_events(truth, FIRST_DAY, LAST_DAY))
    assert {name for name, day in bookmarks.items() if day} == exportable
    assert {bookmarks[name] for name in exportable} == {LAST_DAY}
    assert all(bookmarks.get(name) is None for name in truth["not_exportable_events"])


def test_plain_tap_extracts_every_stream_then_runs_incrementally(
    project: MeltanoProject, sandbox: t.Any
) -> None:
    """`meltano --environment=demo run tap-clevertap target-jsonl`: all eleven streams, fast.

    demo counts a few events (count_events) and polls quickly, so the count streams do not cost a
    polled query per event and day for every one of the account's ~110 events.
    """
    jsonl = project.output / "jsonl"
    output = jsonl / "events.jsonl"
    project.run("run", "tap-clevertap", "target-jsonl")
    assert {path.stem for path in jsonl.glob("*.jsonl")} == ALL_STREAMS
    truth = sandbox.client.seed_summary(event_profiles=False)
    first = read_jsonl(output)
    expected = {k: v for k, v in expected_events(truth, FIRST_DAY, LAST_DAY).items() if v}
    assert dict(Counter(r["event_name"] for r in first)) == expected
    assert len({r["event_id"] for r in first}) == len(first)
    profiles = read_jsonl(jsonl / "profiles.jsonl")
    people = sandbox.client.seed_profile_object_ids(
        exportable_event_names(truth), FIRST_DAY, LAST_DAY
    )
    assert {p["objectId"] or p["platformInfo"][0]["objectId"] for p in profiles} == people
    assert len(profiles) == len(people)
    counted = {r["event_name"] for r in read_jsonl(jsonl / "event_counts.jsonl")}
    assert counted == {"App Launched", "Charged", "Added To Cart"}  # demo's count_events
    for stream in ALL_STREAMS:
        assert read_jsonl(jsonl / f"{stream}.jsonl"), f"no {stream} records"

    sandbox.client.set_today("2026-11-21")  # a day passes: 2026-11-20 is complete now
    output.unlink()
    project.run("run", "tap-clevertap", "target-jsonl")
    truth = sandbox.client.seed_summary(event_profiles=False)
    second = read_jsonl(output)
    # lookback_days = 2: the two completed days before the bookmark's next day, plus the new day
    assert len(second) == sum(expected_events(truth, "2026-11-18", "2026-11-20").values())
    assert {r["event_date"] for r in second} == {"2026-11-18", "2026-11-19", "2026-11-20"}
    overlap = {r["event_id"] for r in first} & {r["event_id"] for r in second}
    assert len(overlap) == sum(expected_events(truth, "2026-11-18", "2026-11-19").values())

    output.unlink()
    project.run("run", "--full-refresh", "tap-clevertap", "target-jsonl")
    assert len(read_jsonl(output)) == sum(expected_events(truth, FIRST_DAY, "2026-11-20").values())


def test_segment_archive_to_clevertap_writes_segment_style_keys(
    project: MeltanoProject, sandbox: t.Any
) -> None:
    project.run("run", "segment-to-clevertap")
    archive = read_jsonl(ROOT / "target-clevertap" / "samples" / "segment-archive.jsonl")
    summary = project.summary("target-clevertap")
    assert summary["received"] == len(archive)
    assert summary["delivered"] + summary["rejected"] + summary["skipped"] == len(archive)
    assert summary["delivered"] > 0

    profiles = sandbox.client.clevertap_profiles()
    keys = {key for profile in profiles for key in (profile.get("profileData") or {})}
    trait_names = {k for m in archive if m.get("type") == "identify" for k in m.get("traits", {})}
    assert "Industry Of Traits" in trait_names or "industryOfTraits" in trait_names
    assert "industry_of_traits" in keys
    assert not {k for k in keys if " " in k and not k.startswith("MSG-")} - {"Customer Type"}, (
        "every custom key was snake_cased as Segment's destination does"
    )
    events = sandbox.client.clevertap_uploaded_events()
    assert {e["evtName"] for e in events} >= {
        m["event"] for m in archive if m.get("type") == "track" and m["event"] != "Order Completed"
    }

    # tap-jsonl bookmarks the file's modified time, not a line: the unchanged archive is read
    # again in full, and target-clevertap's journal keeps every event from being uploaded twice.
    project.run("run", "segment-to-clevertap")
    again = project.summary("target-clevertap")
    assert again["received"] == len(archive)
    assert again["skipped_by_reason"].get("already_delivered", 0) >= len(events)
    assert again["rejected"] == summary["rejected"]
    assert sandbox.client.clevertap_uploaded_events() == events  # nothing doubled
    # profiles are uploaded again, but an upload sets the same values: nothing changes
    after = {p["identity"]: p["profileData"] for p in sandbox.client.clevertap_profiles()}
    assert after == {p["identity"]: p["profileData"] for p in profiles}


def test_clevertap_to_warehouse_loads_duckdb(project: MeltanoProject, sandbox: t.Any) -> None:
    project.run("run", "clevertap-to-warehouse")
    truth = sandbox.client.seed_summary(event_profiles=False)
    loaded = dict(
        duckdb_rows(
            project.output / "warehouse.duckdb",
            "select event_name, count(*) from clevertap.events group by 1",
        )
    )
    expected = {k: v for k, v in expected_events(truth, FIRST_DAY, LAST_DAY).items() if v}
    assert loaded == expected


def test_meltano_works_from_a_subdirectory(project: MeltanoProject) -> None:
    result = project.run("config", "list", "tap-clevertap", cwd=ROOT / "tap-clevertap" / "tests")
    assert "account_id" in result.stdout
    listing = project.run("schedule", "list", "--format=json", cwd=ROOT / "api-sandbox")
    names = {s["name"] for s in json.loads(listing.stdout)["schedules"]["job"]}
    assert "clevertap-events-to-segment-hourly" in names
