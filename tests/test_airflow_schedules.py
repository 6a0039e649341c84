"""Airflow runs the account schedules for real: scheduler, pools, a killed task and its retry.

One Airflow 3 instance (LocalExecutor, metadata in PostgreSQL) runs the example accounts' DAGs
against the sandbox, on an every-minute cron, with nobody triggering anything. acme's two
schedules (2 + 1 pool slots) and globex's (3 slots) run at the same time; acme-core's tap is
killed mid-run, and Airflow retries the task, which must resume from the bookmarks the killed
attempt left in Meltano's PostgreSQL system database. Everything expected comes from the
sandbox's ground truth and Airflow's and Meltano's own records.
The report (ORCHESTRATION_REPORT, or orchestration.json under the test's tmp dir) has the
numbers; bench/results/orchestration.json is one committed run.
"""

from __future__ import annotations

import json
import math
import os
import signal
import time
import typing as t
from collections import Counter
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import psutil
import psycopg
import pytest
from clevertap_segment_sandbox import SandboxProcess
from local_airflow.instance import AIRFLOW, Deployment, LocalAirflow, deployed
from sandbox_truth import exportable_event_names

if t.TYPE_CHECKING:
    from local_airflow.postgres import LocalPostgres

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

TODAY = date(2026, 11, 20)
DAYS = 7  # history 2026-11-13 .. 2026-11-19 (Asia/Kolkata)
FIRST_DAY = TODAY - timedelta(days=DAYS)
# The example accounts' event groups (orchestrate/accounts.meltano.yml); globex reads the other
# events, so every message at Segment belongs to exactly one account.
ACME_GROUPS = {
    "meltano_acme-core-events-hourly": ("App Launched", "Charged", "Product Viewed"),
    "meltano_acme-engagement-events-hourly": ("Search", "Added To Cart", "UTM Visited"),
}
CORE_DAG = "meltano_acme-core-events-hourly"
CORE_STATE_ID = "demo:tap-clevertap-acme-core-to-target-segment"
CORE_RUN_DIR = "/.meltano/run/tap-clevertap-acme-core/"  # in the tap's --config path
ACCOUNTS = {"acme": "CLEVERTAP-ACME", "globex": "CLEVERTAP-GLOBEX"}
EXPORT_LIMIT = 3  # CleverTap's concurrent export calls per account
LATENCY_MS = 400  # every CleverTap call takes this long, so calls and tasks overlap for real
TIMEOUT = 600
# acme-core's tap is killed after opening this many of its 3 x DAYS export windows (event, day);
# at end of input the target confirms what it delivered with a STATE, which Meltano stores.
KILL_AFTER = 6


def _day(value: str) -> date:
    return date.fromisoformat(value[:10])


