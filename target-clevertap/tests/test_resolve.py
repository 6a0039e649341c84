"""target-clevertap-resolve settles events in doubt by what CleverTap's export shows.

A receiver stores some uploads and then resets the connection (``fault_stored_reset``) and resets
others before reading them (``fault_reset``): the target lists both kinds ``delivery_uncertain``.
The command, run as a process against the sandbox's event export, must find the first kind
stored, the second absent, and leave every event stored exactly once when asked to resend.
"""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest
from clevertap_segment_sandbox.pytest_plugin import PINNED_TODAY
from clevertap_testkit import config_for, read_jsonl, record, run_target, schema, state

EVENTS = {"kind": "event", "identity": "user", "event_name": "Ping"}
COUNT = 240


#: Event times spread over the three days before the sandbox's today.
FIRST = int(
    dt.datetime.combine(PINNED_TODAY - dt.timedelta(days=4), dt.time(12), dt.UTC).timestamp()
)


def uploads(count: int = COUNT) -> list[dict[str, t.Any]]:
    fields = {"user": {"type": "string"}, "n": {"type": "integer"}, "at": {"type": "integer"}}
    return [
        schema("pings", fields),
        *(
            record("pings", {"user": f"u-{n % 40}", "n": n, "at": FIRST + n * 997})
            for n in range(count)
        ),
        state({"bookmarks": {"pings": count}}),
    ]


def stored(client: t.Any) -> list[int]:
    return sorted(e["evtData"]["n"] for e in client.clevertap_uploaded_events())


def resolve(config: dict[str, t.Any], tmp_path: Path, *args: str) -> dict[str, t.Any]:
    path = tmp_path / "resolve-config.json"
    path.write_text(json.dumps(config))
    done = subprocess.run(
        [sys.executable, "-m", "target_clevertap.resolve", "--config", str(path), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert config["passcode"] not in done.stdout + done.stderr
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


@pytest.fixture
def in_doubt(sandbox_factory: t.Any, files: dict[str, str]) -> tuple[t.Any, dict[str, t.Any]]:
    """A loaded sandbox with events in doubt of both kinds; faults off again afterwards."""
    process = sandbox_factory(fault_stored_reset=0.25, fault_reset=0.1)
    config = config_for(
        process,
        files,
        stream_mappings={"pings": {**EVENTS, "timestamp": "at"}},
        batch_size_rows=10,
        max_concurrency=2,
        max_retries=20,
        account_timezone=process.settings.timezone,
    )
    run = run_target(config, uploads())
    faults = process.client.clevertap_stats()["faults_injected"]
    assert faults["stored_reset"] >= 2
    assert faults["reset"] >= 1
    assert run.summary["rejected_by_rule"]["delivery_uncertain"] >= 20
    process.client.set_faults(server="clevertap", fault_stored_reset=0.0, fault_reset=0.0)
    return process, config


def listed(config: dict[str, t.Any]) -> list[int]:
    lines = read_jsonl(Path(config["rejected_records_path"]))
    return sorted(r["record"]["n"] for r in lines if r["rule"] == "delivery_uncertain")


def test_stored_events_are_found_and_absent_ones_sent_once(in_doubt, tmp_path) -> None:
    process, config = in_doubt
    client = process.client
    doubtful = listed(config)
    had = set(stored(client))
    expect_stored = [n for n in doubtful if n in had]
    expect_absent = [n for n in doubtful if n not in had]
    assert expect_stored
    assert expect_absent
    uploads_before = len(client.clevertap_upload_log())

    report = resolve(config, tmp_path, "--settle-minutes", "0", "--resend-absent")

    assert report["in_doubt"] == len(doubtful)
    assert report["stored"] == len(expect_stored)
    assert report["absent_resent"] == len(expect_absent)
    assert report["unknown"] == report["absent"] == report["refused"] == 0
    assert stored(client) == list(range(COUNT))  # every event once, none twice
    assert client.clevertap_stats()["uploads"]["duplicate_events"] == 0
    sent_again = client.clevertap_upload_log()[uploads_before:]
    assert sum(entry["records"] for entry in sent_again) == len(expect_absent)

    again = resolve(config, tmp_path, "--settle-minutes", "0", "--resend-absent")
    assert again["already_resolved"] == len(doubtful)
    assert len(client.clevertap_upload_log()) == uploads_before + len(sent_again)


def test_without_resend_absent_events_are_listed_and_stored_ones_skip_a_rerun(
    in_doubt, tmp_path
) -> None:
    process, config = in_doubt
    client = process.client
    doubtful = listed(config)
    had = set(stored(client))
    report = resolve(config, tmp_path, "--settle-minutes", "0")
    absent = [n for n in doubtful if n not in had]
    assert report["stored"] == len(doubtful) - len(absent)
    assert report["absent"] == len(absent)
    assert report["absent_resent"] == 0
    unresolved = read_jsonl(Path(report["unresolved_path"]))
    assert sorted(line["record"]["n"] for line in unresolved) == absent
    assert {line["resolution"] for line in unresolved} == {"absent"}
    assert stored(client) == sorted(had)  # nothing sent

    # The input again (a re-run after a failure): stored ones are known delivered now.
    Path(config["rejected_records_path"]).unlink()
    rerun = run_target({**config, "journal_uncertain": "reject"}, uploads())
    assert rerun.summary["skipped_by_reason"]["already_delivered"] == COUNT - len(absent)
    assert listed(config) == absent  # only the absent ones are still in doubt
    assert stored(client) == sorted(had)


def test_recent_uploads_stay_unknown_within_the_settle_delay(in_doubt, tmp_path) -> None:
    process, config = in_doubt
    doubtful = listed(config)
    had = set(stored(process.client))
    report = resolve(config, tmp_path, "--resend-absent")  # default delay: 60 minutes
    assert report["absent_resent"] == report["absent"] == 0
    assert report["unknown"] == len([n for n in doubtful if n not in had])
    assert report["stored"] == len([n for n in doubtful if n in had])


def test_a_wrong_account_timezone_never_makes_a_stored_event_absent(in_doubt, tmp_path) -> None:
    process, config = in_doubt
    doubtful = listed(config)
    had = set(stored(process.client))
    report = resolve(
        config, tmp_path, "--settle-minutes", "0", "--account-timezone", "America/New_York"
    )
    assert report["stored"] == 0
    assert report["unknown"] == len([n for n in doubtful if n in had])
    assert report["absent"] == len([n for n in doubtful if n not in had])
    unresolved = read_jsonl(Path(report["unresolved_path"]))
    reasons = {line["resolution_reason"] for line in unresolved if line["resolution"] == "unknown"}
    assert all("account_timezone" in reason for reason in reasons)


def test_nothing_in_doubt_gives_a_full_report_of_zeros(config, tmp_path) -> None:
    """No rejected-records file yet (no run, or a clean one): every count is there, all zero."""
    report = resolve({**config, "account_timezone": "Asia/Kolkata"}, tmp_path)
    counts = ("in_doubt", "stored", "absent_resent", "absent", "unknown", "refused")
    assert {name: report[name] for name in counts} == dict.fromkeys(counts, 0)
    assert report["unresolved_path"] is None


def test_resend_is_refused_in_a_dry_run(config, tmp_path) -> None:
    """A dry run stores nothing: sending absent events "again" would settle them falsely."""
    path = tmp_path / "dry.json"
    path.write_text(json.dumps({**config, "dry_run": True, "account_timezone": "Asia/Kolkata"}))
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "target_clevertap.resolve",
            "--config",
            str(path),
            "--resend-absent",
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2
    assert "dry_run" in done.stderr
    assert done.stdout == ""
