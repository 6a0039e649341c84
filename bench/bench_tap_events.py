"""Events throughput of tap-clevertap against bare export loops over the same sandbox pages.

The peers: the strongest loop a user would write - three cursor chains at once (CleverTap allows
three concurrent export calls per account; docs/clevertap-api.md §1.4), orjson, each chain a
query of 7 days - and, as context, the same loop with one day per query (the pages of the tap's
default) and one chain after another with requests + the standard json module. The tap runs
twice: with its default of one day per query and with export_window_days 7, the pages of the
strongest loop. All run as subprocesses writing to /dev/null, alternating, several repetitions per
volume: two volumes 3x apart without latency (does memory stay flat?), the larger one again at
100 ms per call, the smaller at 300 ms (without the one-chain loop), and an hourly run's size
(about 10,000 records, 100 ms) where start-up counts. Every contender runs with its bytecode cached
(untimed runs first), as after ``pip install``; without that the tap would pay about 0.4 s per run
for compiling singer-sdk that an installed tap never pays. Reports median records/s, CPU µs per
record, median peak RSS and the ratios; writes bench/results/tap_events.json.

    .venv/bin/python -m bench.bench_tap_events [--quick] [--reps N]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psutil
import requests

if TYPE_CHECKING:
    from clevertap_segment_sandbox import SandboxProcess
    from singer_sdk import Stream

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "tap_events.json"
TIMEZONE = "Asia/Kolkata"
TODAY = dt.date(2026, 11, 20)
#: (events per day, profiles, days, latency ms): volume grows with days, so pages keep their size.
#: The first two (no latency) measure memory growth; then 100 and 300 ms per call; the last is an
#: hourly run's size.
VOLUMES = {
    "quick": [
        (150, 2000, 4, 0),
        (150, 2000, 12, 0),
        (150, 2000, 12, 100),
        (150, 2000, 4, 300),
        (150, 2000, 4, 100),
    ],
    "full": [
        (300, 5000, 7, 0),
        (300, 5000, 21, 0),
        (300, 5000, 21, 100),
        (300, 5000, 7, 300),
        (300, 5000, 3, 100),
    ],
}
#: Above this latency the one-chain-at-a-time loop (context, not the peer) is left out: at 300 ms
#: it would take a minute per run to say what 100 ms already says.
SEQUENTIAL_UP_TO_MS = 100
#: Days per query of the windowed runs (export_window_days): both the tap and its loop.
WINDOW_DAYS = 7
CONTENDERS = {
    "tap": "tap-clevertap events, one day per query (default)",
    "tap_w7": f"tap-clevertap events, export_window_days {WINDOW_DAYS}",
    "bare_3_w7": f"3 concurrent export chains of {WINDOW_DAYS} days, orjson",
    "bare_3": "3 concurrent export chains of one day, orjson",
    "bare": "one chain of one day at a time, requests + json",
}
#: (ours, peer): each tap run against the loop reading the same pages, and the default tap
#: against the strongest loop (windows of 7 days: fewer queries for the same records).
PAIRS = (("tap_w7", "bare_3_w7"), ("tap", "bare_3_w7"), ("tap", "bare_3"), ("tap", "bare"))
EXPORT_CONCURRENCY = 3


def _export_plan(
    config_path: str,
) -> tuple[str, dict[str, str], str, list[tuple[str, int, int]]]:
    """What both loops read: base URL, auth headers, open URL, (event, from, to) per chain.

    A chain covers ``export_window_days`` days of one event (one by default), as the tap's
    queries do with the same config.
    """
    config = json.loads(Path(config_path).read_text())
    headers = {
        "X-CleverTap-Account-Id": config["account_id"],
        "X-CleverTap-Passcode": config["passcode"],
    }
    base = config["api_url"]
    first = dt.date.fromisoformat(config["start_date"])
    last = dt.date.fromisoformat(config["end_date"])
    window = config.get("export_window_days", 1)
    starts = [first + dt.timedelta(days=n) for n in range(0, (last - first).days + 1, window)]
    chains = [
        (name, _stamp(start), _stamp(min(last, start + dt.timedelta(days=window - 1))))
        for name in config["event_names"]
        for start in starts
    ]
    return base, headers, f"{base}/1/events.json?batch_size={config['batch_size']}", chains


def _stamp(day: dt.date) -> int:
    return int(day.strftime("%Y%m%d"))


def bare_loop(config_path: str) -> None:
    """The reference: one cursor chain after another, stdlib json, one line per record."""
    base, headers, open_url, chains = _export_plan(config_path)
    out = sys.stdout
    session = requests.Session()
    for name, first, last in chains:
        opened = session.post(
            open_url, json={"event_name": name, "from": first, "to": last}, headers=headers
        )
        cursor = json.loads(opened.content).get("cursor")
        while cursor:
            page = json.loads(
                session.get(f"{base}/1/events.json?cursor={cursor}", headers=headers).content
            )
            for record in page.get("records") or ():
                out.write(json.dumps(record) + "\n")
            cursor = page.get("next_cursor")
    out.flush()


def concurrent_loop(config_path: str) -> None:
    """The strongest peer: three chains at once, one session each, orjson, one line per record."""
    import orjson

    base, headers, open_url, work = _export_plan(config_path)
    out = sys.stdout.buffer
    lock = threading.Lock()

    def chains() -> None:
        session = requests.Session()
        while True:
            with lock:
                if not work:
                    return
                name, first, last = work.pop()
            opened = session.post(
                open_url, json={"event_name": name, "from": first, "to": last}, headers=headers
            )
            cursor = orjson.loads(opened.content).get("cursor")
            while cursor:
                page = orjson.loads(
                    session.get(f"{base}/1/events.json?cursor={cursor}", headers=headers).content
                )
                lines = b"".join(orjson.dumps(r) + b"\n" for r in page.get("records") or ())
                with lock:
                    out.write(lines)
                cursor = page.get("next_cursor")

    threads = [threading.Thread(target=chains) for _ in range(EXPORT_CONCURRENCY)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    out.flush()


def real_shape_record(i: int) -> dict[str, Any]:
    """An export record with the live shape: ~110 per-event summary entries, 40 profileData keys."""
    events = {
        f"Event Name {k}": {
            "count": 1 + (i * k) % 500,
            "first_seen": 1668817177 + k,
            "last_seen": 1700000000 + k,
        }
        for k in range(110)
    }
    data = {f"prop_{k}": (i * k if k % 3 == 0 else f"value-{k}-{i % 997}") for k in range(40)}
    return {
        "profile": {
            "objectId": f"__g{i:032x}",
            "identity": f"user{i}",
            "name": "Jane Doe",
            "email": f"u{i}@example.com",
            "phone": "+919999999999",
            "platform": "Android",
            "os_version": "14",
            "app_version": "5.3.1",
            "make": "Google",
            "model": "Pixel 8",
            "df": {},
            "profileData": data,
            "events": events,
        },
        "session_props": {"session_source": "Direct"},
        "ts": 20261119003232 + i % 60,
        "event_props": {"CT Session Id": i, "CT Source": "Mobile", "Amount": 12.5},
    }


def record_path(variant: str, count: int) -> None:
    """In-process cost per record of one output path (no HTTP), printed as JSON."""
    import orjson

    raws = [real_shape_record(i) for i in range(200)]
    page = orjson.dumps({"status": "success", "records": raws})
    run = _bare_record_path(page, count) if variant == "bare-json" else None
    if run is None:
        run = _tap_record_path(variant, page, count)  # imports and set-up stay untimed
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115 - the records go nowhere, on purpose
    start = time.perf_counter()
    run()
    elapsed = time.perf_counter() - start
    sys.stdout = sys.__stdout__
    print(json.dumps({"variant": variant, "us_per_record": round(elapsed / count * 1e6, 1)}))


def _bare_record_path(page: bytes, count: int) -> Any:
    def run() -> None:
        done = 0
        while done < count:
            for record in json.loads(page)["records"][: count - done]:
                sys.stdout.write(json.dumps(record) + "\n")
                done += 1

    return run


def _tap_record_path(variant: str, page: bytes, count: int) -> Any:
    import zoneinfo

    import orjson
    from clevertap_segment_common.sdk_compat import with_sdk_record_path
    from singer_sdk.singerlib.encoding import SimpleSingerWriter
    from tap_clevertap.records import build_event
    from tap_clevertap.schemas import event_schema
    from tap_clevertap.streams import EventsStream
    from tap_clevertap.tap import TapCleverTap

    tz = zoneinfo.ZoneInfo(TIMEZONE)

    class Replay(EventsStream):
        def get_records(self, context: Any) -> Any:
            done = 0
            while done < count:
                for raw in orjson.loads(page)["records"][: count - done]:
                    done += 1
                    yield build_event(raw, "X", tz)

    stream_class = Replay if variant == "tap" else with_sdk_record_path(Replay)

    class Bench(TapCleverTap):
        def __init__(self, **kwargs: Any) -> None:
            if variant != "tap":
                kwargs["message_writer"] = SimpleSingerWriter()
            super().__init__(**kwargs)

        def discover_streams(self) -> list[Stream]:
            return [stream_class(self, event_schema())]

    config = {
        "account_id": "a",
        "passcode": "p",
        "timezone": TIMEZONE,
        "start_date": "2026-11-01",
        "event_names": ["X"],
        "type_properties_from_schema": False,
    }
    return Bench(config=config).sync_all


def _record_path_report(count: int) -> dict[str, Any]:
    out = {}
    for variant in ("sdk-default", "tap", "bare-json"):
        result = subprocess.run(
            [sys.executable, __file__, "--record-path", variant, "--records", str(count)],
            capture_output=True,
            check=True,
        )
        out[variant] = json.loads(result.stdout.splitlines()[-1])["us_per_record"]
    return {
        "records": count,
        "us_per_record": out,
        "sdk_default_over_bare": round(out["sdk-default"] / out["bare-json"], 2),
        "tap_over_bare": round(out["tap"] / out["bare-json"], 2),
    }


def _run(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float, float]:
    """Wall seconds, peak RSS (MiB) and CPU seconds of one subprocess writing to /dev/null.

    Peak RSS is sampled every 10 ms (getrusage's ru_maxrss is no use here: a child inherits the
    parent's high-water mark); CPU (user + system) comes from the child's own rusage.
    """
    with open(os.devnull, "wb") as sink:
        start = time.perf_counter()
        process = subprocess.Popen(argv, stdout=sink, stderr=subprocess.DEVNULL, env=env)
        watched = psutil.Process(process.pid)
        peak = 0
        while True:
            pid, status, usage = os.wait4(process.pid, os.WNOHANG)
            if pid:
                break
            with contextlib.suppress(psutil.Error):
                peak = max(peak, watched.memory_info().rss)
            time.sleep(0.01)
        elapsed = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        msg = f"{argv[0]} exited with {process.returncode}"
        raise RuntimeError(msg)
    return elapsed, peak / 2**20, usage.ru_utime + usage.ru_stime


def count_tap_records(argv: list[str], env: dict[str, str] | None = None) -> int:
    """Records one tap run emits (streamed, so the count costs no memory here)."""
    count = 0
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
    ) as process:
        assert process.stdout is not None
        for line in process.stdout:
            count += line.startswith(b'{"type":"RECORD"')
    if process.returncode:
        msg = f"the tap exited with {process.returncode}"
        raise RuntimeError(msg)
    return count


def tap_executable() -> str:
    """The tap in its own virtualenv, as a user installs it (bench/plugin_venvs.py)."""
    from bench import plugin_venvs  # not at the top: the peer loops run this file as a script

    return plugin_venvs.executable("tap-clevertap")


def _events_catalog(config_path: Path) -> dict[str, Any]:
    catalog = json.loads(
        subprocess.run(
            [tap_executable(), "--config", str(config_path), "--discover"],
            capture_output=True,
            check=True,
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


def volume_sandbox(
    events_per_day: int, profiles: int, days: int, latency_ms: int
) -> SandboxProcess:
    """The seeded sandbox of one volume (days of data up to TODAY)."""
    from clevertap_segment_sandbox import SandboxProcess

    return SandboxProcess(
        seed=11,
        today=TODAY.isoformat(),
        days=days,
        profiles=profiles,
        events_per_day=events_per_day,
        timezone=TIMEZONE,
        latency_ms=latency_ms,
    )


def tap_command(
    sandbox: SandboxProcess, names: list[str], days: int, workdir: Path, window: int = 1
) -> tuple[dict[str, Any], list[str]]:
    """The tap's config and command line: the events stream of ``names`` over ``days`` days."""
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
        "export_window_days": window,
    }
    tag = f"{sandbox.settings.events_per_day}-{days}-{sandbox.settings.latency_ms}-w{window}"
    config_path = workdir / f"config-{tag}.json"
    config_path.write_text(json.dumps(config))
    catalog_path = workdir / f"catalog-{tag}.json"
    catalog_path.write_text(json.dumps(_events_catalog(config_path)))
    return config, [tap_executable(), "--config", str(config_path), "--catalog", str(catalog_path)]


