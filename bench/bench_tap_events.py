"""Events throughput of tap-clevertap against a bare requests+json loop over the same sandbox pages.

Both run as subprocesses writing to /dev/null, alternating, several repetitions per volume, at two
volumes (to see whether memory stays flat). Reports median records/s, median peak RSS and the
tap/bare ratio; writes bench/results/tap_events.json.

    .venv/bin/python bench/bench_tap_events.py [--quick] [--reps N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "tap_events.json"
TAP = ROOT / ".venv" / "bin" / "tap-clevertap"
TIMEZONE = "Asia/Kolkata"
TODAY = dt.date(2026, 11, 20)


def bare_loop(config_path: str) -> None:
    """The reference: one cursor chain after another, stdlib json, one line per record."""
    config = json.loads(Path(config_path).read_text())
    headers = {
        "X-CleverTap-Account-Id": config["account_id"],
        "X-CleverTap-Passcode": config["passcode"],
    }
    base = config["api_url"]
    first = dt.date.fromisoformat(config["start_date"])
    last = dt.date.fromisoformat(config["end_date"])
    out = sys.stdout
    session = requests.Session()
    for name in config["event_names"]:
        day = first
        while day <= last:
            stamp = int(day.strftime("%Y%m%d"))
            opened = session.post(
                f"{base}/1/events.json?batch_size={config['batch_size']}",
                json={"event_name": name, "from": stamp, "to": stamp},
                headers=headers,
            )
            cursor = json.loads(opened.content).get("cursor")
            while cursor:
                page = json.loads(
                    session.get(f"{base}/1/events.json?cursor={cursor}", headers=headers).content
                )
                for record in page.get("records") or ():
                    out.write(json.dumps(record) + "\n")
                cursor = page.get("next_cursor")
            day += dt.timedelta(days=1)
    out.flush()


def _run(argv: list[str]) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one subprocess writing to /dev/null."""
    with open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.DEVNULL)
        _, status, usage = os.wait4(process.pid, 0)
        elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        msg = f"{argv[0]} exited with {process.returncode}"
        raise RuntimeError(msg)
    return elapsed, usage.ru_maxrss / 1024


def _count_tap_records(argv: list[str]) -> int:
    output = subprocess.run(argv, capture_output=True, check=True).stdout
    return sum(1 for line in output.splitlines() if line.startswith(b'{"type":"RECORD"'))


def _events_catalog(config_path: Path) -> dict[str, Any]:
    catalog = json.loads(
        subprocess.run(
            [str(TAP), "--config", str(config_path), "--discover"], capture_output=True, check=True
        ).stdout
    )
    for entry in catalog["streams"]:
        for item in entry["metadata"]:
            if item["breadcrumb"] == []:
                item["metadata"]["selected"] = entry["tap_stream_id"] == "events"
    return dict(catalog)


def _shape(base: str, config: dict[str, Any]) -> dict[str, Any]:
    """Size of the records the volume is made of (the per-record cost depends on it)."""
    headers = {
        "X-CleverTap-Account-Id": config["account_id"],
        "X-CleverTap-Passcode": config["passcode"],
    }
    stamp = int(dt.date.fromisoformat(config["end_date"]).strftime("%Y%m%d"))
    for name in config["event_names"]:
        cursor = requests.post(
            f"{base}/1/events.json?batch_size=230",
            json={"event_name": name, "from": stamp, "to": stamp},
            headers=headers,
            timeout=60,
        ).json()["cursor"]
        page = requests.get(f"{base}/1/events.json?cursor={cursor}", headers=headers, timeout=60)
        records = page.json().get("records") or []
        if records:
            sizes = [len(json.dumps(r)) for r in records]
            profile = records[0].get("profile", {})
            return {
                "mean_record_bytes": round(statistics.mean(sizes)),
                "profile_events_summary_entries": len(profile.get("events") or {}),
                "profile_data_keys": len(profile.get("profileData") or {}),
            }
    return {}


