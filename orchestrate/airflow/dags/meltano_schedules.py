"""One Airflow DAG per Meltano schedule; every task of the schedule's job is `meltano run <task>`.

Airflow only decides when and where a pipeline runs. Meltano keeps each pipeline's state in its
system database (PostgreSQL in prod), so any worker can run any pipeline, and a retried task
resumes where the failed attempt stopped. CleverTap allows 3 concurrent export calls per account,
whichever machine makes them: a schedule that sets ``AIRFLOW_POOL`` in its env runs its tasks in
that Airflow pool (one pool with 3 slots per CleverTap account; ``schedule_plan.account_pools``
lists them) taking ``TAP_CLEVERTAP_MAX_CONCURRENCY`` slots, so the limit holds across every
worker. Retries wait Airflow's ``[core] default_task_retry_delay`` (5 minutes unless configured).
"""

from __future__ import annotations

import os
from datetime import datetime
from pathlib import Path
from typing import Any

from airflow.providers.standard.operators.bash import BashOperator
from airflow.sdk import DAG
from schedule_plan import DagPlan, dag_plans, interval_overrides, meltano_schedules

PROJECT_ROOT = Path(os.environ.get("MELTANO_PROJECT_ROOT") or Path(__file__).resolve().parents[3])
MELTANO_BIN = os.environ.get("MELTANO_BIN", "meltano")
MELTANO_ENVIRONMENT = os.environ.get("MELTANO_ENVIRONMENT", "prod")
DEFAULT_ARGS: dict[str, Any] = {"owner": "data-platform", "retries": 2}


def build_dag(plan: DagPlan) -> DAG:
    """A DAG running the job's tasks in order, with the schedule's env (account, suffix)."""
    with DAG(
        dag_id=plan.dag_id,
        schedule=plan.cron,
        start_date=datetime(2026, 1, 1),
        catchup=False,
        max_active_runs=1,
        default_args=DEFAULT_ARGS,
        tags=[
            "meltano",
            f"job:{plan.job}",
            f"schedule:{plan.schedule}",
            *([f"pool:{plan.pool}"] if plan.pool else []),
        ],
    ) as dag:
        previous: BashOperator | None = None
        for index, command in enumerate(plan.tasks):
            operator = BashOperator(
                task_id=f"task_{index}_{command.split()[0]}",
                bash_command=(
                    f"cd {PROJECT_ROOT} && {MELTANO_BIN} --environment={MELTANO_ENVIRONMENT} "
                    f"run {command}"
                ),
                env=plan.env,
                append_env=True,
                **({"pool": plan.pool, "pool_slots": plan.pool_slots} if plan.pool else {}),
            )
            if previous is not None:
                previous >> operator
            previous = operator
    return dag


_schedules = meltano_schedules(PROJECT_ROOT, MELTANO_BIN)
for _plan in dag_plans(_schedules, interval_overrides(os.environ)):
    _dag = build_dag(_plan)
    globals()[_dag.dag_id] = _dag