def bench_volume(  # noqa: PLR0917 - one volume's parameters, in order
    events_per_day: int,
    profiles: int,
    days: int,
    latency_ms: int,
    reps: int,
    workdir: Path,
    *,
    warm_up: bool = False,
) -> dict[str, Any]:
    """Alternate the tap and its peers over one seeded sandbox; return medians and ratios.

    Bytecode goes to a cache under ``workdir``; the tap fills it in the counting runs, the loops
    in one untimed run each when ``warm_up`` (the first volume).
    """
    from bench.processes import child_environment  # not at the top: see main()

    env = child_environment(workdir)
    with volume_sandbox(events_per_day, profiles, days, latency_ms) as sandbox:
        summary = sandbox.client.seed_summary()
        names = sorted(exportable_names(summary))
        config, tap_argv = tap_command(sandbox, names, days, workdir)
        _, windowed_argv = tap_command(sandbox, names, days, workdir, window=WINDOW_DAYS)
        argvs = {
            "tap": tap_argv,
            "tap_w7": windowed_argv,
            "bare_3_w7": [sys.executable, __file__, "--concurrent-loop", windowed_argv[2]],
            "bare_3": [sys.executable, __file__, "--concurrent-loop", tap_argv[2]],
        }
        if latency_ms <= SEQUENTIAL_UP_TO_MS:
            argvs["bare"] = [sys.executable, __file__, "--bare-loop", tap_argv[2]]
        records = count_tap_records(argvs["tap"], env)
        if count_tap_records(argvs["tap_w7"], env) != records:
            msg = f"export_window_days {WINDOW_DAYS} did not emit the {records} records of days"
            raise RuntimeError(msg)
        first = str(config["start_date"]).replace("-", "")
        last = str(config["end_date"]).replace("-", "")
        expected = sum(
            count
            for name in names
            for day, count in summary["events"][name]["days"].items()
            if first <= day <= last
        )
        if records != expected:
            msg = f"the tap emitted {records} records, the sandbox holds {expected}"
            raise RuntimeError(msg)
        if warm_up:
            for label, argv in argvs.items():
                if not label.startswith("tap"):
                    _run(argv, env)
        runs: dict[str, list[tuple[float, float, float]]] = {label: [] for label in argvs}
        order = list(argvs)
        for rep in range(reps):
            shift = rep % len(order)
            for label in order[shift:] + order[:shift]:
                runs[label].append(_run(argvs[label], env))
        shape = _shape(sandbox.clevertap_url, config)

    def summary_of(label: str) -> dict[str, Any]:
        times = [elapsed for elapsed, _, _ in runs[label]]
        rss = [peak for _, peak, _ in runs[label]]
        cpu = [seconds for _, _, seconds in runs[label]]
        return {
            "records_per_second_median": round(records / statistics.median(times)),
            "seconds": [round(x, 3) for x in times],
            "cpu_us_per_record_median": round(statistics.median(cpu) / records * 1e6, 1),
            "records_per_cpu_second_median": round(records / statistics.median(cpu)),
            "peak_rss_mib_median": round(statistics.median(rss), 1),
            "peak_rss_mib": [round(x, 1) for x in rss],
        }

    measured = {label: summary_of(label) for label in argvs}
    rate = {label: m["records_per_second_median"] for label, m in measured.items()}
    memory = {label: m["peak_rss_mib_median"] for label, m in measured.items()}
    return {
        "events_per_day": events_per_day,
        "profiles": profiles,
        "days": days,
        "latency_ms": latency_ms,
        "event_names": len(names),
        "records": records,
        "shape": shape,
        **measured,
        **{
            f"throughput_ratio_{ours}_over_{peer}": round(rate[ours] / rate[peer], 3)
            for ours, peer in PAIRS
            if peer in rate
        },
        "memory_ratio_tap_over_bare_3": round(memory["tap"] / memory["bare_3"], 2),
    }