def bench_volume(
    events_per_day: int, profiles: int, days: int, reps: int, workdir: Path
) -> dict[str, Any]:
    """Alternate tap and bare runs over one seeded sandbox; return medians and the ratio."""
    from api_sandbox import SandboxProcess

    with SandboxProcess(
        seed=11,
        today=TODAY.isoformat(),
        days=days,
        profiles=profiles,
        events_per_day=events_per_day,
        timezone=TIMEZONE,
    ) as sandbox:
        summary = sandbox.client.seed_summary()
        names = sorted(_exportable_names(summary))
        config = {
            "account_id": sandbox.settings.account_id,
            "passcode": sandbox.settings.passcode,
            "api_url": sandbox.clevertap_url,
            "timezone": TIMEZONE,
            "start_date": (TODAY - dt.timedelta(days=days)).isoformat(),
            "end_date": (TODAY - dt.timedelta(days=1)).isoformat(),
            "event_names": names,
            "batch_size": 4991,
            "type_properties_from_schema": False,
        }
        config_path = workdir / f"config-{events_per_day}.json"
        config_path.write_text(json.dumps(config))
        catalog_path = workdir / f"catalog-{events_per_day}.json"
        catalog_path.write_text(json.dumps(_events_catalog(config_path)))
        tap_argv = [str(TAP), "--config", str(config_path), "--catalog", str(catalog_path)]
        bare_argv = [sys.executable, __file__, "--bare-loop", str(config_path)]
        records = _count_tap_records(tap_argv)
        runs: dict[str, list[tuple[float, float]]] = {"tap": [], "bare": []}
        for rep in range(reps):
            order = [("tap", tap_argv), ("bare", bare_argv)]
            for label, argv in order if rep % 2 == 0 else order[::-1]:
                runs[label].append(_run(argv))
        shape = _shape(sandbox.clevertap_url, config)

    def summary_of(label: str) -> dict[str, Any]:
        times = [elapsed for elapsed, _ in runs[label]]
        rss = [peak for _, peak in runs[label]]
        return {
            "records_per_second_median": round(records / statistics.median(times)),
            "seconds": [round(x, 3) for x in times],
            "peak_rss_mib_median": round(statistics.median(rss), 1),
            "peak_rss_mib": [round(x, 1) for x in rss],
        }

    tap, bare = summary_of("tap"), summary_of("bare")
    return {
        "events_per_day": events_per_day,
        "profiles": profiles,
        "days": days,
        "event_names": len(names),
        "records": records,
        "shape": shape,
        "tap": tap,
        "bare": bare,
        "throughput_ratio_tap_over_bare": round(
            tap["records_per_second_median"] / bare["records_per_second_median"], 3
        ),
    }


def _exportable_names(summary: dict[str, Any]) -> list[str]:
    events = summary.get("events", {})
    return [name for name, info in events.items() if info.get("exportable", True)]


def main() -> None:
    """Run both volumes and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small volumes, 3 repetitions")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per volume")
    parser.add_argument("--bare-loop", metavar="CONFIG", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_loop:
        bare_loop(args.bare_loop)
        return
    volumes = (
        [(150, 2000, 7), (450, 2000, 7)] if args.quick else [(600, 5000, 14), (1800, 5000, 14)]
    )
    reps = args.reps or (3 if args.quick else 5)
    with tempfile.TemporaryDirectory() as tmp:
        results = [bench_volume(e, p, d, reps, Path(tmp)) for e, p, d in volumes]
    small, large = results
    report = {
        "benchmark": "tap-clevertap events stream vs bare requests+json loop",
        "quick": args.quick,
        "repetitions": reps,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "volumes": results,
        "memory_growth_ratio_large_over_small": round(
            large["tap"]["peak_rss_mib_median"] / small["tap"]["peak_rss_mib_median"], 3
        ),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
