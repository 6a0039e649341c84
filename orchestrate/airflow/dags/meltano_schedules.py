"""One Airflow DAG per Meltano schedule; every task of the schedule's job is `meltano run <task>`.

Airflow only decides when and where a pipeline runs. Meltano keeps each pipeline's state in its
system database (PostgreSQL in prod), so any worker can run any pipeline and resume where the last
one stopped. CleverTap allows 3 concurrent export calls per account, whichever machine makes them: a
schedule that sets ``AIRFLOW_POOL`` in its env runs its tasks in that Airflow pool (create one pool
with 3 slots per CleverTap account) taking ``TAP_CLEVERTAP_MAX_CONCURRENCY`` slots, so the limit
holds across every worker.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG

PROJECT_ROOT = Path(os.environ.get("MELTANO_PROJECT_ROOT") or Path(__file__).resolve().parents[3])
MELTANO_BIN = os.environ.get("MELTANO_BIN", "meltano")
MELTANO_ENVIRONMENT = os.environ.get("MELTANO_ENVIRONMENT", "prod")
DEFAULT_ARGS: dict[str, Any] = {
    "owner": "data-platform",
    "retries": 2,
    "retry_delay": timedelta(minutes=5),
}


def meltano_schedules() -> list[dict[str, Any]]:
    """Job schedules as Meltano reports them (`meltano schedule list --format=json`)."""
    listing = subprocess.run(
        [MELTANO_BIN, "--log-level=warning", "schedule", "list", "--format=json"],
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    schedules: list[dict[str, Any]] = json.loads(listing.stdout)["schedules"]["job"]
    return schedules


def build_dag(schedule: dict[str, Any]) -> DAG:
    """A DAG running the job's tasks in order, with the schedule's env (account, suffix)."""
    env = {str(k): str(v) for k, v in (schedule.get("env") or {}).items()}
    pool = env.get("AIRFLOW_POOL")
    slots = int(env.get("TAP_CLEVERTAP_MAX_CONCURRENCY", "3"))
    job = schedule["job"]
    with DAG(
        dag_id=f"meltano_{schedule['name']}",
        schedule=schedule["cron_interval"],
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=["meltano", f"job:{job['name']}", f"schedule:{schedule['name']}"],
    ) as dag:
        previous: BashOperator | None = None
        for index, task in enumerate(job["tasks"]):
            command = task if isinstance(task, str) else " ".join(task)
            operator = BashOperator(
                task_id=f"task_{index}_{command.split()[0]}",
                bash_command=(
                    f"cd {PROJECT_ROOT} && {MELTANO_BIN} --environment={MELTANO_ENVIRONMENT} "
                    f"run {command}"
                ),
                env=env,
                append_env=True,
                **({"pool": pool, "pool_slots": slots} if pool else {}),
            )
            if previous is not None:
                previous >> operator
            previous = operator
    return dag


for _schedule in meltano_schedules():
    if _schedule.get("cron_interval"):
        _dag = build_dag(_schedule)
        globals()[_dag.dag_id] = _dag
