"""A local Airflow 3 running the project's DAGs: LocalExecutor, metadata in PostgreSQL.

The components a deployment needs (`airflow api-server`, `airflow dag-processor`, `airflow
scheduler`) run from the `airflow` utility that `meltano install` installs, with the env
meltano.yml gives that utility. Everything listens on 127.0.0.1; the simple auth manager treats
every visitor as admin, so the UI and REST API need no login (never expose this instance).
The Airflow and Meltano behaviour this relies on is listed, with sources, in
docs/orchestration.md.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import requests
import yaml
from schedule_plan import INTERVALS_ENV, DagPlan, account_pools, dag_plans, meltano_schedules

from local_airflow.postgres import free_port

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Mapping

    from clevertap_segment_sandbox import SandboxProcess

    from local_airflow.postgres import LocalPostgres

ROOT = Path(__file__).resolve().parents[2]
AIRFLOW = ROOT / ".meltano" / "utilities" / "airflow" / "venv" / "bin" / "airflow"
MELTANO = ROOT / ".venv" / "bin" / "meltano"
# Started in this order; stopped in reverse, so running tasks can still report to the API server.
COMPONENTS = ("api-server", "dag-processor", "scheduler")


def utility_env() -> dict[str, str]:
    """The env meltano.yml gives the `airflow` utility, ${MELTANO_PROJECT_ROOT} expanded."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    utility = next(u for u in project["plugins"]["utilities"] if u["name"] == "airflow")
    return {
        str(k): str(v).replace("${MELTANO_PROJECT_ROOT}", str(ROOT))
        for k, v in utility.get("env", {}).items()
    }


@dataclass(frozen=True)
class Deployment:
    """The project's DAGs, optionally with the account schedules on another cron."""

    plans: tuple[DagPlan, ...]
    intervals: dict[str, str]

    @classmethod
    def of_project(cls, account_cron: str | None = None) -> Deployment:
        """Every schedule of `meltano schedule list`; `account_cron` replaces the pooled ones'."""
        schedules = meltano_schedules(ROOT, str(MELTANO))
        pooled = [plan.schedule for plan in dag_plans(schedules) if plan.pool]
        intervals = dict.fromkeys(pooled, account_cron) if account_cron else {}
        return cls(tuple(dag_plans(schedules, intervals)), intervals)

    @property
    def accounts(self) -> tuple[DagPlan, ...]:
        """The DAGs of schedules with an account pool (the ones started unpaused)."""
        return tuple(plan for plan in self.plans if plan.pool)

    @property
    def sandbox_accounts(self) -> dict[str, str]:
        """One sandbox account per pool (= per CleverTap account): tap name -> account id."""
        return {
            tap: plan.pool.upper() for plan in self.accounts if plan.pool for tap in plan.extractors
        }

    def pipeline_env(self, sandbox: SandboxProcess, meltano_database_uri: str) -> dict[str, str]:
        """What the DAGs' `meltano run` tasks need: the demo environment against this sandbox.

        Each account's taps use their own sandbox account (so each account has its own 3 export
        calls, as at CleverTap); the demo environment's other taps use the default account.
        """
        env = {
            "MELTANO_ENVIRONMENT": "demo",
            "MELTANO_DATABASE_URI": meltano_database_uri,
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "TAP_CLEVERTAP_API_URL": sandbox.clevertap_url,
            "TARGET_CLEVERTAP_API_URL": sandbox.clevertap_url,
            "TARGET_SEGMENT_API_URL": sandbox.segment_url,
            "TARGET_SEGMENT_SETTINGS_URL": sandbox.segment_url,
        }
        if self.intervals:
            env[INTERVALS_ENV] = json.dumps(self.intervals)
        for tap, account in self.sandbox_accounts.items():
            env[f"{tap.upper().replace('-', '_')}_ACCOUNT_ID"] = account
        return env


