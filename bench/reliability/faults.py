"""Both directions under injected faults must complete with nothing lost and nothing doubled.

Faults (per API call, drawn by the sandbox from a seeded generator): 10 % 5xx, 5 % 429 (Segment
adds Retry-After; CleverTap sends none), 2 % connection resets, 1 % slow answers, on CleverTap
export pages 5 % "Request still in progress" (code 2), and on CleverTap uploads 2 % stored and then
reset before the answer. Events of an upload reset after it was sent are in doubt; the resolve
command then has to find each one stored or send it again.
"""

from __future__ import annotations

import datetime as dt
import time
import typing as t

from bench.reliability import plugins, segment_archive
from bench.reliability.accounting import (
    after_resolution,
    clevertap_accounting,
    expected_events,
    expected_profiles,
    segment_accounting,
)
from bench.reliability.environment import TODAY, start_sandbox
from bench.reliability.outcome import Outcome, summary_adds_up
from bench.reliability.pipeline import run_chain

if t.TYPE_CHECKING:
    from clevertap_segment_sandbox import SandboxClient

    from bench.reliability.environment import Workspace
    from bench.reliability.pipeline import Attempt

FAULTS: dict[str, t.Any] = {
    "fault_5xx": 0.10,
    "fault_429": 0.05,
    "fault_reset": 0.02,
    "fault_slow": 0.01,
    "fault_in_progress": 0.05,
    "fault_stored_reset": 0.02,
}
SLOW_MS = 1500
#: Smaller batches than the default 1000, so that every run makes enough calls to meet faults.
BATCH_ROWS = 100
PROFILE_EVENT = "Charged"


def clevertap_to_segment(
    workspace: Workspace, *, days: int, events_per_day: int, latency_ms: int, seed: int
) -> Outcome:
    """tap-clevertap (events and profiles) | target-segment, faults on both APIs."""
    started = time.monotonic()
    out = workspace.output_dir("faults-clevertap-to-segment")
    sandbox = start_sandbox(
        days=days, events_per_day=events_per_day, profiles=2000, latency_ms=latency_ms, seed=seed
    )
    try:
        client = sandbox.client
        by_event = expected_events(client)
        profiles = expected_profiles(client, PROFILE_EVENT)
        client.set_faults(**FAULTS, slow_ms=SLOW_MS)
        start = TODAY - dt.timedelta(days=days)
        tap_config = workspace.config(
            "faults-tap",
            plugins.tap_config(sandbox, start, sorted(by_event), profile_events=[PROFILE_EVENT]),
        )
        catalog = plugins.tap_catalog(workspace, tap_config, {"events", "profiles"}, "faults")
        target_config = workspace.config(
            "faults-target-segment",
            plugins.segment_target_config(sandbox, out, batch_size_rows=BATCH_ROWS),
        )
        attempt = run_chain(
            [
                plugins.tap_command(tap_config, catalog),
                plugins.target_command(plugins.TARGET_SEGMENT, target_config),
            ],
            out,
            "run",
        )
        counts = segment_accounting(client, by_event, identifies=profiles)
        counts["faults_injected"] = injected_faults(client)
        summary = plugins.read_summary(out, "target-segment")
    finally:
        sandbox.stop()
    return _outcome(
        "tap-clevertap → target-segment",
        counts,
        {"nothing_unexpected": counts["unexpected"] == 0},
        attempt=attempt,
        summary=summary,
        latency_ms=latency_ms,
        started=started,
    )