def exportable_names(summary: dict[str, Any]) -> list[str]:
    """Events that hold data and may be exported."""
    skip = set(summary.get("not_exportable_events", []))
    events = summary.get("events", {})
    return [name for name, info in events.items() if info.get("total") and name not in skip]


def main() -> None:
    """Run both volumes and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small volumes, 2 repetitions")
    parser.add_argument("--reps", type=int, default=None, help="repetitions per volume")
    parser.add_argument("--bare-loop", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--concurrent-loop", metavar="CONFIG", help=argparse.SUPPRESS)
    parser.add_argument("--record-path", metavar="VARIANT", help=argparse.SUPPRESS)
    parser.add_argument("--records", type=int, default=5000, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_loop:
        bare_loop(args.bare_loop)
        return
    if args.concurrent_loop:
        concurrent_loop(args.concurrent_loop)
        return
    if args.record_path:
        record_path(args.record_path, args.records)
        return
    # Volume grows with days (more pages of the same size), so memory should stay flat.
    volumes = VOLUMES["quick" if args.quick else "full"]
    from bench import plugin_venvs  # not at the top: the peer loops run this file as a script

    plugin_venvs.install("tap-clevertap")
    reps = args.reps or (2 if args.quick else 3)
    with tempfile.TemporaryDirectory() as tmp:
        results = [
            bench_volume(e, p, d, ms, reps, Path(tmp), warm_up=i == 0)
            for i, (e, p, d, ms) in enumerate(volumes)
        ]
    small, large = results[:2]
    report = {
        "benchmark": "tap-clevertap events stream vs bare export loops",
        "contenders": CONTENDERS,
        "pairs": PAIRS,
        "quick": args.quick,
        "repetitions": reps,
        "machine": {"cpus": os.cpu_count(), "python": sys.version.split()[0]},
        "volumes": results,
        "record_path_in_process": _record_path_report(3000 if args.quick else 10000),
        "memory_growth_ratio_large_over_small": round(
            large["tap"]["peak_rss_mib_median"] / small["tap"]["peak_rss_mib_median"], 3
        ),
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