def _utc(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _overlap(a: list[dict[str, t.Any]], b: list[dict[str, t.Any]]) -> float:
    """Seconds during which a try of `a` and a try of `b` were running together.

    A try that never ran (a run the last minute's tick created just before the DAGs were paused)
    has no start or end date and counts for nothing.
    """
    ran_a = [x for x in a if x["start_date"] and x["end_date"]]
    ran_b = [y for y in b if y["start_date"] and y["end_date"]]
    total = 0.0
    for x in ran_a:
        for y in ran_b:
            start = max(_utc(x["start_date"]), _utc(y["start_date"]))
            end = min(_utc(x["end_date"]), _utc(y["end_date"]))
            total += max((end - start).total_seconds(), 0.0)
    return total


def _meltano_rows(
    postgres: LocalPostgres, sql: t.LiteralString, *params: t.Any
) -> list[tuple[t.Any, ...]]:
    """Rows from Meltano's system database (its `state` and `runs` tables)."""
    uri = postgres.database_uri("orchestration_meltano").replace("+psycopg", "")
    with psycopg.connect(uri) as connection:
        return list(connection.execute(sql, params).fetchall())


def _bookmarks(state: t.Any) -> dict[str, str]:
    """event -> last completed day, from a Meltano state payload (JSON text or dict)."""
    payload = json.loads(state) if isinstance(state, str) else state or {}
    events = payload.get("singer_state", {}).get("bookmarks", {}).get("events", {})
    return {
        p["context"]["event_name"]: p["replication_key_value"]
        for p in events.get("partitions", [])
        if p.get("replication_key_value")
    }


def _kill_core_tap_mid_run(
    airflow: LocalAirflow, sandbox: SandboxProcess, deadline: float
) -> tuple[float, int]:
    """SIGKILL acme-core's tap once it opened KILL_AFTER export windows (of 3 x DAYS)."""
    scheduler = psutil.Process(airflow.processes["scheduler"].pid)
    core_events = set(ACME_GROUPS[CORE_DAG])
    seq, opened = 0, 0
    while time.monotonic() < deadline:
        entries = sandbox.client.clevertap_requests(since=seq)
        if entries:
            seq = entries[-1]["seq"]
            opened += len(_opened_days(entries, core_events))
        if opened >= KILL_AFTER:
            taps = []
            for process in scheduler.children(recursive=True):
                try:
                    args = process.cmdline()
                except psutil.Error:  # ended meanwhile
                    continue
                if any(CORE_RUN_DIR in a for a in args) and any(
                    a.endswith("/tap-clevertap") for a in args
                ):
                    taps.append(process)
            assert taps, f"acme-core's tap opened {opened} windows and is not running any more"
            for tap in taps:
                tap.send_signal(signal.SIGKILL)
            return time.time(), opened
        time.sleep(0.3)
    pytest.fail(f"acme-core's tap opened only {opened} export windows in time")


def _wait_for_runs(
    airflow: LocalAirflow, dag_ids: list[str], unpaused_at: float, deadline: float
) -> None:
    """Until every DAG has a successful run, acme-core's first run ended (retried), and a cron
    tick that came after the unpause has fired and succeeded.

    The first run after an unpause may be for the tick before it: with catchup=False Airflow's
    cron timetable schedules the latest tick before the time the DAG processor last parsed the
    file. Only a later tick shows the schedule firing on its own.
    """
    runs: dict[str, list[dict[str, t.Any]]] = {}
    while time.monotonic() < deadline:
        runs = {dag_id: airflow.dag_runs(dag_id) for dag_id in dag_ids}
        first_core = min(runs[CORE_DAG], key=lambda r: r["run_after"], default=None)
        if (
            all(any(r["state"] == "success" for r in rs) for rs in runs.values())
            and first_core is not None
            and first_core["state"] in {"success", "failed"}
            and any(
                r["state"] == "success" and _utc(r["run_after"]).timestamp() >= unpaused_at
                for rs in runs.values()
                for r in rs
            )
        ):
            return
        time.sleep(3)
    pytest.fail(f"DAG runs not finished in time: {runs}")


def _wait_until_idle(airflow: LocalAirflow, dag_ids: list[str], deadline: float) -> None:
    while time.monotonic() < deadline:
        states = {r["state"] for d in dag_ids for r in airflow.dag_runs(d)}
        if "running" not in states:
            return
        time.sleep(3)
    pytest.fail("DAG runs still running after the DAGs were paused")


def _opened_days(
    requests_log: list[dict[str, t.Any]], events: set[str]
) -> list[tuple[float, str, str]]:
    """(time, event, day) of every export window the sandbox opened for these events."""
    opened = []
    for entry in requests_log:
        if entry["method"] != "POST" or not entry["path"].startswith("/1/events.json"):
            continue
        if entry["status"] != 200 or not entry["body"]:
            continue
        query = json.loads(entry["body"])
        if query.get("event_name") in events:
            day = str(query["from"])
            opened.append((entry["time"], query["event_name"], f"{day[:4]}-{day[4:6]}-{day[6:]}"))
    return opened


def _delivered(messages: list[dict[str, t.Any]], timezone: str) -> Counter[tuple[str, str]]:
    """Track calls at Segment per (event, day in the account timezone)."""
    zone = ZoneInfo(timezone)
    return Counter(
        (m["event"], datetime.fromisoformat(m["timestamp"]).astimezone(zone).date().isoformat())
        for m in messages
        if m["type"] == "track"
    )


def test_airflow_runs_the_account_schedules_and_retries_from_state(
    meltano_installed: None, postgres_server: LocalPostgres, tmp_path: Path
) -> None:
    test_started = time.time()
    assert AIRFLOW.exists(), "meltano install should have installed the airflow utility"
    deployment = Deployment.of_project("* * * * *")
    dag_ids = [plan.dag_id for plan in deployment.accounts]
    assert sorted(dag_ids) == sorted([*ACME_GROUPS, "meltano_globex-all-events-hourly"])
    accounts = tuple(sorted(set(deployment.sandbox_accounts.values())))
    assert accounts == tuple(sorted(ACCOUNTS.values()))
    with SandboxProcess(
        today=TODAY,
        days=DAYS,
        events_per_day=20,
        profiles=300,
        extra_account_ids=accounts,
        request_log_size=50_000,
    ) as sandbox:
        sandbox.client.set_latency(LATENCY_MS, server="clevertap")
        truth = sandbox.client.seed_summary(event_profiles=False)
        acme_events = {name for names in ACME_GROUPS.values() for name in names}
        seeded = {name for name in exportable_event_names(truth) if truth["events"][name]["total"]}
        globex_events = sorted(seeded - acme_events)
        env = {
            "AIRFLOW__CORE__DEFAULT_TASK_RETRY_DELAY": "5",
            "TAP_CLEVERTAP_START_DATE": FIRST_DAY.isoformat(),
            # A retry then reads only the days after its bookmarks: resuming shows exactly.
            "TAP_CLEVERTAP_LOOKBACK_DAYS": "0",
            "TAP_CLEVERTAP_GLOBEX_EVENT_NAMES": json.dumps(globex_events),
            "TARGET_SEGMENT_SUMMARY_PATH": str(tmp_path / "target-segment-summary.json"),
            "TARGET_SEGMENT_REJECTED_RECORDS_PATH": str(tmp_path / "target-segment-rejected.jsonl"),
        }
        with deployed(
            deployment,
            postgres_server,
            sandbox,
            home=tmp_path / "airflow",
            database_prefix="orchestration_",
            env=env,
        ) as airflow:
            started_airflow = time.time()
            # Unpause after a minute boundary: the first runs' cron ticks fall within the test.
            time.sleep(max(math.ceil(test_started / 60) * 60 + 1 - time.time(), 0))
            airflow.set_paused(dag_ids, paused=False)
            unpaused_at = time.time()
            deadline = time.monotonic() + TIMEOUT
            killed_at, opened_at_kill = _kill_core_tap_mid_run(airflow, sandbox, deadline)
            _wait_for_runs(airflow, dag_ids, unpaused_at, deadline)
            finished = time.time()
            airflow.set_paused(dag_ids, paused=True)
            _wait_until_idle(airflow, dag_ids, deadline)

            version = airflow.api("GET", "/version")["version"]
            pools = {p["name"]: p["slots"] for p in airflow.api("GET", "/pools")["pools"]}
            runs = {dag_id: airflow.dag_runs(dag_id) for dag_id in dag_ids}
            tries = {dag_id: airflow.task_tries(dag_id) for dag_id in dag_ids}
        gates = sandbox.client.clevertap_account_gates()
        segment = sandbox.client.segment_stats()
        messages = sandbox.client.segment_messages()
        log = sandbox.client.clevertap_requests()
    meltano_runs = _meltano_rows(
        postgres_server,
        "SELECT state, payload FROM runs WHERE job_name = %s ORDER BY started_at",
        CORE_STATE_ID,
    )

    # -- what is expected, from the sandbox's ground truth --------------------------------------
    window = [(FIRST_DAY + timedelta(days=i)).isoformat() for i in range(DAYS)]
    expected = Counter(
        {
            (name, day): truth["events"][name]["days"][day.replace("-", "")]
            for name in (*acme_events, *globex_events)
            for day in window
            if truth["events"][name]["days"][day.replace("-", "")]
        }
    )
    delivered = _delivered(messages, truth["timezone"])
    lost = expected - delivered
    doubled = delivered - expected

    # -- the retry: the failed attempt's state, and what the retry re-read ----------------------
    core_events = set(ACME_GROUPS[CORE_DAG])
    failed_states = [_bookmarks(payload) for state, payload in meltano_runs if state == "FAIL"]
    left_by_failure = failed_states[0] if failed_states else {}
    opened = _opened_days(log, core_events)
    reopened_after_kill = [
        (event, day)
        for when, event, day in opened
        if when > killed_at and day <= left_by_failure.get(event, "")
    ]
    read_by_retry = [(event, day) for when, event, day in opened if when > killed_at]
    all_tries = [attempt for attempts in tries.values() for attempt in attempts]
    all_runs = [run for dag_runs in runs.values() for run in dag_runs]
    by_dag = {
        dag_id: {
            "started": sum(r["start_date"] is not None for r in dag_runs),
            "succeeded": sum(r["state"] == "success" for r in dag_runs),
            # Created by the scheduler after the unpause (the first may be for an earlier tick).
            "schedule_fired": sum(
                r["run_type"] == "scheduled"
                and _utc(r["queued_at"] or r["start_date"]).timestamp() >= unpaused_at - 1
                for r in dag_runs
            ),
            "ticks_after_unpause": sum(
                r["run_type"] == "scheduled" and _utc(r["run_after"]).timestamp() >= unpaused_at
                for r in dag_runs
            ),
        }
        for dag_id, dag_runs in runs.items()
    }
    acme_tries = [a for dag_id in ACME_GROUPS for a in tries[dag_id]]
    report = {
        "airflow": {"version": version, "executor": "LocalExecutor", "metadata": "PostgreSQL"},
        "setup": {
            "dags": dag_ids,
            "cron": "* * * * *",
            "pools": pools,
            "pool_slots": {a["dag_id"]: a["pool_slots"] for a in all_tries},
            "sandbox_latency_ms": LATENCY_MS,
            "days": DAYS,
        },
        "dag_runs": {
            "started": sum(d["started"] for d in by_dag.values()),
            "succeeded": sum(d["succeeded"] for d in by_dag.values()),
            "schedule_fired": sum(d["schedule_fired"] for d in by_dag.values()),
            "ticks_after_unpause": sum(d["ticks_after_unpause"] for d in by_dag.values()),
            "triggered_by_hand": sum(r["run_type"] != "scheduled" for r in all_runs),
            "by_dag": by_dag,
        },
        "retries": {
            "failed_tries": sum(a["state"] == "failed" for a in all_tries),
            "retries": sum(a["try_number"] > 1 for a in all_tries),
            "bookmarks_left_by_failed_try": left_by_failure,
            "export_windows_opened_when_killed": opened_at_kill,
            "days_read_by_retry": len(read_by_retry),
            "bookmarked_days_read_again": len(reopened_after_kill),
        },
        "concurrency": {
            "max_export_calls_in_flight": {
                name: gates[account]["export"]["max_requested"]
                for name, account in ACCOUNTS.items()
            },
            "export_calls_completed": {
                name: gates[account]["export"]["completed"] for name, account in ACCOUNTS.items()
            },
            "export_calls_refused_429": {
                name: gates[account]["export"]["rejected"] for name, account in ACCOUNTS.items()
            },
            "seconds_acme_core_and_engagement_ran_together": round(
                _overlap(tries[CORE_DAG], tries["meltano_acme-engagement-events-hourly"]), 1
            ),
            "seconds_acme_and_globex_ran_together": round(
                _overlap(acme_tries, tries["meltano_globex-all-events-hourly"]), 1
            ),
        },
        "records": {
            "expected": sum(expected.values()),
            "delivered": sum(delivered.values()),
            "lost": sum(lost.values()),
            "doubled": sum(doubled.values()),
            "resent_and_dropped_by_segment_dedup": segment["duplicates"],
            "delivered_by_account": {
                "acme": sum(n for (e, _), n in delivered.items() if e in acme_events),
                "globex": sum(n for (e, _), n in delivered.items() if e in globex_events),
            },
        },
        "seconds": {
            "airflow_start": round(started_airflow - test_started, 1),
            "until_all_succeeded": round(finished - started_airflow, 1),
        },
    }
    report_path = Path(os.environ.get("ORCHESTRATION_REPORT") or tmp_path / "orchestration.json")
    report_path.write_text(json.dumps(report, indent=2) + "\n")
    print(f"orchestration report: {report_path}")
    context = json.dumps(report, indent=1)

    # -- a schedule fired by itself: every run is the scheduler's, one on a tick after the unpause
    assert report["dag_runs"]["triggered_by_hand"] == 0, context
    assert all(r["triggered_by"] == "timetable" for r in all_runs), context
    assert report["dag_runs"]["ticks_after_unpause"] >= 1, context
    for dag_id, counts in by_dag.items():
        assert counts["schedule_fired"] >= 1, (dag_id, context)
        assert counts["succeeded"] >= 1, (dag_id, context)

    # -- pools from the accounts; each account within CleverTap's 3 calls; both progressed ------
    account_pools = {name: n for name, n in pools.items() if name != "default_pool"}
    assert account_pools == {"clevertap-acme": 3, "clevertap-globex": 3}, context
    slots = {(a["dag_id"], a["pool"], a["pool_slots"]) for a in all_tries}
    assert slots == {
        (CORE_DAG, "clevertap-acme", 2),
        ("meltano_acme-engagement-events-hourly", "clevertap-acme", 1),
        ("meltano_globex-all-events-hourly", "clevertap-globex", 3),
    }, context
    concurrency = report["concurrency"]
    assert concurrency["seconds_acme_core_and_engagement_ran_together"] > 0, context
    assert concurrency["seconds_acme_and_globex_ran_together"] > 0, context
    for name in ACCOUNTS:
        assert 1 <= concurrency["max_export_calls_in_flight"][name] <= EXPORT_LIMIT, context
        assert concurrency["export_calls_refused_429"][name] == 0, context
        assert concurrency["export_calls_completed"][name] > 0, context
    assert gates["SANDBOX-ACCOUNT"]["export"]["completed"] == 0, "only the accounts' DAGs ran"

    # -- the killed try failed, Airflow retried it, the retry resumed from the stored state -----
    core_tries = sorted(tries[CORE_DAG], key=lambda a: (a["dag_run_id"], a["try_number"]))
    assert [(a["try_number"], a["state"]) for a in core_tries[:2]] == [
        (1, "failed"),
        (2, "success"),
    ], context
    assert [state for state, _ in meltano_runs[:2]] == ["FAIL", "SUCCESS"], context
    assert left_by_failure, "the killed try left no bookmark in the system database"
    assert any(day < window[-1] for day in left_by_failure.values()), context
    assert read_by_retry, "the retry read nothing: the kill came after the last day"
    assert reopened_after_kill == [], context
    assert all(day > left_by_failure.get(event, "") for event, day in read_by_retry), context

    # -- Segment has every expected event once: nothing lost, nothing doubled ------------------
    assert sum(lost.values()) == 0, (dict(lost), context)
    assert sum(doubled.values()) == 0, (dict(doubled), context)
    assert delivered == expected
    assert report["records"]["delivered_by_account"]["acme"] > 0, context
    assert report["records"]["delivered_by_account"]["globex"] > 0, context
