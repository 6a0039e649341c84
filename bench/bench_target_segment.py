"""target-segment vs Segment's own segment-analytics-python 2.4.0, against the same sandbox.

Both deliver the same N track/identify messages to the sandbox's Segment emulator, each in its own
process, timed from process start to exit; runs alternate and repeat, medians are compared.
"Delivered/s" counts messages the sandbox accepted (deduplicated by messageId), so a message the
library dropped (full queue, failed batch) does not count as throughput. A fault run injects
5xx, 429 and connection resets and counts messages lost (sent - accepted). CPU time per message
is the process's user + system time; peak RSS of target-segment is measured at 100,000 and
1,000,000 messages.

Every process runs with its bytecode cached (a warm-up run first), as after ``pip install``: this
development environment sets PYTHONDONTWRITEBYTECODE and uv does not precompile, which would add
about 1.4 s of compiling to every start-up.

    .venv/bin/python -m bench.bench_target_segment [--quick] [--messages N] [--repeats R]

Writes bench/results/target_segment.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import statistics
import sys
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from clevertap_segment_sandbox import SandboxProcess

from bench import plugin_venvs
from bench.processes import child_environment, run_child

WRITE_KEY = "bench-write-key-0001"
ROOT = Path(__file__).resolve().parent
RESULTS = ROOT / "results" / "target_segment.json"
TARGET_BIN = plugin_venvs.executable("target-segment")
EVENTS = ("Product Viewed", "Added To Cart", "Charged", "App Launched", "Search")
FAULTS = {"fault_5xx": 0.10, "fault_429": 0.05, "fault_reset": 0.02}
LIBRARY_SETTINGS: dict[str, dict[str, t.Any]] = {
    "library_default": {},  # thread=1, upload_size=100, max_queue_size=10000, gzip off
    # The fastest found, in bulk and hourly runs alike. upload_interval is how long a consumer
    # thread waits for a batch to fill: at its 0.5 s default each of the 8 threads sits out
    # half a second once the queue runs dry, which cost a 10,000-call run 0.9 s of its 2.3 s.
    "library_best": {
        "thread": 8,
        "upload_size": 500,
        "upload_interval": 0.01,
        "max_queue_size": 1_000_000,
        "gzip": True,
    },
}


def iter_messages(count: int) -> t.Iterator[dict[str, t.Any]]:
    """Deterministic calls, one at a time: 80 % track, 20 % identify, realistic property counts."""
    base = dt.datetime(2026, 11, 1, tzinfo=dt.UTC)
    for seq in range(count):
        user = f"user-{seq % 5000}"
        at = (base + dt.timedelta(seconds=seq * 7)).isoformat()
        if seq % 5:
            yield {
                "kind": "track",
                "seq": seq,
                "user_id": user,
                "event": EVENTS[seq % len(EVENTS)],
                "ts": at,
                "properties": {
                    "seq": seq,
                    "CT Source": "Mobile",
                    "CT App Version": "5.3.1",
                    "price": round(seq * 0.37 % 500, 2),
                    "currency": "INR",
                    "category": f"cat-{seq % 17}",
                    "in_stock": bool(seq % 3),
                    "session_source": "Direct",
                },
            }
        else:
            yield {
                "kind": "identify",
                "seq": seq,
                "user_id": user,
                "traits": {
                    "seq": seq,
                    "email": f"{user}@example.com",
                    "name": f"Name {seq}",
                    "plan": ("free", "plus", "pro")[seq % 3],
                    "points": seq % 997,
                    "city": "Pune",
                    "Marketing Opt In": bool(seq % 2),
                },
            }


def write_singer_file(calls: t.Iterable[dict[str, t.Any]], path: Path) -> int:
    """The same calls as a tap's output: an events stream and a users stream."""
    obj = {"type": ["object", "null"]}
    string = {"type": ["string", "null"]}
    with path.open("w", encoding="utf-8") as out:
        out.write(
            json.dumps(
                {
                    "type": "SCHEMA",
                    "stream": "events",
                    "key_properties": ["seq"],
                    "schema": {
                        "type": "object",
                        "properties": {
                            "seq": {"type": "integer"},
                            "user_id": string,
                            "event": string,
                            "ts": {"type": ["string", "null"], "format": "date-time"},
                            "properties": obj,
                        },
                    },
                }
            )
            + "\n"
        )
        out.write(
            json.dumps(
                {
                    "type": "SCHEMA",
                    "stream": "users",
                    "key_properties": ["seq"],
                    "schema": {
                        "type": "object",
                        "properties": {
                            "seq": {"type": "integer"},
                            "user_id": string,
                            "traits": obj,
                        },
                    },
                }
            )
            + "\n"
        )
        count = 0
        for call in calls:
            stream = "events" if call["kind"] == "track" else "users"
            values = {k: v for k, v in call.items() if k != "kind"}
            out.write(json.dumps({"type": "RECORD", "stream": stream, "record": values}) + "\n")
            count += 1
        out.write(json.dumps({"type": "STATE", "value": {"done": count}}) + "\n")
    return count


