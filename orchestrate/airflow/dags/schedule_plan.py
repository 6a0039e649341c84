"""What Airflow runs, from `meltano schedule list`: one DAG per schedule, one pool per account.

No Airflow import here: the DAG file (inside Airflow) and the local instance (`make orchestrate`
and the orchestration test, in the project's venv) both use this module, so the pools created
always match the pools the DAGs' tasks ask for. `.airflowignore` keeps Airflow from parsing it
as a DAG file. Sources of the facts used: docs/orchestration.md.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from pathlib import Path

# CleverTap allows 3 concurrent export calls per account (the limit is the account's, whichever
# machine calls): https://developer.clevertap.com/docs/api-request-limit
CLEVERTAP_EXPORT_SLOTS = 3
# JSON object {"<schedule name>": "<cron>"}: run those schedules on another cron (e.g. every
# minute to watch them in a demo or a test) without editing the project.
INTERVALS_ENV = "MELTANO_SCHEDULE_INTERVALS"


@dataclass(frozen=True)
class DagPlan:
    """One Meltano schedule as an Airflow DAG: its cron, its job's tasks, env and pool."""

    schedule: str
    job: str
    cron: str
    tasks: tuple[str, ...]
    env: dict[str, str]
    pool: str | None
    pool_slots: int

    @property
    def dag_id(self) -> str:
        """The DAG's id in Airflow."""
        return f"meltano_{self.schedule}"

    @property
    def extractors(self) -> tuple[str, ...]:
        """The taps of the job's tasks (the first plugin of each `meltano run` task)."""
        return tuple(task.split()[0] for task in self.tasks)


def meltano_schedules(project_root: Path, meltano_bin: str) -> list[dict[str, Any]]:
    """Job schedules as Meltano reports them (`meltano schedule list --format=json`)."""
    listing = subprocess.run(
        [meltano_bin, "--log-level=warning", "schedule", "list", "--format=json"],
        cwd=project_root,
        capture_output=True,
        text=True,
        check=True,
    )
    schedules: list[dict[str, Any]] = json.loads(listing.stdout)["schedules"]["job"]
    return schedules


def interval_overrides(environ: Mapping[str, str]) -> dict[str, str]:
    """The crons set through MELTANO_SCHEDULE_INTERVALS, if any."""
    raw = environ.get(INTERVALS_ENV, "").strip()
    if not raw:
        return {}
    value = json.loads(raw)
    if not isinstance(value, dict) or not all(isinstance(v, str) for v in value.values()):
        msg = f'{INTERVALS_ENV} must be a JSON object {{"<schedule>": "<cron>"}}, got {raw!r}'
        raise ValueError(msg)
    return {str(k): v for k, v in value.items()}


def dag_plans(
    schedules: Sequence[dict[str, Any]], intervals: Mapping[str, str] | None = None
) -> list[DagPlan]:
    """One plan per schedule with a cron; the pool and slots come from the schedule's env.

    A schedule that sets ``AIRFLOW_POOL`` takes ``TAP_CLEVERTAP_MAX_CONCURRENCY`` slots (default
    3) of that pool: one pool per CleverTap account, so all its schedules together never make
    more than 3 export calls at once, on whichever workers they run.
    """
    intervals = dict(intervals or {})
    unknown = sorted(set(intervals) - {s["name"] for s in schedules})
    if unknown:
        msg = f"{INTERVALS_ENV} names schedules that do not exist: {unknown}"
        raise ValueError(msg)
    plans = []
    for schedule in schedules:
        cron = intervals.get(schedule["name"]) or schedule.get("cron_interval")
        if not cron:
            continue
        env = {str(k): str(v) for k, v in (schedule.get("env") or {}).items()}
        pool = env.get("AIRFLOW_POOL") or None
        slots = int(env.get("TAP_CLEVERTAP_MAX_CONCURRENCY", str(CLEVERTAP_EXPORT_SLOTS)))
        if pool and not 1 <= slots <= CLEVERTAP_EXPORT_SLOTS:
            msg = (
                f"schedule {schedule['name']!r}: TAP_CLEVERTAP_MAX_CONCURRENCY={slots} slots of "
                f"pool {pool!r}, which has {CLEVERTAP_EXPORT_SLOTS} (CleverTap's concurrent "
                f"export calls per account); set it between 1 and {CLEVERTAP_EXPORT_SLOTS}."
            )
            raise ValueError(msg)
        job = schedule["job"]
        plans.append(
            DagPlan(
                schedule=schedule["name"],
                job=job["name"],
                cron=cron,
                tasks=tuple(t if isinstance(t, str) else " ".join(t) for t in job["tasks"]),
                env=env,
                pool=pool,
                pool_slots=slots if pool else 1,
            )
        )
    return plans


def account_pools(plans: Sequence[DagPlan]) -> dict[str, int]:
    """Every pool the plans use, with CleverTap's per-account limit as its slots."""
    return {plan.pool: CLEVERTAP_EXPORT_SLOTS for plan in plans if plan.pool}
