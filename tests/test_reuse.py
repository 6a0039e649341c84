"""Our plugins with third-party plugins from PyPI: a PyPI tap into each target, a mapper between."""

from __future__ import annotations

import typing as t

import pytest
from pipeline_support import ROOT, MeltanoProject
from sandbox_truth import read_jsonl

pytestmark = pytest.mark.e2e


def test_pypi_tap_jsonl_into_target_segment_with_a_generic_mapping(
    meltano_project: MeltanoProject, sandbox: t.Any
) -> None:
    orders = read_jsonl(ROOT / "samples" / "orders.jsonl")
    meltano_project.run("run", "tap-orders-file", "target-segment")
    messages = sandbox.client.segment_messages()
    assert len(messages) == len(orders)
    by_user: dict[str, list[float]] = {}
    for message in messages:
        assert message["type"] == "track"
        assert message["event"] == "Order Completed"
        by_user.setdefault(message["userId"], []).append(message["properties"]["total"])
    expected: dict[str, list[float]] = {}
    for order in orders:
        expected.setdefault(order["customer_id"], []).append(order["total"])
    assert {k: sorted(v) for k, v in by_user.items()} == {k: sorted(v) for k, v in expected.items()}
    timestamps = {m["properties"]["order_id"]: m["timestamp"] for m in messages}
    for order in orders:
        assert timestamps[order["order_id"]].startswith(order["created_at"][:19])

    # tap-jsonl bookmarks the file's modified time, not the last line read: a second run re-reads
    # the unchanged file and sends every order again, with the same messageIds, so Segment keeps
    # each once (its deduplication by messageId).
    meltano_project.run("run", "tap-orders-file", "target-segment")
    assert meltano_project.summary("target-segment")["delivered"] == len(orders)
    stats = sandbox.client.segment_stats()
    assert (stats["received"], stats["accepted"], stats["duplicates"]) == (
        2 * len(orders),
        len(orders),
        len(orders),
    )
    assert sandbox.client.segment_messages() == messages


def test_mapper_between_tap_clevertap_and_a_pypi_loader(
    meltano_project: MeltanoProject, sandbox: t.Any
) -> None:
    meltano_project.env["TAP_CLEVERTAP_START_DATE"] = "2026-11-18"
    meltano_project.run("run", "tap-clevertap-events", "slim-events", "target-jsonl")
    records = read_jsonl(meltano_project.output / "jsonl" / "events.jsonl")
    truth = sandbox.client.seed_summary(event_profiles=False)
    skipped = set(truth["not_exportable_events"])
    expected = sum(
        n
        for name, info in truth["events"].items()
        if name not in skipped
        for day, n in info["days"].items()
        if day >= "20261118"
    )
    assert len(records) == expected
    assert all("profile" not in r and "session_props" not in r for r in records)
    assert {"event_id", "event_name", "event_props", "user_identity"} <= set(records[0])
    assert any(r["user_identity"] for r in records)


def test_mapper_hashes_emails_before_segment(
    meltano_project: MeltanoProject, sandbox: t.Any
) -> None:
    meltano_project.env["TAP_CLEVERTAP_START_DATE"] = "2026-11-19"
    meltano_project.run("run", "tap-clevertap-profiles", "hash-emails", "target-segment")
    identifies = [m for m in sandbox.client.segment_messages() if m["type"] == "identify"]
    assert identifies
    emails = [m["traits"].get("email") for m in identifies if m["traits"].get("email")]
    assert emails, "profiles with an email keep a (hashed) email trait"
    assert all(len(e) == 32 and "@" not in e for e in emails)
    assert all("phone" not in m["traits"] for m in identifies)
