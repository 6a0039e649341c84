"""Configs and command lines of the three plugins (and the archive tap) for the harness."""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

from bench.reliability import segment_archive
from bench.reliability.environment import ACCOUNT_ID, BIN, PASSCODE, TIMEZONE, WRITE_KEY

if t.TYPE_CHECKING:
    import datetime as dt

    from clevertap_segment_sandbox import SandboxProcess

    from bench.reliability.environment import Workspace

TAP = str(BIN / "tap-clevertap")
TARGET_SEGMENT = str(BIN / "target-segment")
TARGET_CLEVERTAP = str(BIN / "target-clevertap")
TARGET_CLEVERTAP_RESOLVE = str(BIN / "target-clevertap-resolve")
#: Runs of the resolve command at most: one that sends absent events again can leave some in
#: doubt again under faults; the next run settles those.
RESOLVE_PASSES = 3


def tap_config(
    sandbox: SandboxProcess,
    start: dt.date,
    event_names: list[str],
    *,
    profile_events: list[str] | None = None,
) -> dict[str, t.Any]:
    """tap-clevertap on the sandbox, for the events that hold data.

    Records are slim (no profile summary or profileData): the shape does not change what is lost
    or doubled, and slim records keep 100k-record runs short enough to kill five times.
    """
    config: dict[str, t.Any] = {
        "account_id": ACCOUNT_ID,
        "passcode": PASSCODE,
        "api_url": sandbox.clevertap_url,
        "timezone": TIMEZONE,
        "start_date": start.isoformat(),
        "event_names": event_names,
        "export_profile_events_summary": False,
        "export_profile_data": False,
        "retry_initial_wait": 0.5,
    }
    if profile_events is not None:
        config["profile_events"] = profile_events
    return config


def tap_catalog(workspace: Workspace, config: Path, streams: set[str], name: str) -> Path:
    """Discover once and select ``streams`` (the tap selects every stream without a catalog)."""
    discovered = subprocess.run(
        [TAP, "--config", str(config), "--discover"], capture_output=True, check=True
    )
    catalog = json.loads(discovered.stdout)
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] in streams
    path = workspace.path / "configs" / f"{name}.catalog.json"
    path.write_text(json.dumps(catalog))
    return path


def tap_command(config: Path, catalog: Path) -> list[str]:
    """tap-clevertap with a selection; the runner adds ``--state``."""
    return [TAP, "--config", str(config), "--catalog", str(catalog)]


def segment_target_config(
    sandbox: SandboxProcess, out: Path, **overrides: t.Any
) -> dict[str, t.Any]:
    """target-segment with the clevertap preset (what the clevertap-to-segment job uses).

    ``state_interval_seconds`` is short so that a killed run has STATE to resume from.
    """
    return {
        "write_key": WRITE_KEY,
        "api_url": sandbox.segment_url,
        "settings_url": sandbox.segment_url,
        "mapping_preset": "clevertap",
        "state_interval_seconds": 2,
        "rejected_records_path": str(out / "target-segment-rejected.jsonl"),
        "summary_path": str(out / "target-segment-summary.json"),
        **overrides,
    }


def clevertap_target_config(
    sandbox: SandboxProcess, out: Path, journal: Path, **overrides: t.Any
) -> dict[str, t.Any]:
    """target-clevertap with the segment preset (what the segment-to-clevertap job uses)."""
    return {
        "account_id": ACCOUNT_ID,
        "passcode": PASSCODE,
        "api_url": sandbox.clevertap_url,
        "property_names": "segment",
        "stream_mappings": {segment_archive.STREAM: {"preset": "segment"}},
        "journal_path": str(journal),
        "rejected_records_path": str(out / "target-clevertap-rejected.jsonl"),
        "summary_path": str(out / "target-clevertap-summary.json"),
        **overrides,
    }


def target_command(executable: str, config: Path, *extra: str) -> list[str]:
    """A target reading standard input (or ``--input FILE`` passed in ``extra``)."""
    return [executable, "--config", str(config), *extra]


def archive_tap_command(archive: Path, progress: Path | None = None) -> list[str]:
    """The archive tap (STATE every 1000 lines); the runner adds ``--state``."""
    script = str(Path(segment_archive.__file__).resolve())
    command = [sys.executable, script, "tap", "--archive", str(archive)]
    return command + (["--progress", str(progress)] if progress is not None else [])


def resolve_in_doubt(config: Path) -> dict[str, t.Any]:
    """target-clevertap-resolve, sending absent events again, until nothing is left unknown.

    No settle delay: the sandbox exports an upload as soon as it is stored. The result is the
    last run's report with the number of runs and each run's counts.
    """
    runs: list[dict[str, t.Any]] = []
    for _ in range(RESOLVE_PASSES):
        done = subprocess.run(
            [
                TARGET_CLEVERTAP_RESOLVE,
                "--config",
                str(config),
                "--account-timezone",
                TIMEZONE,
                "--settle-minutes",
                "0",
                "--resend-absent",
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
        if not runs[-1]["unknown"]:
            break
    return {**runs[-1], "runs": runs}


def read_summary(out: Path, target: str) -> dict[str, t.Any]:
    """The run summary a target wrote to summary_path ({} when it wrote none)."""
    path = out / f"{target}-summary.json"
    return dict(json.loads(path.read_text())) if path.exists() else {}


def read_rejects(out: Path, target: str) -> list[dict[str, t.Any]]:
    """Every line of a target's rejected-records file."""
    path = out / f"{target}-rejected.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
