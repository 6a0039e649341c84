"""Running at scale: one Airflow DAG per Meltano schedule, loaded with Airflow's own DagBag."""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from typing import TYPE_CHECKING

import pytest
from local_airflow.instance import Deployment
from pipeline_support import MELTANO, ROOT
from schedule_plan import account_pools, dag_plans, interval_overrides, meltano_schedules

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

    schedules = meltano_schedules(ROOT, MELTANO)
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


def _schedule(name: str, env: dict[str, str], cron: str = "0 * * * *") -> dict[str, t.Any]:
    job = {"name": f"{name}-job", "tasks": [f"tap-{name} target-segment"]}
    return {"name": name, "cron_interval": cron, "env": env, "job": job}


def test_each_account_pool_gets_clevertaps_three_export_slots() -> None:
    schedules = [
        _schedule("a-core", {"AIRFLOW_POOL": "clevertap-a", "TAP_CLEVERTAP_MAX_CONCURRENCY": "2"}),
        _schedule("a-rest", {"AIRFLOW_POOL": "clevertap-a", "TAP_CLEVERTAP_MAX_CONCURRENCY": "1"}),
        _schedule("b-all", {"AIRFLOW_POOL": "clevertap-b"}),
        _schedule("no-pool", {}),
    ]
    plans = dag_plans(schedules, {"a-core": "* * * * *"})
    assert account_pools(plans) == {"clevertap-a": 3, "clevertap-b": 3}
    assert [(p.dag_id, p.cron, p.pool, p.pool_slots) for p in plans] == [
        ("meltano_a-core", "* * * * *", "clevertap-a", 2),
        ("meltano_a-rest", "0 * * * *", "clevertap-a", 1),
        ("meltano_b-all", "0 * * * *", "clevertap-b", 3),
        ("meltano_no-pool", "0 * * * *", None, 1),
    ]
    assert plans[0].extractors == ("tap-a-core",)


def test_a_schedule_asking_for_more_slots_than_an_account_has_is_refused() -> None:
    too_many = _schedule("x", {"AIRFLOW_POOL": "clevertap-x", "TAP_CLEVERTAP_MAX_CONCURRENCY": "4"})
    with pytest.raises(ValueError, match=r"schedule 'x'.*4 slots of pool 'clevertap-x'.*between 1"):
        dag_plans([too_many])


def test_interval_overrides_name_existing_schedules() -> None:
    with pytest.raises(ValueError, match=r"do not exist: \['typo'\]"):
        dag_plans([_schedule("x", {})], {"typo": "* * * * *"})
    assert interval_overrides({}) == {}
    assert interval_overrides({"MELTANO_SCHEDULE_INTERVALS": '{"x": "*/5 * * * *"}'}) == {
        "x": "*/5 * * * *"
    }
    with pytest.raises(ValueError, match="must be a JSON object"):
        interval_overrides({"MELTANO_SCHEDULE_INTERVALS": '["* * * * *"]'})


def test_the_projects_accounts_get_pools_and_sandbox_accounts(meltano_installed: None) -> None:
    deployment = Deployment.of_project("* * * * *")
    assert account_pools(deployment.plans) == {"clevertap-acme": 3, "clevertap-globex": 3}
    assert {p.schedule: p.cron for p in deployment.accounts} == dict.fromkeys(
        ["acme-core-events-hourly", "acme-engagement-events-hourly", "globex-all-events-hourly"],
        "* * * * *",
    )
    assert deployment.sandbox_accounts == {
        "tap-clevertap-acme-core": "CLEVERTAP-ACME",
        "tap-clevertap-acme-engagement": "CLEVERTAP-ACME",
        "tap-clevertap-globex": "CLEVERTAP-GLOBEX",
    }
    unpooled = {p.schedule: p.cron for p in deployment.plans if not p.pool}
    assert unpooled["clevertap-to-warehouse-daily"] == "30 2 * * *"
