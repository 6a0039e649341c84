"""`make orchestrate`: Airflow runs the project's schedules on this machine until Ctrl-C.

PostgreSQL (a cluster in .meltano/run/orchestrate, kept between runs) holds Airflow's metadata
and Meltano's system database; the sandbox stands in for CleverTap and Segment, with one account
per Airflow pool. The account schedules' DAGs are unpaused; the others stay paused (unpause them
in the UI). `screenshot` starts a fresh instance with the account schedules every minute and,
once each ran a few times, captures the UI with headless Chromium (`make orchestrate-screenshot`).
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clevertap_segment_sandbox import SandboxProcess
from schedule_plan import DagPlan, account_pools

from local_airflow.instance import (
    AIRFLOW,
    MELTANO,
    ROOT,
    Deployment,
    LocalAirflow,
    deployed,
    utility_env,
)
from local_airflow.postgres import LocalPostgres, PostgresMissingError, free_port

if TYPE_CHECKING:
    from collections.abc import Iterator

STATE = ROOT / ".meltano" / "run" / "orchestrate"
EVERY_MINUTE = "* * * * *"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--hide-scrollbars",
    # The UI is a single-page app: give its scripts time to fetch and draw before the capture.
    "--virtual-time-budget=20000",
)


def say(text: str) -> None:
    """Print progress at once."""
    print(text, flush=True)


@contextlib.contextmanager
def running(
    state: Path, *, port: int, every_minute: bool, airflow_home: Path | None = None
) -> Iterator[tuple[LocalAirflow, tuple[DagPlan, ...]]]:
    """PostgreSQL, the sandbox and Airflow, with the pools made and the account DAGs unpaused."""
    if not AIRFLOW.exists():
        say("Installing the project's plugins and Airflow (meltano install) ...")
        subprocess.run([str(MELTANO), "install"], cwd=ROOT, check=True)
    deployment = Deployment.of_project(EVERY_MINUTE if every_minute else None)
    accounts = tuple(sorted(set(deployment.sandbox_accounts.values())))
    home = airflow_home or Path(utility_env()["AIRFLOW_HOME"])
    with (
        LocalPostgres(state / "postgres") as postgres,
        SandboxProcess(extra_account_ids=accounts) as sandbox,
    ):
        say(f"Starting Airflow (logs in {home / 'logs'}) ...")
        with deployed(deployment, postgres, sandbox, home=home, port=port) as airflow:
            airflow.set_paused((plan.dag_id for plan in deployment.accounts), paused=False)
            say(f"Airflow UI and REST API: {airflow.url} (no login: every visitor is admin)")
            say(f"Pools: {account_pools(deployment.plans)}")
            for plan in deployment.accounts:
                say(f"  {plan.dag_id}: '{plan.cron}' in pool {plan.pool} ({plan.pool_slots})")
            say(f"Sandbox: CleverTap {sandbox.clevertap_url}, Segment {sandbox.segment_url}")
            say(f"Meltano system database: {postgres.uri}")
            try:
                yield airflow, deployment.accounts
            finally:
                say("Stopping Airflow ...")


def _runs(
    airflow: LocalAirflow, plans: tuple[DagPlan, ...]
) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (plan.dag_id, run["dag_run_id"]): run
        for plan in plans
        for run in airflow.dag_runs(plan.dag_id)
    }


def serve(port: int, every_minute: bool) -> None:
    """Run until Ctrl-C, printing every DAG run's state changes."""
    with running(STATE, port=port, every_minute=every_minute) as (airflow, plans):
        say("Ctrl-C stops everything.")
        seen: dict[tuple[str, str], str] = {}
        while True:
            for key, run in _runs(airflow, plans).items():
                if seen.get(key) != run["state"]:
                    seen[key] = run["state"]
                    say(f"{key[0]} {run['run_type']} run after {run['run_after']}: {run['state']}")
            time.sleep(10)


def capture(url: str, output: Path, size: str) -> None:
    """One PNG of a page, taken by headless Chromium with a throwaway profile."""
    chromium = shutil.which("chromium")
    if chromium is None:
        sys.exit("chromium is not installed: `apt-get install chromium` (as root)")
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium,
                *CHROMIUM_FLAGS,
                f"--user-data-dir={profile}",
                f"--screenshot={output}",
                f"--window-size={size}",
                url,
            ],
            check=True,
            capture_output=True,
            timeout=180,
        )
    say(f"Wrote {output.relative_to(ROOT)}")


def screenshot(output_dir: Path, runs: int, timeout: float) -> None:
    """Let every account DAG succeed `runs` times, then capture the DAG list and a grid view."""
    with tempfile.TemporaryDirectory(prefix="orchestrate-screenshot-") as scratch:
        state = Path(scratch)
        state.chmod(0o755)  # PostgreSQL's server may run as another user (postgres)
        with running(
            state, port=free_port(), every_minute=True, airflow_home=state / "airflow"
        ) as (airflow, plans):
            deadline = time.monotonic() + timeout
            while True:
                done = {
                    plan.dag_id: sum(r["state"] == "success" for r in airflow.dag_runs(plan.dag_id))
                    for plan in plans
                }
                say(f"successful runs: {done}")
                if min(done.values()) >= runs:
                    break
                if time.monotonic() > deadline:
                    sys.exit(f"fewer than {runs} successful runs after {timeout:.0f} s: {done}")
                time.sleep(15)
            output_dir.mkdir(parents=True, exist_ok=True)
            pools = "&".join(sorted({f"tags=pool:{plan.pool}" for plan in plans}))
            capture(f"{airflow.url}/dags?{pools}", output_dir / "airflow_dags.png", "1400,780")
            capture(
                f"{airflow.url}/dags/{plans[0].dag_id}", output_dir / "airflow_grid.png", "1400,900"
            )


def main() -> None:
    """Command line of `make orchestrate` and `make orchestrate-screenshot`."""
    parser = argparse.ArgumentParser(prog="python -m local_airflow", description=__doc__)
    commands = parser.add_subparsers(dest="command")
    serve_parser = commands.add_parser("serve", help="run until Ctrl-C (the default)")
    serve_parser.add_argument("--port", type=int, default=8080, help="UI and REST API port")
    serve_parser.add_argument(
        "--every-minute",
        action="store_true",
        help="run the account schedules every minute instead of on their crons",
    )
    shot = commands.add_parser("screenshot", help="capture the UI into docs/img")
    shot.add_argument("--output-dir", type=Path, default=ROOT / "docs" / "img")
    shot.add_argument("--runs", type=int, default=3, help="successful runs per DAG first")
    shot.add_argument("--timeout", type=float, default=1800, help="seconds to wait for them")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, signal.default_int_handler)  # stop cleanly on SIGTERM too
    try:
        if args.command == "screenshot":
            screenshot(args.output_dir.resolve(), args.runs, args.timeout)
        else:
            serve(getattr(args, "port", 8080), getattr(args, "every_minute", False))
    except PostgresMissingError as error:
        sys.exit(str(error))
    except KeyboardInterrupt:
        say("Stopped.")


if __name__ == "__main__":
    main()
