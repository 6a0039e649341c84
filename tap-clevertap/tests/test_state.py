"""Day bookmarks, lookback, late data and resuming an interrupted run."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from tap_clevertap_testkit import (
    EVENTS,
    LAST_DAY,
    bookmarks,
    counts_by_day,
    expected_days,
    parse_messages,
    run_tap,
    tap_config,
)

TAP = str(Path(sys.executable).with_name("tap-clevertap"))


def _post_count(client, path="/1/events.json"):
    return client.clevertap_stats()["requests"].get(f"POST {path}", {}).get("200", 0)


def test_each_partition_bookmarks_its_last_completed_day(sandbox, sandbox_client):
    run = run_tap(tap_config(sandbox))
    assert bookmarks(run.state) == dict.fromkeys(EVENTS, LAST_DAY.isoformat())
    assert run.state["bookmarks"]["profiles"]["replication_key_value"] == LAST_DAY.isoformat()
    text = json.dumps(run.states)
    assert "progress_markers" not in text
    # A STATE after every completed day, per event.
    assert len(run.states) >= 14 * len(EVENTS)


def test_a_bookmark_never_runs_ahead_of_the_records_emitted(sandbox, sandbox_client):
    run = run_tap(tap_config(sandbox, batch_size=23))
    emitted: dict[str, list[str]] = {name: [] for name in EVENTS}
    claimed: dict[str, str] = {}
    for message in run.messages:
        if message["type"] == "RECORD" and message["stream"] == "events":
            record = message["record"]
            day = record["event_date"]
            # Nothing of an already bookmarked day may arrive after its STATE.
            assert day > claimed.get(record["event_name"], ""), record["event_name"]
            emitted[record["event_name"]].append(day)
        elif message["type"] == "STATE":
            claimed = {k: v for k, v in bookmarks(message["value"]).items() if v}
    summary = sandbox_client.seed_summary()
    for name in EVENTS:
        assert len(emitted[name]) == sum(expected_days(summary, name).values())


def test_next_run_rereads_only_the_lookback_days(sandbox, sandbox_client):
    first = run_tap(tap_config(sandbox))
    before = _post_count(sandbox_client)
    profiles_before = _post_count(sandbox_client, "/1/profiles.json")
    second = run_tap(tap_config(sandbox, lookback_days=2), state=first.state)
    assert _post_count(sandbox_client) - before == 2 * len(EVENTS)
    assert _post_count(sandbox_client, "/1/profiles.json") == profiles_before  # nothing new
    assert {r["event_date"] for r in second.records()} == {"2026-11-18", "2026-11-19"}
    assert bookmarks(second.state) == dict.fromkeys(EVENTS, LAST_DAY.isoformat())


def test_new_days_and_late_data_are_picked_up(sandbox_factory):
    sandbox = sandbox_factory(seed=9, late_fraction=0.3)
    first = run_tap(tap_config(sandbox))
    partial = counts_by_day(first.records(), "App Launched")["2026-11-19"]
    sandbox.client.set_today(dt.date(2026, 11, 21))
    summary = sandbox.client.seed_summary()
    complete = expected_days(summary, "App Launched")["2026-11-19"]
    assert partial < complete  # the sandbox held back late records of 11-19

    later = tap_config(sandbox, end_date="2026-11-20", lookback_days=2)
    second = run_tap(later, state=first.state)
    union = first.records() + second.records()
    assert counts_by_day(union, "App Launched")["2026-11-19"] == complete
    assert (
        counts_by_day(union, "App Launched")["2026-11-20"]
        == expected_days(summary, "App Launched")["2026-11-20"]
    )
    assert bookmarks(second.state)["App Launched"] == "2026-11-20"

    no_lookback = run_tap(
        tap_config(sandbox, end_date="2026-11-20", lookback_days=0), state=first.state
    )
    assert "2026-11-19" not in counts_by_day(no_lookback.records(), "App Launched")


def _start(config_path: Path) -> subprocess.Popen[bytes]:
    """The tap as a subprocess; stderr goes to a file next to the config (never blocks)."""
    with config_path.with_suffix(".stderr").open("wb") as stderr:
        return subprocess.Popen(
            [TAP, "--config", str(config_path)], stdout=subprocess.PIPE, stderr=stderr
        )


def _read_until_partial_state(process: subprocess.Popen[bytes]) -> list[bytes]:
    """Read stdout until a STATE shows some but not all days of the first event done."""
    lines: list[bytes] = []
    assert process.stdout is not None
    for line in process.stdout:
        lines.append(line)
        if line.startswith(b'{"type":"STATE"'):
            marks = bookmarks(json.loads(line)["value"])
            day = marks.get("App Launched")
            if day and day >= "2026-11-10":
                return lines
    raise AssertionError("the run ended before it could be interrupted")


@pytest.mark.slow
def test_killed_run_resumes_from_the_last_completed_day(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(seed=3, latency_ms=10)
    summary = sandbox.client.seed_summary()
    config = tap_config(
        sandbox, max_concurrency=1, batch_size=46, lookback_days=0, profile_events=[]
    )
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))

    with _start(config_path) as process:
        lines = _read_until_partial_state(process)
        process.kill()
    first = parse_messages(b"".join(lines))
    state = next(m["value"] for m in reversed(first) if m["type"] == "STATE")
    marks = bookmarks(state)
    assert marks["App Launched"] < LAST_DAY.isoformat()

    second = run_tap({**config, "max_concurrency": 3}, state=state)
    # The resumed run starts right after each partition's bookmark...
    for name, day in marks.items():
        days = {r["event_date"] for r in second.records() if r["event_name"] == name}
        if day:
            assert min(days) > day
    # ...and together the two runs hold every record of every day.
    union = [m["record"] for m in first if m["type"] == "RECORD"] + second.records()
    for name in EVENTS:
        expected = {d: n for d, n in expected_days(summary, name).items() if n}
        assert counts_by_day(union, name) == expected


@pytest.mark.slow
def test_sigterm_writes_state_and_exits_non_zero(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(seed=4, latency_ms=10)
    config_path = tmp_path / "config.json"
    config = tap_config(sandbox, max_concurrency=1, batch_size=46, profile_events=[])
    config_path.write_text(json.dumps(config))
    with _start(config_path) as process:
        lines = _read_until_partial_state(process)
        os.kill(process.pid, signal.SIGTERM)
        rest, _ = process.communicate(timeout=30)
    stderr = config_path.with_suffix(".stderr").read_bytes()
    assert process.returncode == 128 + signal.SIGTERM
    messages = parse_messages(b"".join(lines) + rest)
    assert messages[-1]["type"] == "STATE"
    assert bookmarks(messages[-1]["value"])["App Launched"] < LAST_DAY.isoformat()
    assert b"Interrupted by signal 15" in stderr


def test_today_is_taken_from_clevertaps_clock(sandbox, sandbox_client):
    # No end_date: the last day requested is CleverTap's yesterday, whatever the local clock says.
    config = tap_config(sandbox, end_date=None, profile_events=[])
    first = run_tap(config)
    assert max(r["event_date"] for r in first.records()) == "2026-11-19"
    assert bookmarks(first.state) == dict.fromkeys(EVENTS, "2026-11-19")

    sandbox_client.set_today(dt.date(2026, 11, 22))
    second = run_tap(config, state=first.state)
    days = {r["event_date"] for r in second.records()}
    assert days == {"2026-11-18", "2026-11-19", "2026-11-20", "2026-11-21"}
    assert bookmarks(second.state) == dict.fromkeys(EVENTS, "2026-11-21")


def test_include_today_reads_today_but_never_bookmarks_it(sandbox, sandbox_client):
    before = _post_count(sandbox_client)
    config = tap_config(
        sandbox, end_date=None, include_today=True, start_date="2026-11-19", profile_events=[]
    )
    run = run_tap(config)
    assert _post_count(sandbox_client) - before == 2 * len(EVENTS)  # 11-19 and today, 11-20
    assert bookmarks(run.state) == dict.fromkeys(EVENTS, "2026-11-19")