def target_config(segment_url: str, work: Path) -> dict[str, t.Any]:
    """target-segment with its defaults, mapping the two streams."""
    return {
        "write_key": WRITE_KEY,
        "api_url": segment_url,
        "settings_url": segment_url,
        "rejected_records_path": str(work / "rejected.jsonl"),
        "stream_mappings": {
            "events": {
                "type": "track",
                "event": "event",
                "user_id": "user_id",
                "timestamp": "ts",
                "properties": "properties",
            },
            "users": {"type": "identify", "user_id": "user_id", "traits": "traits"},
        },
    }


# -- the library, in its own process ------------------------------------------------------------


def library_worker(calls_path: str, host: str, settings_json: str) -> None:
    """Enqueue every call, flush, shut down; print what the library reported."""
    from segment.analytics import Client

    logging.getLogger("segment").setLevel(logging.CRITICAL)  # "queue is full" once per message
    errors = {"batches": 0, "messages": 0}

    def on_error(_exc: Exception, batch: list[t.Any]) -> None:
        errors["batches"] += 1
        errors["messages"] += len(batch)

    calls = json.loads(Path(calls_path).read_text())
    started = time.perf_counter()
    client = Client(WRITE_KEY, host=host, on_error=on_error, **json.loads(settings_json))
    refused = 0
    for call in calls:
        if call["kind"] == "track":
            ok, _ = client.track(
                user_id=call["user_id"],
                event=call["event"],
                properties=call["properties"],
                timestamp=dt.datetime.fromisoformat(call["ts"]),
            )
        else:
            ok, _ = client.identify(user_id=call["user_id"], traits=call["traits"])
        refused += 0 if ok else 1
    client.flush()
    client.shutdown()
    work = time.perf_counter() - started
    print(
        json.dumps(
            {"refused_by_queue": refused, "failed_batches": errors["batches"], "work_seconds": work}
        )
    )


# -- one timed run -------------------------------------------------------------------------------


def run_library(name: str, calls_path: Path, sandbox: SandboxProcess) -> dict[str, t.Any]:
    command = [
        sys.executable,
        "-m",
        "bench.bench_target_segment",
        "--library-worker",
        str(calls_path),
        sandbox.segment_url,
        json.dumps(LIBRARY_SETTINGS[name]),
    ]
    done = run_child(command, child_environment(calls_path.parent))
    if done.returncode != 0:
        raise RuntimeError(f"{name} failed: {done.stderr[-2000:]}")
    return {
        "seconds": done.seconds,
        "cpu_seconds": done.cpu_seconds,
        "peak_rss_mb": done.peak_rss_mb,
        **json.loads(done.stdout.strip().splitlines()[-1]),
    }


