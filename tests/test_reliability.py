"""A fast subset of the reliability harness (bench/reliability): fewer records, fewer kills.

Each test runs real plugin processes against its own sandbox and checks, from what the sandbox
stored, that nothing was lost or doubled, and that the run's outputs hold no secret. The full
harness (100k+ records, five kills, Meltano) is `python -m bench.reliability`.
"""

from __future__ import annotations

import base64
import typing as t

import pytest

from bench.reliability import bad_input, crashes, faults, secret_scan
from bench.reliability.environment import PASSCODE, WRITE_KEY, Workspace, start_sandbox

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from bench.reliability.outcome import Outcome


@pytest.fixture
def workspace() -> Iterator[Workspace]:
    space = Workspace.create()
    yield space
    space.close()


def assert_passed(outcome: Outcome) -> None:
    assert outcome.passed, (
        f"{outcome.pipeline}: failed {outcome.failed_checks}\n"
        f"counts: {outcome.counts}\n{outcome.details.get('error_tail', '')}"
    )


def assert_no_secrets(workspace: Workspace) -> None:
    scan = secret_scan.scan(workspace.outputs)
    assert scan["files"] > 0
    assert scan["hits"] == []


def test_secret_scan_finds_planted_credentials(tmp_path: Path) -> None:
    """The scan must be able to fail: plant each form of the credentials and find it."""
    (tmp_path / "clean.log").write_text("INFO nothing to see\n")
    (tmp_path / "target.log").write_text(f"DEBUG header X-CleverTap-Passcode: {PASSCODE}\n")
    basic = base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    (tmp_path / "state.stdout.jsonl").write_text(f'{{"auth": "Basic {basic}"}}\n')
    scan = secret_scan.scan(tmp_path)
    assert scan["files"] == 3
    assert {(hit["file"], hit["secret"]) for hit in scan["hits"]} == {
        ("target.log", "passcode"),
        ("state.stdout.jsonl", "write key (base64)"),
    }


@pytest.mark.slow
def test_faults_clevertap_to_segment(workspace: Workspace) -> None:
    outcome = faults.clevertap_to_segment(
        workspace, days=2, events_per_day=60, latency_ms=0, seed=11
    )
    assert_passed(outcome)
    assert outcome.counts["lost"] == 0
    assert outcome.counts["duplicated"] == 0
    assert sum(outcome.counts["faults_injected"].values()) > 0
    assert_no_secrets(workspace)


@pytest.mark.slow
def test_faults_segment_to_clevertap(workspace: Workspace) -> None:
    outcome = faults.segment_to_clevertap(workspace, messages=2_000, latency_ms=0, seed=11)
    assert_passed(outcome)
    counts = outcome.counts
    assert counts["expected"] == 1_800  # every tenth message is an identify
    # Events of an upload reset after it was sent are in doubt, and none was sent twice ...
    assert counts["stored_once"] + counts["uncertain_not_stored"] == 1_800
    assert counts["duplicated"] == 0
    assert counts["resolution"]["in_doubt"] == counts["uncertain"]  # > 0 when a reset hit events
    # ... until the resolve command found them stored or sent them again.
    assert counts["after_resolution"] == {"stored_once": 1_800, "duplicated": 0, "lost": 0}
    assert counts["profiles_missing"] == 0
    assert_no_secrets(workspace)


@pytest.mark.slow
def test_sigkill_clevertap_to_segment(workspace: Workspace) -> None:
    outcome = crashes.clevertap_to_segment(
        workspace, days=3, events_per_day=150, kills=2, latency_ms=50, seed=5
    )
    assert_passed(outcome)
    assert outcome.counts["kills"] == 2
    assert outcome.counts["lost"] == 0
    assert outcome.counts["duplicated"] == 0
    assert_no_secrets(workspace)


@pytest.mark.slow
def test_sigkill_segment_to_clevertap_rejects_uncertain(workspace: Workspace) -> None:
    outcome = crashes.segment_to_clevertap(
        workspace, messages=8_000, kills=2, uncertain="reject", latency_ms=100, seed=5
    )
    assert_passed(outcome)
    counts = outcome.counts
    assert counts["kills"] == 2
    assert counts["duplicated"] == 0
    assert counts["lost"] == 0
    assert counts["stored_once"] + counts["uncertain_not_stored"] == 7_200
    assert len(counts["in_doubt_per_kill"]) == 2
    assert sum(counts["in_doubt_per_kill"]) == counts["uncertain"]
    resolution = counts["resolution"]
    assert resolution["stored"] + resolution["absent_resent"] == counts["uncertain"]
    assert resolution["stored"] == counts["uncertain_and_stored"]
    assert counts["after_resolution"] == {"stored_once": 7_200, "duplicated": 0, "lost": 0}
    assert_no_secrets(workspace)


@pytest.mark.slow
def test_bad_input_is_delivered_or_rejected_with_a_reason(workspace: Workspace) -> None:
    sandbox = start_sandbox(days=1)
    try:
        segment = bad_input.segment_bad_input(workspace, sandbox)
        clevertap = bad_input.clevertap_bad_input(workspace, sandbox)
    finally:
        sandbox.stop()
    for outcome in (segment, clevertap):
        assert_passed(outcome)
        summary = outcome.counts["summary"]
        assert summary["received"] == outcome.counts["records"]
    assert segment.counts["summary"]["delivered"] == 3  # the good records
    # the good records, and three delivered without the one property CleverTap cannot take
    assert clevertap.counts["summary"]["delivered"] == 6
    assert clevertap.counts["dropped_fields"] == bad_input.CLEVERTAP_DROPPED
    assert segment.counts["rejected_by_rule"]["malformed_input_line"] == 5
    assert clevertap.counts["rejected_by_rule"]["invalid_object_id"] == 1  # refused by CleverTap
    assert_no_secrets(workspace)


@pytest.mark.slow
def test_fatal_problems_stop_the_run_with_a_message(workspace: Workspace) -> None:
    chosen = {"unknown write key", "wrong passcode", "stream without a mapping"}
    sandbox = start_sandbox(days=1)
    try:
        runs = [
            bad_input.run_must_fail(workspace, sandbox, case)
            for case in bad_input.must_fail_runs()
            if case.name in chosen
        ]
    finally:
        sandbox.stop()
    assert len(runs) == 3
    for run in runs:
        assert run["exit_code"] not in (0, None), run
        assert run["ok"], run
    assert_no_secrets(workspace)