@contextlib.contextmanager
def deployed(
    deployment: Deployment,
    postgres: LocalPostgres,
    sandbox: SandboxProcess,
    *,
    home: Path,
    port: int = 0,
    database_prefix: str = "",
    env: Mapping[str, str] | None = None,
) -> Iterator[LocalAirflow]:
    """Airflow running the deployment's DAGs (all paused) with the account pools made.

    Airflow's metadata and Meltano's system database are `<prefix>airflow` and `<prefix>meltano`
    in `postgres`; `env` adds to what every task gets.
    """
    for database in ("airflow", "meltano"):
        postgres.create_database(database_prefix + database)
    task_env = {
        **deployment.pipeline_env(sandbox, postgres.database_uri(database_prefix + "meltano")),
        **(env or {}),
    }
    airflow = LocalAirflow(home, postgres.database_uri(database_prefix + "airflow"), task_env, port)
    try:
        airflow.start()
        airflow.wait_for_dags(plan.dag_id for plan in deployment.plans)
        airflow.set_pools(account_pools(deployment.plans))
        yield airflow
    finally:
        airflow.stop()


class AirflowError(RuntimeError):
    """An Airflow component failed; the message has the end of its log."""


def _tail(path: Path, lines: int = 40) -> str:
    if not path.exists():
        return ""
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class LocalAirflow:
    """Airflow's components as child processes; `env` reaches every task they run."""

    home: Path
    database_uri: str
    env: Mapping[str, str]
    port: int = 0
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.port = self.port or free_port()
        self._session = requests.Session()
        self._environment = self._component_env()

    @property
    def url(self) -> str:
        """Base URL of the UI and the REST API."""
        return f"http://127.0.0.1:{self.port}"

    @property
    def logs(self) -> Path:
        """Where the components' own logs (and Airflow's task logs) go."""
        return self.home / "logs"

    def _component_env(self) -> dict[str, str]:
        environ = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
        return {
            **environ,
            **utility_env(),
            "AIRFLOW_HOME": str(self.home),
            "MELTANO_PROJECT_ROOT": str(ROOT),
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.database_uri,
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC": self.database_uri,
            "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
            "AIRFLOW__CORE__PARALLELISM": "8",
            "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_ALL_ADMINS": "True",
            "AIRFLOW__CORE__EXECUTION_API_SERVER_URL": f"{self.url}/execution/",
            "AIRFLOW__API__BASE_URL": self.url,
            # Tasks' tokens are signed by the scheduler and checked by the API server.
            "AIRFLOW__API_AUTH__JWT_SECRET": secrets.token_urlsafe(32),
            "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port()),
            # Parsing runs `meltano schedule list` (seconds of CPU): re-parse every 10 minutes.
            "AIRFLOW__DAG_PROCESSOR__MIN_FILE_PROCESS_INTERVAL": "600",
            **self.env,
        }

    def start(self, timeout: float = 300) -> LocalAirflow:
        """Migrate the metadata database, start the components, wait until all are healthy."""
        self.logs.mkdir(parents=True, exist_ok=True)
        migrate_log = self.logs / "db-migrate.log"
        with migrate_log.open("wb") as log:
            migrated = subprocess.run(
                [str(AIRFLOW), "db", "migrate"],
                env=self._environment,
                stdout=log,
                stderr=subprocess.STDOUT,
                check=False,
            )
        if migrated.returncode != 0:
            raise AirflowError(f"airflow db migrate failed:\n{_tail(migrate_log)}")
        for component in COMPONENTS:
            args = ["--host", "127.0.0.1", "--port", str(self.port)]
            with (self.logs / f"{component}.log").open("ab") as log:
                self.processes[component] = subprocess.Popen(
                    [str(AIRFLOW), component, *(args if component == "api-server" else [])],
                    env=self._environment,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
        self._wait_healthy(timeout)
        return self

    def _check_alive(self) -> None:
        for component, process in self.processes.items():
            if process.poll() is not None:
                log = _tail(self.logs / f"{component}.log")
                msg = f"airflow {component} exited with {process.returncode}:\n{log}"
                raise AirflowError(msg)

    def _wait_healthy(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        health: dict[str, Any] = {}
        while time.monotonic() < deadline:
            self._check_alive()
            try:
                health = self._session.get(f"{self.url}/api/v2/monitor/health", timeout=5).json()
            except (requests.RequestException, ValueError):
                health = {}
            parts = ("metadatabase", "scheduler", "dag_processor")
            if health and all((health.get(p) or {}).get("status") == "healthy" for p in parts):
                return
            time.sleep(1)
        raise AirflowError(f"Airflow was not healthy after {timeout:.0f} s: {health}")

    def api(self, method: str, path: str, **json: Any) -> Any:
        """Call the REST API (`/api/v2` + path) and return the decoded JSON answer."""
        response = self._session.request(
            method, f"{self.url}/api/v2{path}", json=json or None, timeout=30
        )
        if response.status_code >= 400:
            msg = f"{method} {path}: HTTP {response.status_code} {response.text[:500]}"
            raise AirflowError(msg)
        return response.json() if response.content else None

    def wait_for_dags(self, dag_ids: Iterable[str], timeout: float = 300) -> None:
        """Wait until the DAG processor has stored every DAG (fail at once on import errors)."""
        wanted = set(dag_ids)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self._check_alive()
            errors = self.api("GET", "/importErrors")["import_errors"]
            if errors:
                raise AirflowError(f"DAG import errors: {errors}")
            listed = {d["dag_id"] for d in self.api("GET", "/dags?limit=1000")["dags"]}
            if wanted <= listed:
                return
            time.sleep(2)
        raise AirflowError(f"DAGs not parsed after {timeout:.0f} s: {sorted(wanted)}")

    def set_pools(self, pools: Mapping[str, int]) -> None:
        """Create or resize pools."""
        existing = {p["name"] for p in self.api("GET", "/pools?limit=1000")["pools"]}
        for name, slots in pools.items():
            description = f"CleverTap account {name}: {slots} concurrent export calls"
            body = {"slots": slots, "description": description, "include_deferred": False}
            if name in existing:
                self.api("PATCH", f"/pools/{name}", name=name, **body)
            else:
                self.api("POST", "/pools", name=name, **body)

    def set_paused(self, dag_ids: Iterable[str], *, paused: bool) -> None:
        """Pause or unpause DAGs (new DAGs start paused)."""
        for dag_id in dag_ids:
            self.api("PATCH", f"/dags/{dag_id}", is_paused=paused)

    def dag_runs(self, dag_id: str) -> list[dict[str, Any]]:
        """Every run of a DAG as the REST API reports it."""
        runs: list[dict[str, Any]] = self.api("GET", f"/dags/{dag_id}/dagRuns?limit=1000")[
            "dag_runs"
        ]
        return runs

    def task_tries(self, dag_id: str) -> list[dict[str, Any]]:
        """Every attempt of every task of a DAG (failed attempts that were retried included)."""
        tries: list[dict[str, Any]] = []
        for run in self.dag_runs(dag_id):
            run_id = run["dag_run_id"]
            instances = self.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances")
            for instance in instances["task_instances"]:
                task = instance["task_id"]
                path = f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task}/tries"
                tries += self.api("GET", path)["task_instances"]
        return tries

    def stop(self, timeout: float = 30) -> None:
        """Stop the scheduler first (tasks still report), then the rest; kill what lingers."""
        for component in reversed(COMPONENTS):
            process = self.processes.pop(component, None)
            if process is None:
                continue
            try:  # tasks run in sessions of their own: remember them before they are orphaned
                family = psutil.Process(process.pid).children(recursive=True)
            except psutil.NoSuchProcess:
                family = []
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait()
            for child in family:
                with contextlib.suppress(psutil.NoSuchProcess):
                    child.kill()
        self._session.close()
