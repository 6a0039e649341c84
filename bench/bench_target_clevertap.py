"""target-clevertap vs the way CleverTap's own clients upload, against the same sandbox.

The peers are the ways CleverTap's clients upload: the Go data-upload tool CleverTap points bulk
uploads to runs 3 workers of 1,000 records per request (the strongest, ``uploader_3x1000``); the
official Node library and simple loops send one request at a time (100 or 1,000 records, kept as
context). The peers post exactly the records the target would send (already mapped, so they do
less work than the target) and check every answer. The target reads the same events as Singer
messages (Segment track calls, segment preset, journal on) and uploads with its defaults (5
lanes) and with the account's limit (15). Every run is its own process, timed from start to
exit (start-up included); runs alternate, repeat, and medians are compared. Conditions: 200,000
events (a bulk load) at 0, 100 and 300 ms of sandbox latency, and 10,000 events at 100 ms (an
hourly run, where start-up weighs most); the one-at-a-time peers run at 100 ms only. Each run must
leave exactly N distinct events in the sandbox. CPU time per record is the
process's user + system time. Memory: the target's peak RSS at 100,000 and 1,000,000 records.
Journal: the delivery journal's CPU per upload when it already holds 0 and 2,000,000 entries.

Every process runs with its bytecode cached (a warm-up run first), as after ``pip install``: this
development environment sets PYTHONDONTWRITEBYTECODE and uv does not precompile, which would add
about 1.4 s of compiling to every start-up of every contender.

    .venv/bin/python -m bench.bench_target_clevertap [--quick] [--repeats R]

Writes bench/results/target_clevertap.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import queue
import statistics
import sys
import tempfile
import threading
import time
import typing as t
from pathlib import Path

import orjson
import requests
from clevertap_segment_sandbox import SandboxProcess
from target_clevertap.journal import DeliveryJournal

from bench import plugin_venvs
from bench.processes import child_environment, run_child

ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "target_clevertap.json"
TARGET_BIN = plugin_venvs.executable("target-clevertap")
EVENTS = ("Product Viewed", "Product Added", "Checkout Started", "Search", "Coupon Applied")
START = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
SEGMENT_STREAM_SCHEMA = {
    "type": "object",
    "properties": {
        "type": {"type": "string"},
        "userId": {"type": ["string", "null"]},
        "anonymousId": {"type": ["string", "null"]},
        "messageId": {"type": "string"},
        "event": {"type": ["string", "null"]},
        "timestamp": {"type": "string", "format": "date-time"},
        "properties": {"type": ["object", "null"]},
        "context": {"type": ["object", "null"]},
    },
}


def make_event(seq: int) -> dict[str, t.Any]:
    """One Segment track message with ten realistic properties."""
    at = START + dt.timedelta(seconds=seq)
    return {
        "type": "track",
        "userId": f"user-{seq % 5000}",
        "messageId": f"msg-{seq:09d}",
        "event": EVENTS[seq % len(EVENTS)],
        "timestamp": at.isoformat().replace("+00:00", "Z"),
        "context": {"library": {"name": "analytics-python", "version": "2.3.4"}},
        "properties": {
            "seq": seq,
            "product_id": f"sku-{seq % 300}",
            "name": "Trail Runner 2",
            "price": 89.9,
            "currency": "EUR",
            "category": "Shoes",
            "brand": "Acme",
            "variant": ("blue", "red", "black")[seq % 3],
            "position": seq % 10,
            "url": f"https://shop.example.com/p/{seq % 300}",
        },
    }


def upload_record(event: dict[str, t.Any]) -> dict[str, t.Any]:
    """What the target sends for one track message (written out here for the baselines)."""
    at = dt.datetime.fromisoformat(event["timestamp"].replace("Z", "+00:00"))
    return {
        "type": "event",
        "identity": event["userId"],
        "ts": int(at.timestamp()),
        "evtName": event["event"],
        "evtData": event["properties"],
    }


def write_inputs(directory: Path, count: int) -> tuple[Path, Path]:
    """Singer messages for the target and upload records for the baselines."""
    singer, uploads = directory / f"singer-{count}.jsonl", directory / f"uploads-{count}.jsonl"
    with singer.open("wb") as s_file, uploads.open("wb") as u_file:
        schema = {"type": "SCHEMA", "stream": "tracks", "schema": SEGMENT_STREAM_SCHEMA}
        s_file.write(orjson.dumps({**schema, "key_properties": ["messageId"]}) + b"\n")
        for seq in range(count):
            event = make_event(seq)
            s_file.write(
                orjson.dumps({"type": "RECORD", "stream": "tracks", "record": event}) + b"\n"
            )
            u_file.write(orjson.dumps(upload_record(event)) + b"\n")
    return singer, uploads


# -- the baseline: one request at a time, like CleverTap's clients --------------------------------


def sequential_worker(  # noqa: PLR0917 - the command line's arguments, in order
    uploads: str, url: str, account: str, passcode: str, batch: int, workers: int = 1
) -> None:
    """Post the records in batches, each worker waiting for its answer (own process).

    One worker is the clients' one-request-at-a-time loop; three are the Go data-upload tool's
    pattern (3 workers x 1,000 records per request, docs/clevertap-api.md §4.5, known clients).
    """
    headers = {
        "X-CleverTap-Account-Id": account,
        "X-CleverTap-Passcode": passcode,
        "Content-Type": "application/json; charset=utf-8",
    }
    batches: queue.Queue[list[bytes] | None] = queue.Queue(maxsize=workers * 2)
    failures: list[BaseException] = []

    def work() -> None:
        session = requests.Session()
        while (records := batches.get()) is not None:
            try:
                body = b'{"d":[' + b",".join(records) + b"]}"
                answer = session.post(f"{url}/1/upload", data=body, headers=headers, timeout=60)
                answer.raise_for_status()
                if answer.json().get("status") != "success":
                    raise RuntimeError(answer.text[:200])
            except Exception as exc:
                failures.append(exc)

    threads = [threading.Thread(target=work) for _ in range(workers)]
    for thread in threads:
        thread.start()
    pending: list[bytes] = []
    with open(uploads, "rb") as source:
        for line in source:
            pending.append(line.rstrip(b"\n"))
            if len(pending) == batch:
                batches.put(pending)
                pending = []
    if pending:
        batches.put(pending)
    for _ in threads:
        batches.put(None)
    for thread in threads:
        thread.join()
    if failures:
        raise failures[0]


# -- runs -----------------------------------------------------------------------------------------


def target_command(
    sandbox: SandboxProcess, work: Path, singer: Path, concurrency: int
) -> list[str]:
    config = {
        "account_id": sandbox.settings.account_id,
        "passcode": sandbox.settings.passcode,
        "api_url": sandbox.clevertap_url,
        "stream_mappings": {"tracks": {"preset": "segment"}},
        "max_concurrency": concurrency,
        "journal_path": str(work / f"journal-{time.time_ns()}.sqlite"),
        "rejected_records_path": str(work / "rejected.jsonl"),
        "summary_path": str(work / "summary.json"),
    }
    path = work / "config.json"
    path.write_text(json.dumps(config))
    return [TARGET_BIN, "--config", str(path), "--input", str(singer)]


def baseline_command(
    sandbox: SandboxProcess, uploads: Path, batch: int, workers: int = 1
) -> list[str]:
    return [
        sys.executable,
        "-m",
        "bench.bench_target_clevertap",
        "--sequential-worker",
        str(uploads),
        sandbox.clevertap_url,
        sandbox.settings.account_id,
        sandbox.settings.passcode,
        str(batch),
        str(workers),
    ]


def one_run(
    sandbox: SandboxProcess, command: list[str], count: int, work: Path
) -> dict[str, t.Any]:
    sandbox.client.reset()
    done = run_child(command, child_environment(work))
    if done.returncode != 0:
        raise RuntimeError(f"{command[0]} failed: {done.stderr[-2000:]}")
    seconds, rss_mb, cpu = done.seconds, done.peak_rss_mb, done.cpu_seconds
    stats = sandbox.client.clevertap_stats()
    stored = stats["uploads"]["events_stored"]
    if stored != count or stats["uploads"]["duplicate_events"] != 0:
        raise RuntimeError(f"{command[0]}: {stored} events stored for {count} sent")
    result: dict[str, t.Any] = {
        "seconds": round(seconds, 3),
        "records_per_s": round(count / seconds),
        "cpu_us_per_record": round(cpu / count * 1e6, 1),
        "peak_rss_mb": rss_mb,
        "max_concurrent_uploads": stats["max_concurrent"]["upload"],
    }
    summary = work / "summary.json"
    if command[0] == TARGET_BIN and summary.exists():
        inside = json.loads(summary.read_text())["seconds"]
        result["records_per_s_after_startup"] = round(count / inside)
        summary.unlink()
    return result


def median_of(runs: list[dict[str, t.Any]], key: str) -> float:
    return float(statistics.median(run[key] for run in runs if key in run))


def compare(
    latency: int, count: int, args: argparse.Namespace, work: Path, *, context: bool
) -> dict[str, t.Any]:
    """The variants at one latency and volume, alternating, repeated; medians and ratios.

    ``context`` adds the one-request-at-a-time peers (slow: they run at one latency only).
    """
    node_count = max(count // 5, 1000)
    singer, uploads = write_inputs(work, count)
    _, node_uploads = write_inputs(work, node_count)
    with SandboxProcess(latency_ms=latency) as sandbox:
        variants: list[tuple[str, t.Callable[[], list[str]], int]] = [
            ("target_5_lanes", lambda: target_command(sandbox, work, singer, 5), count),
            ("target_15_lanes", lambda: target_command(sandbox, work, singer, 15), count),
            ("uploader_3x1000", lambda: baseline_command(sandbox, uploads, 1000, 3), count),
        ]
        if context:
            variants += [
                ("sequential_1000", lambda: baseline_command(sandbox, uploads, 1000), count),
                (
                    "sequential_100",
                    lambda: baseline_command(sandbox, node_uploads, 100),
                    node_count,
                ),
            ]
        runs: dict[str, list[dict[str, t.Any]]] = {name: [] for name, _, _ in variants}
        warm_up(sandbox, work)
        for repeat in range(args.repeats):
            shift = repeat % len(variants)
            for name, command, records in variants[shift:] + variants[:shift]:
                result = one_run(sandbox, command(), records, work)
                runs[name].append(result)
                print(f"latency {latency} ms, {count} events, {name}: {result}", flush=True)
    medians = {
        name: {
            "records": count if not name.endswith("_100") else node_count,
            "records_per_s": median_of(results, "records_per_s"),
            "seconds": median_of(results, "seconds"),
            "cpu_us_per_record": median_of(results, "cpu_us_per_record"),
            "peak_rss_mb": median_of(results, "peak_rss_mb"),
            "max_concurrent_uploads": max(r["max_concurrent_uploads"] for r in results),
            **(
                {"records_per_s_after_startup": median_of(results, "records_per_s_after_startup")}
                if name.startswith("target")
                else {}
            ),
        }
        for name, results in runs.items()
    }
    rate = {name: m["records_per_s"] for name, m in medians.items()}
    ratios = {
        f"{target}_vs_{base}": round(rate[target] / rate[base], 2)
        for target in ("target_5_lanes", "target_15_lanes")
        for base in ("uploader_3x1000", "sequential_1000", "sequential_100")
        if base in rate
    }
    return {
        "latency_ms": latency,
        "records": count,
        "medians": medians,
        "ratios": ratios,
        "runs": runs,
    }


def warm_up(sandbox: SandboxProcess, work: Path) -> None:
    """One small run of each program, so that every timed run starts with cached bytecode."""
    singer, uploads = write_inputs(work, 1000)
    one_run(sandbox, target_command(sandbox, work, singer, 5), 1000, work)
    one_run(sandbox, baseline_command(sandbox, uploads, 1000), 1000, work)


def start_up(work: Path) -> dict[str, float]:
    """A run with no records: what every run pays before the first one (median of 5)."""
    with SandboxProcess(latency_ms=0) as sandbox:
        warm_up(sandbox, work)
        singer, _ = write_inputs(work, 0)
        runs = [
            run_child(target_command(sandbox, work, singer, 5), child_environment(work))
            for _ in range(5)
        ]
    assert all(r.returncode == 0 for r in runs), runs[0].stderr[-2000:]
    return {
        "seconds": round(statistics.median(r.seconds for r in runs), 3),
        "cpu_seconds": round(statistics.median(r.cpu_seconds for r in runs), 3),
        "peak_rss_mb": statistics.median(r.peak_rss_mb for r in runs),
    }


def memory(args: argparse.Namespace, work: Path) -> dict[str, t.Any]:
    """The target's peak RSS at two volumes (0 ms latency, 5 lanes)."""
    points = {}
    with SandboxProcess(latency_ms=0) as sandbox:
        warm_up(sandbox, work)
        for count in args.memory_volumes:
            singer, _ = write_inputs(work, count)
            results = [one_run(sandbox, target_command(sandbox, work, singer, 5), count, work)]
            points[str(count)] = median_of(results, "peak_rss_mb")
            print(f"memory at {count} records: {points[str(count)]} MB", flush=True)
    small, large = args.memory_volumes
    return {
        "peak_rss_mb_by_records": points,
        "growth_ratio": round(points[str(large)] / points[str(small)], 2),
        "volume_ratio": round(large / small, 1),
    }


