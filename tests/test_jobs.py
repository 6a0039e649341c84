"""Every Meltano job is run by an end-to-end test; the jobs no other test runs are run here.

`JOB_TESTS` is the explicit map job -> the test that runs it with `meltano run <job>`. A job added
to meltano.yml (or orchestrate/*.meltano.yml) without a test fails
`test_every_job_is_run_by_an_end_to_end_test`.
"""

from __future__ import annotations

import ast
import json
import subprocess
import typing as t
from collections import Counter

import pytest
from pipeline_support import MELTANO, ROOT, MeltanoProject
from sandbox_truth import FIRST_DAY, LAST_DAY, duckdb_rows, expected_events

pytestmark = pytest.mark.e2e

JOB_TESTS = {
    "clevertap-to-segment": (
        "test_pipelines.py",
        "test_clevertap_to_segment_delivers_every_event_and_profile_exactly_once",
    ),
    "clevertap-events-to-segment": (
        "test_jobs.py",
        "test_scheduled_jobs_and_account_jobs_run_in_demo",
    ),
    "clevertap-profiles-to-segment": (
        "test_jobs.py",
        "test_scheduled_jobs_and_account_jobs_run_in_demo",
    ),
    "clevertap-audiences-to-segment": (
        "test_audiences.py",
        "test_first_run_sends_every_member_then_exactly_the_entries_and_exits",
    ),
    "segment-to-clevertap": (
        "test_pipelines.py",
        "test_segment_archive_to_clevertap_writes_the_accounts_spellings",
    ),
    "clevertap-to-warehouse": ("test_pipelines.py", "test_clevertap_to_warehouse_loads_duckdb"),
    "clevertap-reports-to-warehouse": (
        "test_jobs.py",
        "test_clevertap_reports_to_warehouse_lands_every_report_table",
    ),
    "acme-core-events-to-segment": (
        "test_jobs.py",
        "test_scheduled_jobs_and_account_jobs_run_in_demo",
    ),
    "acme-engagement-events-to-segment": (
        "test_jobs.py",
        "test_scheduled_jobs_and_account_jobs_run_in_demo",
    ),
    "globex-events-to-segment": (
        "test_jobs.py",
        "test_scheduled_jobs_and_account_jobs_run_in_demo",
    ),
}
# event_names of the example account's event groups (orchestrate/accounts.meltano.yml)
ACME_CORE = {"App Launched", "Charged", "Product Viewed"}
ACME_ENGAGEMENT = {"Search", "Added To Cart", "UTM Visited"}
# demo's count_events for tap-clevertap in meltano.yml (the counted events, kept few for speed)
COUNTED = {"App Launched", "Charged", "Added To Cart"}
REPORT_TABLES = {
    "campaigns",
    "campaign_reports",
    "message_reports",
    "event_counts",
    "profile_counts",
    "trends",
    "event_schema",
    "user_property_schema",
    "property_name_audit",
}


def jobs_run_by(test_file: str, test_name: str) -> set[str]:
    """Names passed to `<project>.run("run", ...)` inside one test function (read, not run)."""
    tree = ast.parse((ROOT / "tests" / test_file).read_text())
    functions = [
        node
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef) and node.name == test_name
    ]
    assert functions, f"{test_file} has no test named {test_name}"
    names: set[str] = set()
    for node in ast.walk(functions[0]):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "run"
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and node.args[0].value == "run"
        ):
            names |= {
                a.value
                for a in node.args[1:]
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            }
    return names


