"""What the end-to-end tests compare against: the sandbox's ground truth and what landed in files.

Expected numbers come from the sandbox (`seed_summary`), never from the plugins under test; actual
numbers are read from the outputs (JSONL files, the DuckDB warehouse) with tools of their own.
"""

from __future__ import annotations

import datetime as dt
import json
import operator
import subprocess
import typing as t

import yaml
from pipeline_support import ROOT

if t.TYPE_CHECKING:
    from pathlib import Path

FIRST_DAY = "2026-11-06"  # the session sandbox's history: 2026-11-06 .. 2026-11-19 (today 11-20)
LAST_DAY = "2026-11-19"
DUCKDB_PYTHON = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"


def expected_events(truth: dict[str, t.Any], first: str, last: str) -> dict[str, int]:
    """Exportable events per name whose day lies in [first, last] (YYYY-MM-DD)."""
    lo, hi = int(first.replace("-", "")), int(last.replace("-", ""))
    skipped = set(truth["not_exportable_events"])
    return {
        name: sum(n for day, n in info["days"].items() if lo <= int(day) <= hi)
        for name, info in truth["events"].items()
        if name not in skipped
    }


def exportable_event_names(truth: dict[str, t.Any]) -> list[str]:
    """Every seeded event CleverTap lets an export read."""
    skipped = set(truth["not_exportable_events"])
    return [name for name in truth["events"] if name not in skipped]


def read_jsonl(path: Path) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def duckdb_rows(database: Path, sql: str) -> list[list[t.Any]]:
    """Rows of a query, read with target-duckdb's own duckdb module (not a dependency of ours)."""
    script = (
        "import duckdb, json, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        "print(json.dumps(con.execute(sys.argv[2]).fetchall(), default=str))"
    )
    result = subprocess.run(
        [str(DUCKDB_PYTHON), "-c", script, str(database), sql],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    rows: list[list[t.Any]] = json.loads(result.stdout)
    return rows


# The comparisons of CleverTap's query language that the project's audiences use, read plainly.
_COMPARE: dict[str, t.Callable[[t.Any, t.Any], bool]] = {
    "equals": operator.eq,
    "greater_than": lambda actual, wanted: isinstance(actual, int | float) and actual > wanted,
}


def configured_audiences(plugin: str = "tap-clevertap-audiences") -> list[dict[str, t.Any]]:
    """The audience definitions of a tap-clevertap plugin in meltano.yml."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    found = next(p for p in project["plugins"]["extractors"] if p["name"] == plugin)
    audiences: list[dict[str, t.Any]] = found["config"]["audiences"]
    return audiences


def _holds(conditions: list[dict[str, t.Any]] | None, values: dict[str, t.Any]) -> bool:
    """Every condition holds; a property of Charged's Items holds when any item satisfies it."""
    for condition in conditions or []:
        name, op, wanted = condition["name"], condition["operator"], condition["value"]
        if name in values:
            candidates = [values[name]]
        else:
            items = values.get("Items") or []
            candidates = [item[name] for item in items if name in item]
        if op == "not_equals":
            if not candidates or wanted in candidates:
                return False
        elif not any(_COMPARE[op](actual, wanted) for actual in candidates):
            return False
    return True


def audience_truth(
    client: t.Any, audience: dict[str, t.Any], today: dt.date
) -> dict[str, str | None]:
    """objectId -> identity of the audience's members on `today`, from the raw seeded records.

    The window is the `last_days` complete days before `today`.
    """
    last = today - dt.timedelta(days=1)
    first = last - dt.timedelta(days=audience["last_days"] - 1)
    members: dict[str, str | None] = {}
    for record in client.seed_event_records(audience["event_name"], first, last):
        if (
            _holds(audience.get("event_properties"), record["event_props"])
            and _holds(
                audience.get("session_properties"), {"session_source": record["session_source"]}
            )
            and _holds(audience.get("profile_properties"), record["profileData"])
        ):
            members[record["objectId"]] = record["identity"] or None
    return members
