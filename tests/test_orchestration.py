"""Running at scale: one Airflow DAG per Meltano schedule, loaded with Airflow's own DagBag."""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from typing import TYPE_CHECKING

from pipeline_support import MELTANO, ROOT

if TYPE_CHECKING:
    from pathlib import Path

DAG_DUMP = """
import json
from pathlib import Path
from airflow.dag_processing.dagbag import BundleDagBag
# As Airflow's DAG processor parses: the DAG folder (bundle) is importable, for schedule_plan.
folder = Path("orchestrate/airflow/dags").resolve()
bag = BundleDagBag(dag_folder=folder, bundle_path=folder)
print(json.dumps({
    "errors": {k: str(v) for k, v in bag.import_errors.items()},
    "dags": {
        dag.dag_id: {
            "cron": dag.timetable.expression,
            "max_active_runs": dag.max_active_runs,
            "catchup": dag.catchup,
            "tasks": [
                {"id": t.task_id, "command": t.bash_command, "pool": t.pool,
                 "pool_slots": t.pool_slots, "env": t.env,
                 "upstream": sorted(t.upstream_task_ids)}
                for t in dag.tasks
            ],
        }
        for dag in bag.dags.values()
    },
}))
"""


def meltano_schedules() -> list[dict[str, t.Any]]:
    listing = subprocess.run(
        [MELTANO, "--log-level=warning", "schedule", "list", "--format=json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    schedules: list[dict[str, t.Any]] = json.loads(listing.stdout)["schedules"]["job"]
    return schedules


def test_airflow_dagbag_loads_one_dag_per_schedule(meltano_installed: None, tmp_path: Path) -> None:
    airflow_python = ROOT / ".meltano" / "utilities" / "airflow" / "venv" / "bin" / "python"
    assert airflow_python.exists(), "meltano install should have installed the airflow utility"
    env = {
        **os.environ,
        "AIRFLOW_HOME": str(tmp_path),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "MELTANO_PROJECT_ROOT": str(ROOT),
        "MELTANO_BIN": MELTANO,
        "MELTANO_ENVIRONMENT": "prod",
    }
    result = subprocess.run(
        [str(airflow_python), "-c", DAG_DUMP],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-4000:]
    loaded = json.loads(result.stdout.strip().splitlines()[-1])
    assert loaded["errors"] == {}

    schedules = meltano_schedules()
    assert len(schedules) >= 7  # the project's four plus the multi-account example's three
    assert set(loaded["dags"]) == {f"meltano_{s['name']}" for s in schedules}
    for schedule in schedules:
        dag = loaded["dags"][f"meltano_{schedule['name']}"]
        assert dag["cron"] == schedule["cron_interval"]
        assert dag["max_active_runs"] == 1
        assert dag["catchup"] is False
        tasks = schedule["job"]["tasks"]
        assert [t["command"].split(" run ", 1)[1] for t in dag["tasks"]] == tasks
        for task in dag["tasks"]:
            assert task["command"].startswith(f"cd {ROOT} && {MELTANO} --environment=prod run ")
            assert task["env"] == schedule["env"]
        for earlier, later in zip(dag["tasks"], dag["tasks"][1:], strict=False):
            assert later["upstream"] == [earlier["id"]]

    acme = loaded["dags"]["meltano_acme-core-events-hourly"]["tasks"][0]
    assert acme["pool"] == "clevertap-acme"
    assert acme["pool_slots"] == 2
    engagement = loaded["dags"]["meltano_acme-engagement-events-hourly"]["tasks"][0]
    assert engagement["pool"] == "clevertap-acme"
    assert engagement["pool_slots"] == 1
    # Two event groups of one account may run together: 2 + 1 slots = CleverTap's 3 calls.
    assert acme["pool_slots"] + engagement["pool_slots"] <= 3
    plain = loaded["dags"]["meltano_clevertap-to-warehouse-daily"]["tasks"][0]
    assert plain["pool"] == "default_pool"