def run_target(singer_path: Path, config_path: Path) -> dict[str, t.Any]:
    command = [TARGET_BIN, "--config", str(config_path), "--input", str(singer_path)]
    done = run_child(command, child_environment(config_path.parent))
    summary: dict[str, t.Any] = next(
        (
            json.loads(line.split("Run summary: ", 1)[1])
            for line in done.stderr.splitlines()
            if "Run summary: " in line
        ),
        {},
    )
    if done.returncode != 0:
        raise RuntimeError(f"target-segment failed: {done.stderr[-2000:]}")
    return {
        "seconds": done.seconds,
        "work_seconds": summary.get("seconds"),
        "cpu_seconds": done.cpu_seconds,
        "peak_rss_mb": done.peak_rss_mb,
        "exit_code": done.returncode,
        "retries": summary.get("retries"),
        "requests": summary.get("requests"),
    }


def timed_run(
    name: str, sandbox: SandboxProcess, files: dict[str, Path], latency_ms: int, faults: bool
) -> dict[str, t.Any]:
    client = sandbox.client
    client.reset()
    client.set_latency(latency_ms, server="segment")
    if faults:
        client.set_faults(
            server="segment",
            fault_5xx=FAULTS["fault_5xx"],
            fault_429=FAULTS["fault_429"],
            fault_reset=FAULTS["fault_reset"],
        )
    if name == "target_segment":
        result = run_target(files["singer"], files["config"])
    else:
        result = run_library(name, files["calls"], sandbox)
    stats = client.segment_stats()
    sent = int(files["count"].read_text())
    result |= {
        "accepted": stats["accepted"],
        "lost": sent - stats["accepted"],
        "duplicates_dropped": stats["duplicates"],
        "delivered_per_second": stats["accepted"] / result["seconds"],
        "steady_delivered_per_second": stats["accepted"] / result["work_seconds"],
        "cpu_us_per_message": round(result["cpu_seconds"] / sent * 1e6, 1),
        "requests_by_status": stats["requests"].get("POST /v1/batch", {}),
        "max_concurrent": stats.get("max_concurrent"),
    }
    return result


def warm_up(sandbox: SandboxProcess, work: Path) -> None:
    """One small run of each program, so that every timed run starts with cached bytecode."""
    small = input_files(work, sandbox, 500)
    run_target(small["singer"], small["config"])
    run_library("library_best", small["calls"], sandbox)


def start_up(work: Path) -> dict[str, float]:
    """A run with no messages: what every run pays before the first one (median of 5)."""
    empty = work / "empty.singer"
    write_singer_file([], empty)
    runs = [run_target(empty, work / "config.json") for _ in range(5)]
    return {
        "seconds": round(statistics.median(r["seconds"] for r in runs), 3),
        "cpu_seconds": round(statistics.median(r["cpu_seconds"] for r in runs), 3),
        "peak_rss_mb": statistics.median(r["peak_rss_mb"] for r in runs),
    }


def peak_memory(sandbox: SandboxProcess, work: Path, volumes: tuple[int, int]) -> dict[str, t.Any]:
    """target-segment's peak RSS at two volumes (0 ms latency, default settings)."""
    sandbox.client.set_latency(0, server="segment")
    points: dict[str, t.Any] = {}
    for count in volumes:
        singer = work / f"memory-{count}.singer"
        write_singer_file(iter_messages(count), singer)
        sandbox.client.reset()
        result = run_target(singer, work / "config.json")
        accepted = sandbox.client.segment_stats()["accepted"]
        if accepted != count:
            raise RuntimeError(f"memory run: {accepted} of {count} messages accepted")
        singer.unlink()
        points[str(count)] = {
            "peak_rss_mb": result["peak_rss_mb"],
            "seconds": round(result["seconds"], 2),
            "cpu_us_per_message": round(result["cpu_seconds"] / count * 1e6, 1),
        }
        print(f"memory at {count} messages: {points[str(count)]}", flush=True)
    small, large = (points[str(v)]["peak_rss_mb"] for v in volumes)
    return {
        "by_messages": points,
        "growth_ratio": round(large / small, 2),
        "volume_ratio": volumes[1] / volumes[0],
    }


