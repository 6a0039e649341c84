"""Every job of meltano.yml, run for real (`meltano run` subprocesses) against the sandbox.

Expected numbers come from the sandbox's own ground truth (`seed_summary`) and from what it
received, never from the plugins under test.
"""

from __future__ import annotations

import json
import typing as t
from collections import Counter

import pytest
import requests
from pipeline_support import ROOT, MeltanoProject
from sandbox_truth import (
    FIRST_DAY,
    LAST_DAY,
    duckdb_rows,
    expected_events,
    exportable_event_names,
    read_jsonl,
)

if t.TYPE_CHECKING:
    from pathlib import Path

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


def audit_splits(project: MeltanoProject) -> set[tuple[str, frozenset[str]]]:
    """tap-clevertap's property_name_audit: the names the account holds in several spellings."""
    output = project.output / "jsonl" / "property_name_audit.jsonl"
    output.unlink(missing_ok=True)
    env = {**project.env, "TAP_CLEVERTAP__SELECT": '["property_name_audit.*"]'}
    MeltanoProject(env=env, output=project.output).run("run", "tap-clevertap", "target-jsonl")
    return {
        (row["scope"], frozenset(row["match_account_spellings"]))
        for row in read_jsonl(output)
        if row["match_account_split"]
    }


def test_segment_archive_to_clevertap_writes_the_accounts_spellings(
    project: MeltanoProject, sandbox: t.Any
) -> None:
    """The demo job: match_account, integrations opt-outs skipped, a too-long field dropped."""
    splits_before = audit_splits(project)
    project.run("run", "segment-to-clevertap")
    archive = read_jsonl(ROOT / "target-clevertap" / "samples" / "segment-archive.jsonl")
    summary = project.summary("target-clevertap")
    assert summary["received"] == len(archive)
    assert summary["delivered"] + summary["rejected"] + summary["skipped"] == len(archive)
    assert summary["skipped_by_reason"] == {"integrations_opt_out": 2}
    assert summary["dropped_fields_by_rule"] == {"value_too_long": 1}
    names = summary["account_names"]
    assert names["split"] > 0
    assert names["new_names_convention"] == "none"  # the sandbox account mostly keeps names

    profiles = {p["identity"]: p["profileData"] for p in sandbox.client.clevertap_profiles()}
    # the account's spellings, both ways, and Segment's trimmed value
    assert profiles["u-1008"]["Home Store"] == "Pune"
    assert profiles["u-1008"]["fav_city"] == "Mumbai"
    assert profiles["u-1008"]["industry_of_traits"] == "Hello World"
    events = sandbox.client.clevertap_uploaded_events()
    cart = next(e for e in events if e["evtName"] == "Cart Viewed")
    assert "products" not in cart["evtData"]
    assert {e["evtName"] for e in events}.isdisjoint(
        {"Internal Audit Ping", "Support Ticket Opened"}
    )
    (dropped,) = [r for r in project.rejected("target-clevertap") if r["kind"] == "dropped_field"]
    assert (dropped["field"], dropped["rule"]) == ("products", "value_too_long")
    assert audit_splits(project) == splits_before  # no new split

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
    assert after == profiles


