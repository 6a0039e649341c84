"""SIGKILL a running pipeline at random points, several times in a row, then let it finish.

Each kill hits the whole process group (tap and target together, as a crashed host or an
OOM-killed container would) once the tap has read a random share (10-60 %) of the input that is
not done yet, so every kill lands mid-run and every run makes progress. The next run
resumes from the last state the target emitted, as an orchestrator would. Counting afterwards:

- CleverTap → Segment: Segment keeps one message per messageId (the target's ids are
  deterministic), so the check is distinct calls vs the seed ground truth, and no call stored
  twice under two ids.
- Segment archive → CleverTap: CleverTap stores duplicates, so target-clevertap's journal must
  stop re-sends. Records in flight at a kill are *uncertain*: with ``journal_uncertain: reject``
  (the default) they go to the rejected-records file as ``delivery_uncertain`` and are not sent
  again; with ``resend`` they are sent again and may be doubled. The honest accounting is
  stored once + uncertain (not stored) = fed in, duplicates = 0; both variants are reported.
"""

from __future__ import annotations

import datetime as dt
import random
import time
import typing as t

from target_clevertap.journal import entries_by_state

from bench.reliability import plugins, segment_archive
from bench.reliability.accounting import (
    after_resolution,
    clevertap_accounting,
    expected_events,
    segment_accounting,
)
from bench.reliability.environment import TODAY, start_sandbox
from bench.reliability.faults import fed_in
from bench.reliability.outcome import Outcome, summary_adds_up
from bench.reliability.pipeline import Attempt, run_chain, write_state

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

    from bench.reliability.environment import Workspace

KILL_SHARE = (0.1, 0.6)


def kill_at(
    progress: Callable[[], int], threshold: float, interval: float = 0.1
) -> Callable[[], bool]:
    """A predicate for run_chain: true once ``progress()`` reached ``threshold``."""
    last_poll = [0.0]

    def due() -> bool:
        now = time.monotonic()
        if now - last_poll[0] < interval:  # the inspection API is cheap, but not free
            return False
        last_poll[0] = now
        return progress() >= threshold

    return due


def journal_pending(path: Path) -> int:
    """Uploads target-clevertap's journal holds as sent without an answer (in doubt)."""
    return entries_by_state(path)["pending"] if path.exists() else 0


def _run_with_kills(
    kills: int,
    commands: Callable[[dict[str, t.Any] | None, Path], list[list[str]]],
    *,
    out: Path,
    next_kill: Callable[[], Callable[[], bool]],
    after_kill: Callable[[], None] | None = None,
) -> tuple[list[Attempt], Attempt]:
    """``kills`` runs killed when ``next_kill()``'s predicate says so, then one run to the end.

    Each run resumes from the last state the previous one emitted; ``after_kill`` runs after
    each killed one.
    """
    state: dict[str, t.Any] | None = None
    attempts: list[Attempt] = []
    for number in range(1, kills + 1):
        attempt = run_chain(
            commands(state, out / f"state-in-{number}.json"),
            out,
            f"kill-{number}",
            kill_when=next_kill(),
        )
        attempts.append(attempt)
        if after_kill is not None:
            after_kill()
        state = attempt.last_state or state
    final = run_chain(commands(state, out / "state-in-final.json"), out, "final")
    return attempts, final


def _attempt_details(attempts: list[Attempt], final: Attempt) -> list[dict[str, t.Any]]:
    return [attempt.summary() for attempt in [*attempts, final]]


def clevertap_to_segment(
    workspace: Workspace,
    *,
    days: int,
    events_per_day: int,
    kills: int,
    latency_ms: int,
    seed: int,
) -> Outcome:
    """tap-clevertap events | target-segment, killed ``kills`` times, then run to the end."""
    started = time.monotonic()
    out = workspace.output_dir("crash-clevertap-to-segment")
    rng = random.Random(seed)
    sandbox = start_sandbox(
        days=days, events_per_day=events_per_day, profiles=2000, latency_ms=latency_ms, seed=seed
    )
    try:
        client = sandbox.client
        by_event = expected_events(client)
        start = TODAY - dt.timedelta(days=days)
        tap_config = workspace.config(
            "crash-tap", plugins.tap_config(sandbox, start, sorted(by_event))
        )
        catalog = plugins.tap_catalog(workspace, tap_config, {"events"}, "crash")
        target_config = workspace.config(
            "crash-target-segment", plugins.segment_target_config(sandbox, out)
        )

        def commands(state: dict[str, t.Any] | None, state_path: Path) -> list[list[str]]:
            return [
                plugins.tap_command(tap_config, catalog) + write_state(state_path, state),
                plugins.target_command(plugins.TARGET_SEGMENT, target_config),
            ]

        def served() -> int:
            return int(client.clevertap_stats()["cursors"]["records_served"])

        def next_kill() -> Callable[[], bool]:
            # Kill once the tap has read a random share of what Segment does not have yet.
            missing = sum(by_event.values()) - int(client.segment_stats()["accepted"])
            return kill_at(served, served() + rng.uniform(*KILL_SHARE) * missing)

        attempts, final = _run_with_kills(kills, commands, out=out, next_kill=next_kill)
        counts = segment_accounting(client, by_event)
        summary = plugins.read_summary(out, "target-segment")
    finally:
        sandbox.stop()
    counts["kills"] = sum(attempt.killed for attempt in attempts)
    return Outcome(
        scenario="crash",
        pipeline="tap-clevertap → target-segment",
        counts=counts,
        checks={
            "every_kill_landed_mid_run": counts["kills"] == kills,
            "final_run_exit_0": final.succeeded,
            "nothing_lost": counts["lost"] == 0,
            "nothing_duplicated": counts["duplicated"] == 0,
            "nothing_unexpected": counts["unexpected"] == 0,
            "final_summary_adds_up": summary_adds_up(summary),
        },
        details={
            "latency_ms": latency_ms,
            "seed": seed,
            "resume": "the harness passes the last state target-segment emitted to the next tap "
            "run (state_interval_seconds: 2)",
            "attempts": _attempt_details(attempts, final),
            "error_tail": "" if final.succeeded else final.log_tail(0) + final.log_tail(),
        },
        seconds=time.monotonic() - started,
    )