@dataclass(frozen=True)
class Case:
    """One row of the comparison: a volume at a latency, and who runs it."""

    key: str
    latency_ms: int
    messages: int
    contenders: tuple[str, ...]


def cases(bulk: int, hourly: int, latencies: list[int]) -> list[Case]:
    """Bulk at every latency against the library's best settings; the hourly run adds its defaults.

    The defaults keep at most 10,000 calls queued and drop the rest, so at bulk volume their rate
    would count mostly dropped calls; they stay as context where the queue holds a whole run.
    """
    best = ("target_segment", "library_best")
    return [
        *(Case(f"{latency}ms", latency, bulk, best) for latency in latencies),
        Case("hourly_100ms", 100, hourly, (*best, "library_default")),
    ]


def input_files(work: Path, sandbox: SandboxProcess, count: int) -> dict[str, Path]:
    """The calls (for the library) and the same calls as Singer input (for the target)."""
    directory = work / str(count)
    directory.mkdir(exist_ok=True)
    files = {
        "calls": directory / "calls.json",
        "singer": directory / "input.singer",
        "config": directory / "config.json",
        "count": directory / "count.txt",
    }
    # Written call by call: a list of 200,000 calls here would raise this process's high-water
    # mark, which every child started from it reports as its own peak RSS (bench/processes.py).
    with files["calls"].open("w", encoding="utf-8") as out:
        out.write("[")
        for n, call in enumerate(iter_messages(count)):
            out.write(("," if n else "") + json.dumps(call))
        out.write("]")
    write_singer_file(iter_messages(count), files["singer"])
    files["config"].write_text(json.dumps(target_config(sandbox.segment_url, directory)))
    files["count"].write_text(str(count))
    return files


