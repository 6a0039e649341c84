"""What the end-to-end tests compare against: the sandbox's ground truth and what landed in files.

Expected numbers come from the sandbox (`seed_summary`), never from the plugins under test; actual
numbers are read from the outputs (JSONL files, the DuckDB warehouse) with tools of their own.
"""

from __future__ import annotations

import json
import subprocess
import typing as t

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
