"""Peak memory of tap-clevertap's audience_members at a small and a 200,000-member audience.

Memberships are streamed into the SQLite membership store and compared there, so the tap's memory
must not grow with the audience. For each size the sandbox is started with that many profiles and
enough App Launched events that nearly all of them launched the app in the window; the tap runs
twice as a subprocess (a first run where everyone enters, then a run two days later with entries
and exits), with its resident set sampled every 20 ms (bench_memory.measure). The number of
members is the sandbox's own count for the window; every run must emit exactly the expected
records, else the benchmark fails.

    .venv/bin/python bench/bench_audiences.py [--quick] [--sizes 20000,200000]

Writes bench/results/audiences.json (``--output`` to change).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import platform
import sqlite3
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

from clevertap_segment_sandbox import SandboxClient, SandboxProcess

from bench import plugin_venvs
from bench.bench_memory import ROOT, measure
from bench.bench_tap_events import TODAY
from bench.processes import child_environment

RESULTS = ROOT / "bench" / "results" / "audiences.json"
EVENT = "App Launched"
LAST_DAYS = 7
LATER = TODAY + dt.timedelta(days=2)
#: App Launched draws per profile over the window: enough that almost every profile is a member.
DRAWS_PER_PROFILE = 6


def window(today: dt.date) -> tuple[dt.date, dt.date]:
    last = today - dt.timedelta(days=1)
    return last - dt.timedelta(days=LAST_DAYS - 1), last


def tap_config(sandbox: SandboxProcess, store: Path) -> dict[str, t.Any]:
    settings = sandbox.settings
    return {
        "account_id": settings.account_id,
        "passcode": settings.passcode,
        "api_url": sandbox.clevertap_url,
        "timezone": settings.timezone,
        "start_date": "2026-11-01",
        "type_properties_from_schema": False,
        "audiences": [{"name": "Active users", "event_name": EVENT, "last_days": LAST_DAYS}],
        "audience_store_path": str(store),
    }


def catalog(config_path: Path, env: dict[str, str]) -> dict[str, t.Any]:
    """The tap's catalog with only audience_members selected."""
    argv = [plugin_venvs.executable("tap-clevertap"), "--config", str(config_path), "--discover"]
    discovered = json.loads(subprocess.run(argv, capture_output=True, check=True, env=env).stdout)
    for entry in discovered["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] == "audience_members"
    return dict(discovered)


def members(client: t.Any, today: dt.date) -> set[str]:
    """The sandbox's own count of who launched the app in the window ending yesterday."""
    first, last = window(today)
    return set(client.seed_profile_object_ids([EVENT], first, last))


def confirmed_state(store: Path) -> dict[str, t.Any]:
    """The bookmark a target would confirm after the first run: its complete generation."""
    db = sqlite3.connect(store)
    try:
        (gen_id,) = db.execute("select gen_id from generations where complete = 1").fetchone()
    finally:
        db.close()
    partition = {"context": {"audience": "active_users"}, "generation_id": gen_id}
    return {"bookmarks": {"audience_members": {"partitions": [partition]}}}


def one_size(profiles: int, work: Path) -> dict[str, t.Any]:
    """Two runs of the tap against a sandbox of ``profiles`` people."""
    days = LAST_DAYS + 3
    # The sandbox's events_per_day is scaled by each event's weight; App Launched's is the
    # largest, so this is a floor on its draws.
    per_day = max(1, profiles * DRAWS_PER_PROFILE // LAST_DAYS // 3)
    with SandboxProcess(
        today=TODAY, days=days, profiles=profiles, events_per_day=per_day, startup_timeout=120
    ) as sandbox:
        # Ground truth over 200,000 profiles takes the sandbox a while to compute.
        client = SandboxClient(sandbox.clevertap_url, sandbox.segment_url, timeout=1800)
        store = work / f"store-{profiles}.sqlite"
        config_path = work / f"config-{profiles}.json"
        config_path.write_text(json.dumps(tap_config(sandbox, store)))
        catalog_path = work / f"catalog-{profiles}.json"
        # Bytecode from a cache, as installed: discovery fills it before the measured runs.
        env = child_environment(work)
        catalog_path.write_text(json.dumps(catalog(config_path, env)))
        before = members(client, TODAY)
        state_path = work / f"state-{profiles}.json"
        tap = [plugin_venvs.executable("tap-clevertap"), "--config", str(config_path), "--catalog"]
        first = measure([*tap, str(catalog_path)], env=env, count_records=True)
        if first["records_out"] != len(before):
            msg = f"first run emitted {first['records_out']} records, expected {len(before)}"
            raise RuntimeError(msg)
        state_path.write_text(json.dumps(confirmed_state(store)))
        client.set_today(LATER)
        after = members(client, LATER)
        second = measure(
            [*tap, str(catalog_path), "--state", str(state_path)], env=env, count_records=True
        )
        changes = len(after - before) + len(before - after)
        if second["records_out"] != changes:
            msg = f"second run emitted {second['records_out']} records, expected {changes}"
            raise RuntimeError(msg)
        return {
            "profiles": profiles,
            "members": len(before),
            "first_run": first,
            "second_run": {**second, "entered": len(after - before), "exited": len(before - after)},
            "store_mib": round(store.stat().st_size / 2**20, 1),
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="sizes 2,000 and 20,000")
    parser.add_argument("--sizes", help="comma-separated profile counts (default 20000,210000)")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    default = "2000,20000" if args.quick else "20000,210000"
    sizes = [int(x) for x in (args.sizes or default).split(",")]
    plugin_venvs.install("tap-clevertap")
    with tempfile.TemporaryDirectory(prefix="bench-audiences-") as work:
        runs = [one_size(size, Path(work)) for size in sizes]
        for run in runs:
            print(json.dumps(run), flush=True)
    small, large = runs[0], runs[-1]
    result = {
        "benchmark": "audiences",
        "description": __doc__.splitlines()[0],
        "event": EVENT,
        "last_days": LAST_DAYS,
        "runs": runs,
        "member_ratio": round(large["members"] / small["members"], 1),
        "peak_rss_growth_large_over_small": round(
            max(large["first_run"]["peak_rss_mib"], large["second_run"]["peak_rss_mib"])
            / max(small["first_run"]["peak_rss_mib"], small["second_run"]["peak_rss_mib"]),
            2,
        ),
        "machine": {"python": platform.python_version(), "platform": platform.platform()},
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "runs"}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
