"""SIGKILL `meltano run` (Meltano, tap and target together) and let Meltano resume from its state.

This is the realistic path: the project's own meltano.yml (environment ``prod`` with the URLs and
credentials pointed at the sandbox through environment variables, as a deployment would set
them), Meltano's system database (SQLite in the workspace) holding the state, and full-shape
CleverTap records. After a SIGKILL the killed job stays "running" in the system database until
its heartbeat is 5 minutes old; the harness records what a plain re-run says, then re-runs with
``--force`` as an operator would.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import random
import subprocess
import time
import typing as t

from bench.reliability.accounting import expected_events, segment_accounting
from bench.reliability.crashes import KILL_SHARE, kill_at
from bench.reliability.environment import (
    ACCOUNT_ID,
    BIN,
    PASSCODE,
    ROOT,
    TIMEZONE,
    TODAY,
    WRITE_KEY,
    ensure_meltano_plugins,
    private_meltano_dir,
    start_sandbox,
)
from bench.reliability.outcome import Outcome, summary_adds_up
from bench.reliability.pipeline import Attempt, run_chain

if t.TYPE_CHECKING:
    from pathlib import Path

    from clevertap_segment_sandbox import SandboxProcess

    from bench.reliability.environment import Workspace

MELTANO = str(BIN / "meltano")
ENVIRONMENT = "prod"
TASK = ("tap-clevertap-events", "target-segment")
STATE_ID = f"{ENVIRONMENT}:{TASK[0]}-to-{TASK[1]}"


def meltano_env(
    sandbox: SandboxProcess, out: Path, sys_dir: Path, start: dt.date, events: list[str]
) -> dict[str, str]:
    """The deployment's environment variables, pointed at the sandbox and the workspace."""
    return {
        **os.environ,
        "MELTANO_DATABASE_URI": f"sqlite:///{out / 'meltano.db'}",
        "MELTANO_SYS_DIR_ROOT": str(sys_dir),
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "NO_COLOR": "1",
        "TAP_CLEVERTAP_ACCOUNT_ID": ACCOUNT_ID,
        "TAP_CLEVERTAP_PASSCODE": PASSCODE,
        "TAP_CLEVERTAP_API_URL": sandbox.clevertap_url,
        "TAP_CLEVERTAP_TIMEZONE": TIMEZONE,
        "TAP_CLEVERTAP_START_DATE": start.isoformat(),
        "TAP_CLEVERTAP_EVENT_NAMES": json.dumps(events),
        "TARGET_SEGMENT_WRITE_KEY": WRITE_KEY,
        "TARGET_SEGMENT_API_URL": sandbox.segment_url,
        "TARGET_SEGMENT_SETTINGS_URL": sandbox.segment_url,
        "TARGET_SEGMENT_SUMMARY_PATH": str(out / "target-segment-summary.json"),
        "TARGET_SEGMENT_REJECTED_RECORDS_PATH": str(out / "target-segment-rejected.jsonl"),
    }


def meltano_command(*, force: bool) -> list[str]:
    """`meltano run` of the clevertap-events-to-segment task."""
    return [MELTANO, f"--environment={ENVIRONMENT}", "run", *(["--force"] if force else []), *TASK]


