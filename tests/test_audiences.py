"""Past-behavior audiences to Segment: `meltano run clevertap-audiences-to-segment` for real.

The audiences are the two defined in meltano.yml; who belongs to them is computed here from the
sandbox's raw seeded records (`audience_truth`), never by the tap or the sandbox's filters.
"""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import time
import typing as t

import pytest
from pipeline_support import MELTANO, ROOT, MeltanoProject
from sandbox_truth import audience_truth, configured_audiences

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

STATE_ID = "demo:tap-clevertap-audiences-to-target-segment"
TODAY = dt.date(2026, 11, 20)  # the session sandbox's pinned today
LATER = dt.date(2026, 11, 23)


def key_of(audience: dict[str, t.Any]) -> str:
    """Segment's audience key: the snake_cased name (the names here are plain words)."""
    return str(audience["name"]).lower().replace(" ", "_")


def calls_by_audience(messages: list[dict[str, t.Any]], key: str) -> dict[str, dict[str, t.Any]]:
    """For one audience: event or trait value -> {anonymousId: userId} of the calls received."""
    found: dict[str, dict[str, t.Any]] = {}
    for message in messages:
        if message["type"] == "track" and message["properties"].get("audience_key") == key:
            assert message["properties"] == {
                "audience_key": key,
                key: message["event"] == "Audience Entered",
            }
            bucket = found.setdefault(message["event"], {})
        elif message["type"] == "identify" and key in message["traits"]:
            assert list(message["traits"]) == [key]
            bucket = found.setdefault(f"trait {message['traits'][key]}", {})
        else:
            continue
        assert message["anonymousId"] not in bucket, "one call of each kind per member"
        bucket[message["anonymousId"]] = message.get("userId")
    return found


def expected_changes(
    before: dict[str, str | None], after: dict[str, str | None]
) -> dict[str, dict[str, t.Any]]:
    entered = {member: after[member] for member in after.keys() - before.keys()}
    exited = {member: before[member] for member in before.keys() - after.keys()}
    found = {}
    if entered:
        found["Audience Entered"] = entered
        found["trait True"] = entered
    if exited:
        found["Audience Exited"] = exited
        found["trait False"] = exited
    return found


def truth(sandbox: t.Any, today: dt.date) -> dict[str, dict[str, str | None]]:
    return {key_of(a): audience_truth(sandbox.client, a, today) for a in configured_audiences()}


def test_first_run_sends_every_member_then_exactly_the_entries_and_exits(
    meltano_project: MeltanoProject, sandbox: t.Any
) -> None:
    client = sandbox.client
    assert len(configured_audiences()) == 2
    meltano_project.run("run", "clevertap-audiences-to-segment")
    first = truth(sandbox, TODAY)
    messages = client.segment_messages()
    for key, members in first.items():
        assert members, key
        assert calls_by_audience(messages, key) == expected_changes({}, members), key
    assert len(messages) == 2 * sum(len(m) for m in first.values())
    state = meltano_project.state(STATE_ID)
    partitions = state["singer_state"]["bookmarks"]["audience_members"]["partitions"]
    assert sorted(p["generation"] for p in partitions) == [1, 1]

    client.set_today(LATER)  # three days on: the windows move, so people enter and leave
    meltano_project.run("run", "clevertap-audiences-to-segment")
    second = truth(sandbox, LATER)
    seen = {m["messageId"] for m in messages}
    new = [m for m in client.segment_messages() if m["messageId"] not in seen]
    exits = 0
    for key in first:
        changes = expected_changes(first[key], second[key])
        assert calls_by_audience(new, key) == changes, key
        exits += len(changes.get("Audience Exited", {}))
    assert exits, "the moved window made someone leave"
    assert client.segment_stats()["duplicates"] == 0
    assert meltano_project.summary("target-segment")["rejected"] == 0


def test_a_run_killed_half_way_sends_no_false_exit_and_doubles_nothing(
    meltano_project: MeltanoProject, sandbox: t.Any
) -> None:
    client = sandbox.client
    meltano_project.run("run", "clevertap-audiences-to-segment")
    first_messages = client.segment_messages()
    first = truth(sandbox, TODAY)
    client.set_today(LATER)
    second = truth(sandbox, LATER)
    expected = {key: expected_changes(first[key], second[key]) for key in first}
    # messages the second run must deliver: an identify and a track per change
    total = sum(len(calls) for changes in expected.values() for calls in changes.values())
    assert total > 40

    # Slow delivery (small batches, one at a time, 150 ms each) so the kill lands mid-run.
    client.set_latency(150, server="segment")
    env = {
        **meltano_project.env,
        "TARGET_SEGMENT_BATCH_SIZE_ROWS": "4",
        "TARGET_SEGMENT_MAX_CONCURRENCY": "1",
    }
    process = subprocess.Popen(
        [MELTANO, "--environment=demo", "run", "clevertap-audiences-to-segment"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        process_group=0,
    )
    try:
        target = len(first_messages) + 16
        while process.poll() is None and client.segment_stats()["accepted"] < target:
            time.sleep(0.05)
        assert process.poll() is None, "the run finished before it could be killed"
        os.killpg(process.pid, signal.SIGKILL)
    finally:
        process.wait()
    delivered_before_kill = client.segment_stats()["accepted"] - len(first_messages)
    assert 0 < delivered_before_kill < total

    client.set_latency(0, server="segment")
    meltano_project.run(
        "run", "--force", "clevertap-audiences-to-segment"
    )  # Meltano still thinks the killed run is going
    seen = {m["messageId"] for m in first_messages}
    new = [m for m in client.segment_messages() if m["messageId"] not in seen]
    for key, changes in expected.items():
        assert calls_by_audience(new, key) == changes, key
        stayed = first[key].keys() & second[key].keys()
        assert not stayed & calls_by_audience(new, key).get("Audience Exited", {}).keys()
    assert len(new) == total
    stats = client.segment_stats()
    assert stats["accepted"] == len(first_messages) + total
    # the re-run finished the killed run's generation and swept again (same day: no change)
    bookmarks = meltano_project.state(STATE_ID)["singer_state"]["bookmarks"]["audience_members"]
    assert all(p["generation"] >= 2 for p in bookmarks["partitions"])