def _journal_traffic(journal: DeliveryJournal, uploads: int) -> None:
    """Batches of 1,000 random fingerprints, marked pending then delivered, as the lanes do."""
    for _ in range(uploads // 1000):
        fingerprints = [os.urandom(16) for _ in range(1000)]
        send = journal.mark_pending(fingerprints)
        if send is not None:
            journal.mark_delivered([send], len(fingerprints))


def journal_cost(sizes: tuple[int, ...], uploads: int, work: Path) -> list[dict[str, t.Any]]:
    """CPU of the delivery journal per upload, in process, with a journal already holding N.

    The journal is closed at the end (its last fold included). A user's journal holds up to
    journal_max_entries (5 million by default), while the runs above start each with an empty one.
    """
    points = []
    for size in sizes:
        path = work / f"journal-cost-{size}.sqlite"
        bound = {"max_entries": 10 * (size + uploads), "max_age_days": 30}
        journal = DeliveryJournal(path, **bound)
        _journal_traffic(journal, size)
        journal.close()
        journal = DeliveryJournal(path, **bound)
        cpu, wall = time.process_time(), time.perf_counter()
        _journal_traffic(journal, uploads)
        journal.close()
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        points.append(
            {
                "entries_before": size,
                "uploads": uploads,
                "cpu_us_per_upload": round(cpu / uploads * 1e6, 2),
                "wall_us_per_upload": round(wall / uploads * 1e6, 2),
            }
        )
        print(f"journal with {size:,} entries: {points[-1]}", flush=True)
    return points


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small volumes, 2 repeats")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--records", type=int)
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--sequential-worker", nargs=6, metavar="ARG")
    args = parser.parse_args()
    if args.sequential_worker:
        uploads, url, account, passcode, batch, workers = args.sequential_worker
        sequential_worker(uploads, url, account, passcode, int(batch), int(workers))
        return
    args.repeats = args.repeats or (2 if args.quick else 3)
    args.records = args.records or (20_000 if args.quick else 200_000)
    hourly = 2_000 if args.quick else 10_000
    args.memory_volumes = (5_000, 25_000) if args.quick else (100_000, 1_000_000)
    plugin_venvs.install("target-clevertap")
    with tempfile.TemporaryDirectory(prefix="bench-clevertap-") as tmp:
        work = Path(tmp)
        startup = start_up(work)
        by_latency = [
            compare(100, args.records, args, work, context=True),
            compare(300, args.records, args, work, context=False),
            compare(0, args.records, args, work, context=False),
            compare(100, hourly, args, work, context=False),
        ]
        mem = memory(args, work)
        journal = journal_cost(
            (0, 200_000) if args.quick else (0, 2_000_000), 20_000 if args.quick else 200_000, work
        )
    for entry in by_latency:
        for name, median in entry["medians"].items():
            median["records_per_cpu_second"] = round(1e6 / median["cpu_us_per_record"])
            if name.startswith("target"):
                work_cpu = median["cpu_us_per_record"] * median["records"] / 1e6
                median["cpu_us_per_record_after_startup"] = round(
                    (work_cpu - startup["cpu_seconds"]) / median["records"] * 1e6, 1
                )
    result = {
        "benchmark": "target-clevertap vs sequential uploads (CleverTap client style)",
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "quick": args.quick,
        "repeats": args.repeats,
        "records": args.records,
        "start_up": startup,
        "latencies": by_latency,
        "memory": mem,
        "journal_cost": journal,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(result, indent=2) + "\n")
    for entry in by_latency:
        print(f"latency {entry['latency_ms']} ms ratios: {entry['ratios']}")
    print(f"memory: {mem}")


if __name__ == "__main__":
    main()