def test_match_account_keeps_the_accounts_spellings_end_to_end(
    project: MeltanoProject, sandbox: t.Any, tmp_path: Path
) -> None:
    """An account fed by an SDK and by Segment's destination gets no second key from us."""
    headers = {
        "X-CleverTap-Account-Id": "SANDBOX-ACCOUNT",
        "X-CleverTap-Passcode": "sandbox-passcode",
    }
    seed = {
        "d": [
            {
                "type": "event",
                "identity": "seed",
                "evtName": "Plan Chosen",
                "evtData": {"industry_of_traits": "Retail", "Plan Type": "Pro"},
            },
            {
                "type": "profile",
                "identity": "seed",
                "profileData": {"customer_tier": "gold", "Favourite Colour": "red"},
            },
        ]
    }
    seeded = requests.post(
        f"{sandbox.clevertap_url}/1/upload", json=seed, headers=headers, timeout=30
    )
    assert seeded.json()["status"] == "success"
    splits_before = audit_splits(project)
    archive = tmp_path / "archive.jsonl"
    messages = [
        {
            "type": "track",
            "messageId": "e2e-1",
            "userId": "u-9",
            "event": "Plan Chosen",
            "timestamp": "2026-11-19T10:00:00Z",
            "properties": {"Industry Of Traits": "Retail", "plan_type": "Free", "Seats Bought": 3},
        },
        {
            "type": "identify",
            "messageId": "e2e-2",
            "userId": "u-9",
            "timestamp": "2026-11-19T10:00:01Z",
            "traits": {
                "Customer Tier": "silver",
                "favourite_colour": "blue",
                "Industry Of Traits": "Retail",  # split in the account
                "Referral Source": "podcast",  # new
            },
        },
    ]
    archive.write_text("".join(json.dumps(m) + "\n" for m in messages))
    project.env["TAP_SEGMENT_ARCHIVE_PATH"] = str(archive)
    project.run("run", "tap-segment-archive", "target-clevertap")

    event = next(
        e for e in sandbox.client.clevertap_uploaded_events() if e.get("identity") == "u-9"
    )
    assert event["evtData"] == {
        "industry_of_traits": "Retail",
        "Plan Type": "Free",
        "Seats Bought": 3,
    }
    profile = next(p for p in sandbox.client.clevertap_profiles() if p.get("identity") == "u-9")
    assert profile["profileData"] == {
        "customer_tier": "silver",
        "Favourite Colour": "blue",
        "industry_of_traits": "Retail",  # newest of "Industry Of Traits", "industry_of_traits"
        "Referral Source": "podcast",
    }
    names = project.summary("target-clevertap")["account_names"]
    (split,) = names["split_sample"]
    assert split["spellings"] == ["Industry Of Traits", "industry_of_traits"]
    convention = names["new_names_convention"]
    new = {(n["name"], n["written"]) for n in names["new_sample"]}
    assert new == {("Seats Bought", "Seats Bought"), ("Referral Source", "Referral Source")}
    assert convention == "none"  # as reported: new names as sent
    assert audit_splits(project) == splits_before  # no new split


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
    listing = project.run(
        "schedule", "list", "--format=json", cwd=ROOT / "clevertap-segment-sandbox"
    )
    names = {s["name"] for s in json.loads(listing.stdout)["schedules"]["job"]}
    assert "clevertap-events-to-segment-hourly" in names


def test_events_left_in_doubt_are_settled_by_the_resolve_command(
    project: MeltanoProject, sandbox: t.Any
) -> None:
    """A receiver that stores every upload and resets the connection before answering.

    `meltano run` must list every event in doubt and send none twice; `meltano invoke
    target-clevertap:resolve-uncertain` finds them in the export, and the journal then keeps a
    re-run from sending them again.
    """
    orders = read_jsonl(ROOT / "samples" / "orders.jsonl")
    mapping = {
        "kind": "event",
        "identity": "customer_id",
        "event_name": "Order Completed",
        "timestamp": "created_at",
        "exclude": ["products"],
    }
    project.env["TARGET_CLEVERTAP_STREAM_MAPPINGS"] = json.dumps({"orders": mapping})
    sandbox.client.set_faults(server="clevertap", fault_stored_reset=1.0)
    try:
        project.run("run", "tap-orders-file", "target-clevertap")
    finally:
        sandbox.client.set_faults(server="clevertap", fault_stored_reset=0.0)
    assert project.summary("target-clevertap")["rejected_by_rule"] == {
        "delivery_uncertain": len(orders)
    }
    ids = sorted(order["order_id"] for order in orders)
    stored = sandbox.client.clevertap_uploaded_events()
    assert sorted(event["evtData"]["order_id"] for event in stored) == ids  # each once

    result = project.run("invoke", "target-clevertap:resolve-uncertain", "--settle-minutes", "0")
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert (report["in_doubt"], report["stored"]) == (len(orders), len(orders))
    assert "sandbox-passcode" not in result.stdout + result.stderr

    project.run("run", "tap-orders-file", "target-clevertap")
    again = project.summary("target-clevertap")
    assert again["skipped_by_reason"] == {"already_delivered": len(orders)}
    assert sandbox.client.clevertap_uploaded_events() == stored