def segment_to_clevertap(
    workspace: Workspace, *, messages: int, latency_ms: int, seed: int
) -> Outcome:
    """Segment-shaped archive (tracks and identifies) | target-clevertap, faults on uploads."""
    started = time.monotonic()
    out = workspace.output_dir("faults-segment-to-clevertap")
    archive = out / "archive.jsonl"
    segment_archive.write_archive(archive, messages)
    tracks, users = fed_in(messages)
    sandbox = start_sandbox(days=1, latency_ms=latency_ms, seed=seed)
    try:
        client = sandbox.client
        client.set_faults(**FAULTS, slow_ms=SLOW_MS)
        target_config = workspace.config(
            "faults-target-clevertap",
            plugins.clevertap_target_config(
                sandbox, out, out / "journal.sqlite", batch_size_rows=BATCH_ROWS
            ),
        )
        attempt = run_chain(
            [
                plugins.archive_tap_command(archive),
                plugins.target_command(plugins.TARGET_CLEVERTAP, target_config),
            ],
            out,
            "run",
        )
        rejects = plugins.read_rejects(out, "target-clevertap")
        counts = clevertap_accounting(client, tracks, users, rejects)
        summary = plugins.read_summary(out, "target-clevertap")
        # Resets after a whole upload was sent leave its events in doubt; the resolve command
        # (under the same faults) must find them stored or send them again, never twice.
        counts["resolution"] = plugins.resolve_in_doubt(target_config)
        counts["after_resolution"] = after_resolution(client, tracks, rejects)
        counts["faults_injected"] = injected_faults(client)
    finally:
        sandbox.stop()
    resolution, after = counts["resolution"], counts["after_resolution"]
    return _outcome(
        "Segment archive → target-clevertap",
        counts,
        {
            "nothing_rejected": counts["rejected_other"] == 0,
            "every_profile_stored": counts["profiles_missing"] == 0,
            "resolution_settles_every_event": resolution["in_doubt"] == counts["uncertain"]
            and resolution["unknown"] == resolution["absent"] == 0,
            "after_resolution_nothing_lost": after["lost"] == 0,
            "after_resolution_nothing_duplicated": after["duplicated"] == 0,
        },
        attempt=attempt,
        summary=summary,
        latency_ms=latency_ms,
        started=started,
    )


def _outcome(
    pipeline: str,
    counts: dict[str, t.Any],
    checks: dict[str, bool],
    *,
    attempt: Attempt,
    summary: dict[str, t.Any],
    latency_ms: int,
    started: float,
) -> Outcome:
    """A fault run's verdict: the checks every pipeline shares, then ``checks``."""
    counts["retries_by_target"] = summary.get("retries")
    return Outcome(
        scenario="faults",
        pipeline=pipeline,
        counts=counts,
        checks={
            "pipeline_exit_0": attempt.succeeded,
            "faults_were_injected": sum(counts["faults_injected"].values()) > 0,
            "nothing_lost": counts["lost"] == 0,
            "nothing_duplicated": counts["duplicated"] == 0,
            **checks,
            "summary_adds_up": summary_adds_up(summary),
        },
        details={
            "faults": FAULTS,
            "slow_ms": SLOW_MS,
            "batch_size_rows": BATCH_ROWS,
            "latency_ms": latency_ms,
            "attempt": attempt.summary(),
            "target_summary": _summary_counts(summary),
            "error_tail": "" if attempt.succeeded else attempt.log_tail(0) + attempt.log_tail(),
        },
        seconds=time.monotonic() - started,
    )


def injected_faults(client: SandboxClient) -> dict[str, int]:
    """Faults the sandbox injected, both APIs together."""
    total: dict[str, int] = {}
    for stats in (client.clevertap_stats(), client.segment_stats()):
        for kind, count in stats["faults_injected"].items():
            total[kind] = total.get(kind, 0) + int(count)
    return total


def fed_in(messages: int) -> tuple[set[int], set[str]]:
    """The archive's track ``seq`` numbers and identified user ids (from its definition)."""
    tracks = {seq for seq in range(messages) if seq % segment_archive.IDENTIFY_EVERY}
    users = {f"user-{seq % 5000}" for seq in range(0, messages, segment_archive.IDENTIFY_EVERY)}
    return tracks, users


def _summary_counts(summary: dict[str, t.Any]) -> dict[str, t.Any]:
    keys = (
        "received",
        "delivered",
        "rejected",
        "skipped",
        "rejected_by_rule",
        "skipped_by_reason",
        "requests",
        "retries",
        "batch_splits",
    )
    return {key: summary.get(key) for key in keys}