def segment_to_clevertap(
    workspace: Workspace,
    *,
    messages: int,
    kills: int,
    uncertain: str,
    latency_ms: int,
    seed: int,
) -> Outcome:
    """Archive tap | target-clevertap killed ``kills`` times; ``uncertain`` = journal_uncertain."""
    started = time.monotonic()
    out = workspace.output_dir(f"crash-segment-to-clevertap-{uncertain}")
    archive = out / "archive.jsonl"
    segment_archive.write_archive(archive, messages)
    tracks, users = fed_in(messages)
    rng = random.Random(seed)
    sandbox = start_sandbox(days=1, latency_ms=latency_ms, seed=seed)
    try:
        client = sandbox.client
        target_config = workspace.config(
            f"crash-target-clevertap-{uncertain}",
            plugins.clevertap_target_config(
                sandbox, out, out / "journal.sqlite", journal_uncertain=uncertain
            ),
        )

        tap_progress = out / "archive-tap-progress.txt"

        def commands(state: dict[str, t.Any] | None, state_path: Path) -> list[list[str]]:
            return [
                plugins.archive_tap_command(archive, tap_progress) + write_state(state_path, state),
                plugins.target_command(plugins.TARGET_CLEVERTAP, target_config),
            ]

        def line_reached() -> int:
            text = tap_progress.read_text() if tap_progress.exists() else ""
            return int(text) if text.strip() else 0

        def next_kill() -> Callable[[], bool]:
            # Kill once the tap has written a random share of the archive not yet done; records
            # stored or listed as uncertain are done (uncertain ones are never sent again).
            listed = {
                line["record"].get("messageId")
                for line in plugins.read_rejects(out, "target-clevertap")
            }
            stored = client.clevertap_stats()["uploads"]["distinct_event_fingerprints"]
            covered = messages * min(1.0, (int(stored) + len(listed)) / len(tracks))
            tap_progress.unlink(missing_ok=True)
            threshold = covered + rng.uniform(*KILL_SHARE) * (messages - covered)
            return kill_at(line_reached, threshold, interval=0.02)

        journal = out / "journal.sqlite"
        in_doubt_after_kill: list[int] = []

        def count_in_doubt() -> None:
            # The journal's pending uploads only grow while killed runs leave some behind.
            in_doubt_after_kill.append(journal_pending(journal) - sum(in_doubt_after_kill))

        # With resend, a later run moves earlier pending uploads on: only reject's count is clean.
        attempts, final = _run_with_kills(
            kills,
            commands,
            out=out,
            next_kill=next_kill,
            after_kill=count_in_doubt if uncertain == "reject" else None,
        )
        rejects = plugins.read_rejects(out, "target-clevertap")
        counts = clevertap_accounting(client, tracks, users, rejects)
        summary = plugins.read_summary(out, "target-clevertap")
        if uncertain == "reject":
            counts["in_doubt_per_kill"] = in_doubt_after_kill
            counts["resolution"] = plugins.resolve_in_doubt(target_config)
            counts["after_resolution"] = after_resolution(client, tracks, rejects)
    finally:
        sandbox.stop()
    counts["kills"] = sum(attempt.killed for attempt in attempts)
    counts["states_emitted_before_kills"] = sum(attempt.states_emitted for attempt in attempts)
    checks = {
        "every_kill_landed_mid_run": counts["kills"] == kills,
        "final_run_exit_0": final.succeeded,
        "nothing_lost": counts["lost"] == 0,
        "every_profile_stored": counts["profiles_missing"] == 0,
        "final_summary_adds_up": summary_adds_up(summary),
    }
    if uncertain == "reject":
        checks["nothing_duplicated"] = counts["duplicated"] == 0
        checks["stored_once_plus_uncertain_equals_fed"] = (
            counts["stored_once"] + counts["uncertain_not_stored"] == counts["expected"]
        )
        resolution, after = counts["resolution"], counts["after_resolution"]
        checks["resolution_settles_every_event"] = (
            resolution["unknown"] == resolution["absent"] == 0
        )
        checks["after_resolution_each_event_stored_once"] = (
            after["stored_once"] == counts["expected"] and after["duplicated"] == 0
        )
    return Outcome(
        scenario="crash",
        pipeline=f"Segment archive → target-clevertap (journal_uncertain: {uncertain})",
        counts=counts,
        checks=checks,
        details={
            "latency_ms": latency_ms,
            "seed": seed,
            "journal_uncertain": uncertain,
            "resume": "the harness passes the last state target-clevertap emitted to the next "
            "archive-tap run; target-clevertap emits STATE only at the end of input or every "
            "5 minutes (the SDK's default), so killed runs re-read the archive and the journal "
            "skips what was delivered",
            "attempts": _attempt_details(attempts, final),
            "error_tail": "" if final.succeeded else final.log_tail(),
        },
        seconds=time.monotonic() - started,
    )
