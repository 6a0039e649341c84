"""Helpers for the end-to-end tests: meltano subprocesses with isolated state."""

from __future__ import annotations

import json
import os
import subprocess
import typing as t
from dataclasses import dataclass
from pathlib import Path

if t.TYPE_CHECKING:
    from clevertap_segment_sandbox import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
MELTANO = str(ROOT / ".venv" / "bin" / "meltano")


@dataclass
class MeltanoProject:
    """Runs meltano commands in the project with an isolated system database and outputs."""

    env: dict[str, str]
    output: Path
    environment: str = "demo"

    def run(
        self, *args: str, check: bool = True, cwd: Path = ROOT, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        """`meltano --environment=<env> <args>`; on failure the assertion shows the log tail."""
        result = subprocess.run(
            [MELTANO, f"--environment={self.environment}", *args],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            check=False,
            timeout=timeout,
        )
        if check:
            assert result.returncode == 0, (
                f"meltano {' '.join(args)} exited {result.returncode}\n"
                f"{result.stdout[-4000:]}\n{result.stderr[-6000:]}"
            )
        return result

    def state(self, state_id: str) -> dict[str, t.Any]:
        """The stored Singer state of a pipeline (`meltano state get`), {} when there is none."""
        result = self.run("state", "get", state_id, check=False)
        lines = [line for line in result.stdout.splitlines() if line.strip().startswith("{")]
        return dict(json.loads(lines[-1])) if lines else {}

    def summary(self, target: str) -> dict[str, t.Any]:
        """The run summary a target wrote."""
        return dict(json.loads((self.output / f"{target}-summary.json").read_text()))

    def rejected(self, target: str) -> list[dict[str, t.Any]]:
        """The rejected-records output of a target."""
        path = self.output / f"{target}-rejected.jsonl"
        if not path.exists():
            return []
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def project_env(sandbox: SandboxProcess, tmp_path: Path) -> tuple[dict[str, str], Path]:
    """Environment pointing every plugin at `sandbox` and every output under `tmp_path`."""
    output = tmp_path / "output"
    output.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "NO_COLOR": "1",
        "TAP_CLEVERTAP_API_URL": sandbox.clevertap_url,
        "TARGET_CLEVERTAP_API_URL": sandbox.clevertap_url,
        "TARGET_SEGMENT_API_URL": sandbox.segment_url,
        "TARGET_SEGMENT_SETTINGS_URL": sandbox.segment_url,
        "TARGET_SEGMENT_SUMMARY_PATH": str(output / "target-segment-summary.json"),
        "TARGET_SEGMENT_REJECTED_RECORDS_PATH": str(output / "target-segment-rejected.jsonl"),
        "TARGET_CLEVERTAP_SUMMARY_PATH": str(output / "target-clevertap-summary.json"),
        "TARGET_CLEVERTAP_REJECTED_RECORDS_PATH": str(output / "target-clevertap-rejected.jsonl"),
        "TARGET_CLEVERTAP_JOURNAL_PATH": str(tmp_path / "journal.sqlite"),
        "TAP_CLEVERTAP_AUDIENCE_STORE_PATH": str(tmp_path / "audiences.sqlite"),
        "TARGET_DUCKDB_PATH": str(output / "warehouse.duckdb"),
        "TARGET_JSONL_DESTINATION_PATH": str(output / "jsonl"),
    }
    return env, output