def stored_state(env: dict[str, str], out: Path, label: str) -> dict[str, t.Any]:
    """`meltano state get`, saved in the workspace (it is scanned for secrets too)."""
    result = subprocess.run(
        [MELTANO, f"--environment={ENVIRONMENT}", "state", "get", STATE_ID],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    (out / f"meltano-state-{label}.json").write_text(result.stdout)
    lines = [line for line in result.stdout.splitlines() if line.strip().startswith("{")]
    return dict(json.loads(lines[-1])) if lines else {}


def leftover_configs(sys_dir: Path) -> dict[str, int]:
    """Plugin config files Meltano generated and never removed (it removes them on a clean exit).

    They hold the credentials in plain text, so an operator should know they stay behind after
    a SIGKILL. Counted by plugin; the files go when the workspace is removed.
    """
    run = sys_dir / "run"
    if not run.exists():
        return {}
    return {
        plugin.name: count
        for plugin in sorted(run.iterdir())
        if plugin.is_dir() and (count := len(list(plugin.glob("*.config.json"))))
    }


def bookmarked_partitions(state: dict[str, t.Any]) -> int:
    """Event partitions with a completed day in a stored state (how far a re-run can skip)."""
    singer = state.get("singer_state", state)
    partitions = singer.get("bookmarks", {}).get("events", {}).get("partitions", [])
    return sum(1 for partition in partitions if partition.get("replication_key_value"))


def clevertap_to_segment(
    workspace: Workspace,
    *,
    days: int,
    events_per_day: int,
    kills: int,
    latency_ms: int,
    seed: int,
) -> Outcome:
    """`meltano run` of the events task, SIGKILLed ``kills`` times, then run to the end."""
    started = time.monotonic()
    ensure_meltano_plugins()
    out = workspace.output_dir("meltano-crash-clevertap-to-segment")
    rng = random.Random(seed)
    sandbox = start_sandbox(
        days=days, events_per_day=events_per_day, profiles=2000, latency_ms=latency_ms, seed=seed
    )
    attempts: list[Attempt] = []
    states: list[dict[str, t.Any]] = []
    try:
        client = sandbox.client
        by_event = expected_events(client)
        total = sum(by_event.values())
        sys_dir = private_meltano_dir(workspace.path / "meltano-sys")
        start = TODAY - dt.timedelta(days=days)
        env = meltano_env(sandbox, out, sys_dir, start, sorted(by_event))

        def served() -> int:
            return int(client.clevertap_stats()["cursors"]["records_served"])

        unforced: dict[str, t.Any] = {}
        for number in range(1, kills + 1):
            missing = total - int(client.segment_stats()["accepted"])
            kill = kill_at(served, served() + rng.uniform(*KILL_SHARE) * missing)
            attempt = run_chain(
                [meltano_command(force=number > 1)],
                out,
                f"kill-{number}",
                kill_when=kill,
                env=env,
                cwd=ROOT,
            )
            attempts.append(attempt)
            states.append(stored_state(env, out, f"after-kill-{number}"))
            if number == 1:
                plain = run_chain(
                    [meltano_command(force=False)], out, "rerun-without-force", env=env, cwd=ROOT
                )
                log = plain.logs[0].read_text(errors="replace")
                unforced = {
                    "exit_code": plain.exit_codes[0],
                    "refused": "already running" in log,
                    "message": next(
                        (line.strip() for line in log.splitlines() if "already running" in line), ""
                    )[:400],
                }
                if plain.succeeded:  # nothing stopped it: the pipeline is complete already
                    break
        final = run_chain([meltano_command(force=True)], out, "final", env=env, cwd=ROOT)
        states.append(stored_state(env, out, "final"))
        counts = segment_accounting(client, by_event)
        summary = (
            json.loads((out / "target-segment-summary.json").read_text())
            if (out / "target-segment-summary.json").exists()
            else {}
        )
    finally:
        sandbox.stop()
    leftovers = leftover_configs(sys_dir)
    counts["kills"] = sum(attempt.killed for attempt in attempts)
    counts["bookmarked_partitions_after_each_kill"] = [
        bookmarked_partitions(state) for state in states[:-1]
    ]
    return Outcome(
        scenario="crash (meltano run)",
        pipeline="meltano run tap-clevertap-events target-segment",
        counts=counts,
        checks={
            "every_kill_landed_mid_run": counts["kills"] == kills,
            "final_run_exit_0": final.succeeded,
            "nothing_lost": counts["lost"] == 0,
            "nothing_duplicated": counts["duplicated"] == 0,
            "nothing_unexpected": counts["unexpected"] == 0,
            "final_summary_adds_up": summary_adds_up(summary),
            "final_state_stored": bool(states and states[-1]),
        },
        details={
            "latency_ms": latency_ms,
            "seed": seed,
            "record_shape": "full (profile summary and profileData: the project's settings)",
            "rerun_without_force_after_kill": unforced,
            "plugin_configs_left_in_meltano_run_dir": leftovers,
            "attempts": [attempt.summary() for attempt in [*attempts, final]],
            "error_tail": "" if final.succeeded else final.log_tail(),
        },
        seconds=time.monotonic() - started,
    )