def test_every_job_is_run_by_an_end_to_end_test(meltano_installed: None) -> None:
    listing = subprocess.run(
        [MELTANO, "--environment=demo", "--log-level=warning", "job", "list", "--format=json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    jobs = {job["job_name"] for job in json.loads(listing.stdout)["jobs"]}
    assert jobs == set(JOB_TESTS), "map every job of `meltano job list` to the test that runs it"
    for job, (test_file, test_name) in JOB_TESTS.items():
        assert job in jobs_run_by(test_file, test_name), (
            f"{test_file}::{test_name} does not `meltano run {job}`"
        )


@pytest.mark.slow
def test_scheduled_jobs_and_account_jobs_run_in_demo(
    meltano_project: MeltanoProject, sandbox: t.Any
) -> None:
    """clevertap-to-segment's halves (scheduled apart) and the example accounts' jobs, in one run.

    In demo both example accounts are the sandbox's one account, the same one the plain
    tap-clevertap reads: their runs re-send the same events, and Segment keeps each once.
    """
    meltano_project.env["TAP_CLEVERTAP_START_DATE"] = LAST_DAY  # one day keeps it small
    meltano_project.run(
        "run",
        "clevertap-events-to-segment",
        "clevertap-profiles-to-segment",
        "acme-core-events-to-segment",
        "acme-engagement-events-to-segment",
        "globex-events-to-segment",
    )
    truth = sandbox.client.seed_summary(event_profiles=False)
    expected = {k: v for k, v in expected_events(truth, LAST_DAY, LAST_DAY).items() if v}
    messages = sandbox.client.segment_messages()
    assert dict(Counter(m["event"] for m in messages if m["type"] == "track")) == expected
    people = sandbox.client.seed_profile_object_ids(list(expected), LAST_DAY, LAST_DAY)
    assert len([m for m in messages if m["type"] == "identify"]) == len(people)
    stats = sandbox.client.segment_stats()
    assert stats["accepted"] == sum(expected.values()) + len(people)
    # globex (every event) and acme's two event groups re-sent events of
    # clevertap-events-to-segment: same deterministic ids, so Segment drops them
    groups = {"acme-core": ACME_CORE, "acme-engagement": ACME_ENGAGEMENT, "globex": set(expected)}
    resent = sum(expected.get(name, 0) for names in groups.values() for name in names)
    assert stats["duplicates"] == resent
    assert meltano_project.summary("target-segment")["rejected"] == 0

    # Each task keeps its own bookmarks; the halves share the combined job's state ids.
    for tap, names in {"events": set(expected), **groups}.items():
        state = meltano_project.state(f"demo:tap-clevertap-{tap}-to-target-segment")
        partitions = state["singer_state"]["bookmarks"]["events"]["partitions"]
        bookmarks = {p["context"]["event_name"]: p.get("replication_key_value") for p in partitions}
        assert {bookmarks[name] for name in names & set(expected)} == {LAST_DAY}, tap
        if tap.startswith("acme"):  # an event group reads its own events only
            assert set(bookmarks) == names, tap
    profiles = meltano_project.state("demo:tap-clevertap-profiles-to-target-segment")
    assert profiles["singer_state"]["bookmarks"]["profiles"]


@pytest.mark.slow
def test_clevertap_reports_to_warehouse_lands_every_report_table(
    meltano_project: MeltanoProject, sandbox: t.Any
) -> None:
    meltano_project.env["TAP_CLEVERTAP_START_DATE"] = FIRST_DAY
    meltano_project.run("run", "clevertap-reports-to-warehouse")
    warehouse = meltano_project.output / "warehouse.duckdb"
    tables = {
        row[0]
        for row in duckdb_rows(
            warehouse,
            "select table_name from information_schema.tables where table_schema = 'clevertap'",
        )
    }
    assert tables == REPORT_TABLES  # no events or profiles: those are other jobs

    truth = sandbox.client.seed_summary(event_profiles=False)
    counts = {
        (name, day): n
        for name, day, n in duckdb_rows(
            warehouse, "select event_name, date, count from clevertap.event_counts"
        )
    }
    first, last = int(FIRST_DAY.replace("-", "")), int(LAST_DAY.replace("-", ""))
    days = [f"{d // 10000}-{d // 100 % 100:02d}-{d % 100:02d}" for d in range(first, last + 1)]
    assert counts == {
        (name, day): truth["events"][name]["days"].get(day.replace("-", ""), 0)
        for name in COUNTED
        for day in days
    }
    profile_counts = {
        (name, day): n
        for name, day, n in duckdb_rows(
            warehouse, "select event_name, date, count from clevertap.profile_counts"
        )
    }
    assert profile_counts == {
        (name, day): sandbox.client.seed_profile_count(name, day, day)
        for name in COUNTED
        for day in days
    }
    campaigns = {row[0] for row in duckdb_rows(warehouse, "select id from clevertap.campaigns")}
    listed = [c for c in truth["campaigns"] if c["scheduled_on"] >= first]
    assert campaigns == {str(c["id"]) for c in listed}
    reported = {
        r[0] for r in duckdb_rows(warehouse, "select campaign_id from clevertap.campaign_reports")
    }
    assert reported == {str(c["id"]) for c in listed if c["report_form"] == "result"}
    (messages,) = duckdb_rows(warehouse, "select count(*) from clevertap.message_reports")
    assert messages == [truth["messages"]]
    (schema,) = duckdb_rows(warehouse, "select count(*) from clevertap.event_schema")
    assert schema[0] >= len(truth["event_names"])
