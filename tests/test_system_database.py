"""The prod layout: state and run history in a shared PostgreSQL system database."""

from __future__ import annotations

import typing as t

import psycopg
import pytest
from pipeline_support import MeltanoProject, project_env

if t.TYPE_CHECKING:
    from local_airflow.postgres import LocalPostgres

pytestmark = pytest.mark.e2e

STATE_ID = "prod:tap-clevertap-events-to-target-segment"


def test_prod_environment_keeps_state_in_postgres(
    meltano_installed: None, postgres_server: LocalPostgres, sandbox: t.Any, tmp_path: t.Any
) -> None:
    sandbox.client.reset()
    env, output = project_env(sandbox, tmp_path)
    env.update(
        {
            "MELTANO_DATABASE_URI": postgres_server.uri,
            "TAP_CLEVERTAP_ACCOUNT_ID": "SANDBOX-ACCOUNT",
            "TAP_CLEVERTAP_PASSCODE": "sandbox-passcode",
            "TAP_CLEVERTAP_TIMEZONE": "Asia/Kolkata",
            "TAP_CLEVERTAP_START_DATE": "2026-11-15",
            "TAP_CLEVERTAP_EVENT_NAMES": '["Charged", "Search"]',
            "TARGET_SEGMENT_WRITE_KEY": "sandbox-write-key",
        }
    )
    prod = MeltanoProject(env=env, output=output, environment="prod")
    prod.run("run", "clevertap-events-to-segment")
    first = sandbox.client.segment_stats()["accepted"]
    truth = sandbox.client.seed_summary(event_profiles=False)["events"]
    expected = sum(
        n
        for name in ("Charged", "Search")
        for day, n in truth[name]["days"].items()
        if day >= "20261115"
    )
    assert first == expected

    with psycopg.connect(postgres_server.uri.replace("+psycopg", "")) as conn:
        rows = conn.execute("select state_id from state").fetchall()
        runs = conn.execute("select state from runs where job_name = %s", (STATE_ID,)).fetchall()
        assert (STATE_ID,) in rows
        assert runs == [("SUCCESS",)]  # run history lives there too

    state = prod.state(STATE_ID)["singer_state"]["bookmarks"]["events"]["partitions"]
    assert {p["context"]["event_name"]: p["replication_key_value"] for p in state} == {
        "Charged": "2026-11-19",
        "Search": "2026-11-19",
    }

    # a second run (e.g. on another worker sharing the database) continues from the bookmarks
    sandbox.client.reset()
    prod.run("run", "clevertap-events-to-segment")
    second = sandbox.client.segment_stats()["accepted"]
    assert second == sum(
        n
        for name in ("Charged", "Search")
        for day, n in truth[name]["days"].items()
        if day >= "20261118"
    )
    assert "prod:tap-clevertap-events-to-target-segment" in prod.run("state", "list").stdout


def test_per_account_schedule_keeps_its_own_state_and_concurrency(
    meltano_project: MeltanoProject, sandbox: t.Any
) -> None:
    meltano_project.env.update(
        {
            "ACME_CLEVERTAP_ACCOUNT_ID": "SANDBOX-ACCOUNT",
            "ACME_CLEVERTAP_PASSCODE": "sandbox-passcode",
            "TAP_CLEVERTAP_START_DATE": "2026-11-17",
        }
    )
    meltano_project.run("schedule", "run", "acme-core-events-hourly")
    state = meltano_project.state("demo:tap-clevertap-acme-core-to-target-segment")
    partitions = state["singer_state"]["bookmarks"]["events"]["partitions"]
    assert {p["context"]["event_name"] for p in partitions} == {
        "App Launched",
        "Charged",
        "Product Viewed",
    }
    stats = sandbox.client.clevertap_stats()
    assert 1 <= stats["max_concurrent"]["export"] <= 2  # the schedule's share of the 3 calls
    tracks = {m["event"] for m in sandbox.client.segment_messages()}
    assert tracks == {"App Launched", "Charged", "Product Viewed"}