def summarize(
    case: Case, results: dict[str, list[dict[str, t.Any]]], startup: dict[str, float]
) -> dict[str, t.Any]:
    """Medians of one case and target-segment's ratios to each library setting it met."""
    medians = {
        name: statistics.median(r["delivered_per_second"] for r in runs)
        for name, runs in results.items()
    }
    steady = {
        name: statistics.median(r["steady_delivered_per_second"] for r in runs)
        for name, runs in results.items()
    }
    summary: dict[str, t.Any] = {
        "latency_ms": case.latency_ms,
        "messages": case.messages,
        "median_delivered_per_second": {k: round(v) for k, v in medians.items()},
        "median_steady_delivered_per_second": {k: round(v) for k, v in steady.items()},
        "median_seconds": {
            name: round(statistics.median(r["seconds"] for r in runs), 3)
            for name, runs in results.items()
        },
        "median_cpu_us_per_message": {
            name: statistics.median(r["cpu_us_per_message"] for r in runs)
            for name, runs in results.items()
        },
        "target_cpu_us_per_message_after_startup": round(
            statistics.median(r["cpu_us_per_message"] for r in results["target_segment"])
            - startup["cpu_seconds"] / case.messages * 1e6,
            1,
        ),
        "max_lost": {name: max(r["lost"] for r in runs) for name, runs in results.items()},
    }
    for peer in ("library_best", "library_default"):
        if peer in results:
            summary[f"ratio_vs_{peer}"] = round(medians["target_segment"] / medians[peer], 2)
            summary[f"steady_ratio_vs_{peer}"] = round(steady["target_segment"] / steady[peer], 2)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer messages and repetitions")
    parser.add_argument(
        "--messages", type=int, help="messages per bulk run (default 200000; quick 20000)"
    )
    parser.add_argument(
        "--hourly-messages", type=int, help="messages per hourly run (default 10000; quick 2000)"
    )
    parser.add_argument("--repeats", type=int, help="runs per contender and case (default 3)")
    parser.add_argument(
        "--latencies", default="100,300,0", help="sandbox latencies in ms of the bulk runs"
    )
    parser.add_argument("--output", type=Path, default=RESULTS)
    parser.add_argument("--library-worker", nargs=3, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.library_worker:
        library_worker(*args.library_worker)
        return
    bulk = args.messages or (20_000 if args.quick else 200_000)
    hourly = args.hourly_messages or (2_000 if args.quick else 10_000)
    repeats = args.repeats or (2 if args.quick else 3)
    plan = cases(bulk, hourly, [int(x) for x in args.latencies.split(",")])
    plugin_venvs.install("target-segment")

    with (
        tempfile.TemporaryDirectory(prefix="bench-segment-") as tmp,
        SandboxProcess(write_key=WRITE_KEY) as sandbox,
    ):
        work = Path(tmp)
        files = {count: input_files(work, sandbox, count) for count in {bulk, hourly}}
        small = files[hourly]["config"].parent  # start-up and memory runs use its config
        warm_up(sandbox, work)
        startup = start_up(small)

        runs: dict[str, dict[str, list[dict[str, t.Any]]]] = {}
        for case in plan:
            for repeat in range(repeats):
                order = case.contenders if repeat % 2 == 0 else case.contenders[::-1]
                for name in order:
                    result = timed_run(name, sandbox, files[case.messages], case.latency_ms, False)
                    runs.setdefault(case.key, {}).setdefault(name, []).append(result)
                    print(
                        f"{case.key:<13} {case.messages:>7} calls  {name:<16} "
                        f"{result['seconds']:7.2f} s  "
                        f"{result['delivered_per_second']:9.0f} delivered/s  "
                        f"(steady {result['steady_delivered_per_second']:6.0f})  "
                        f"lost {result['lost']}",
                        flush=True,
                    )
        # Faults on the first bulk case, every contender: what a user loses when the library's
        # default queue (10,000 calls) overflows is part of the answer.
        fault_case = plan[0]
        fault_runs = {}
        for name in ("target_segment", *LIBRARY_SETTINGS):
            fault_runs[name] = timed_run(
                name, sandbox, files[fault_case.messages], fault_case.latency_ms, True
            )
            print(
                f"faults, {fault_case.latency_ms} ms  {name:<16} lost "
                f"{fault_runs[name]['lost']:>6} of {fault_case.messages}  "
                f"({fault_runs[name]['seconds']:.1f} s)",
                flush=True,
            )

        memory = peak_memory(
            sandbox, small, (5_000, 25_000) if args.quick else (100_000, 1_000_000)
        )

    summary = {case.key: summarize(case, runs[case.key], startup) for case in plan}
    output = {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "messages_per_run": {"bulk": bulk, "hourly": hourly},
        "repeats": repeats,
        "library": "segment-analytics-python 2.4.0",
        "library_settings": LIBRARY_SETTINGS,
        "target_settings": "defaults (max_concurrency 8, batch_size_rows 1000, gzip, validation)",
        "timing": "delivered_per_second: messages the sandbox accepted / wall time of the "
        "contender's process, start to exit (includes interpreter start-up, bytecode cached); "
        "steady: accepted / in-process time (target: its run summary's seconds; library: "
        "Client() to shutdown()); cpu_us_per_message: the process's user + system time",
        "fault_injection": FAULTS,
        "summary": summary,
        "fault_run": {
            "latency_ms": fault_case.latency_ms,
            "messages": fault_case.messages,
            **{
                name: {k: r[k] for k in ("lost", "accepted", "seconds")}
                for name, r in fault_runs.items()
            },
        },
        "start_up": startup,
        "memory": memory,
        "runs": runs,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(output, indent=2) + "\n")
    print(json.dumps(summary, indent=2))
    print(f"fault run lost: { {n: r['lost'] for n, r in fault_runs.items()} }")
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
