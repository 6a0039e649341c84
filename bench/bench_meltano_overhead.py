"""What `meltano run` costs on top of piping the same plugins into each other by hand.

Both contenders run the same executables (the plugin venvs `meltano install` built in .meltano/)
with the same configuration (the one Meltano resolves from meltano.yml, dumped with
`meltano invoke --dump=config`) and the same catalog, against the same sandbox:

- **meltano**: `meltano --environment=prod run --state-id-suffix=<new> <tap> <target>` with the
  URLs and credentials set through environment variables, as a deployment sets them; the system
  database is SQLite in a temporary directory, ``.meltano/run`` is private (MELTANO_SYS_DIR_ROOT).
  A new state ID per run starts from no bookmark and still uses the cached catalog, as a
  scheduled run does (``--full-refresh`` would run the tap's discovery every time).
- **direct**: `<tap> --config tap.json --catalog catalog.json | <target> --config target.json`.

Two pipelines: ``clevertap-to-segment`` (tap-clevertap events, full record shape → target-segment)
and ``segment-to-clevertap`` (tap-jsonl reading a Segment archive → target-clevertap, segment
preset, a fresh journal per run), each at a bulk volume and as a small job (one event over one day;
300 Segment messages), where start-up is most of the run. Each run is timed from process start to
exit and must deliver every record (checked in the sandbox); for the small job the time to the
first API request the sandbox receives is reported too. Runs alternate, repeat; medians and the
ratio meltano / direct are reported per sandbox latency. One untimed Meltano run per pipeline
first fills Meltano's catalog cache, as on any scheduled run after the first, and every process
reads its bytecode from a cache, as after ``pip install`` (without it, Meltano alone would
compile for about 2 s per run).

    .venv/bin/python bench/bench_meltano_overhead.py [--quick] [--repeats N] [--latencies 100,0]

Writes bench/results/meltano_overhead.json.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import statistics
import subprocess
import tempfile
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from clevertap_segment_sandbox import SandboxProcess

from bench.processes import child_environment
from bench.reliability import segment_archive
from bench.reliability.environment import (
    MELTANO_PLUGINS,
    ensure_meltano_plugins,
    private_meltano_dir,
)

ROOT = Path(__file__).resolve().parent.parent
MELTANO = str(ROOT / ".venv" / "bin" / "meltano")
RESULTS = ROOT / "bench" / "results" / "meltano_overhead.json"
TODAY = dt.date(2026, 11, 20)
TIMEZONE = "Asia/Kolkata"
ENVIRONMENT = "prod"
#: The small job: Segment messages in its archive (its CleverTap side is one event over one day).
SMALL_JOB_MESSAGES = 300


@dataclass(frozen=True)
class Pipeline:
    """One tap/target pair as Meltano names it, and where `meltano install` put them."""

    name: str
    tap: str
    target: str
    tap_executable: Path
    target_executable: Path


PIPELINES = (
    Pipeline(
        "clevertap-to-segment",
        "tap-clevertap-events",
        "target-segment",
        MELTANO_PLUGINS["tap-clevertap"],
        MELTANO_PLUGINS["target-segment"],
    ),
    Pipeline(
        "segment-to-clevertap",
        "tap-segment-archive",
        "target-clevertap",
        MELTANO_PLUGINS["tap-segment-archive"],
        MELTANO_PLUGINS["target-clevertap"],
    ),
)


class Project:
    """The Meltano project pointed at one sandbox, with its own system database and run dir.

    ``base_env`` is the environment of every process (``bench.processes.child_environment``).
    """

    def __init__(
        self,
        sandbox: SandboxProcess,
        work: Path,
        events: list[str],
        days: int,
        base_env: dict[str, str],
    ) -> None:
        self.sandbox = sandbox
        self.work = work
        self.base_env = base_env
        self.runs = 0
        work.mkdir(parents=True, exist_ok=True)
        settings = sandbox.settings
        self.env = {
            **base_env,
            "MELTANO_DATABASE_URI": f"sqlite:///{work / 'meltano.db'}",
            "MELTANO_SYS_DIR_ROOT": str(private_meltano_dir(work / "meltano-sys")),
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "NO_COLOR": "1",
            "TAP_CLEVERTAP_ACCOUNT_ID": settings.account_id,
            "TAP_CLEVERTAP_PASSCODE": settings.passcode,
            "TAP_CLEVERTAP_API_URL": sandbox.clevertap_url,
            "TAP_CLEVERTAP_TIMEZONE": TIMEZONE,
            "TAP_CLEVERTAP_START_DATE": (TODAY - dt.timedelta(days=days)).isoformat(),
            "TAP_CLEVERTAP_EVENT_NAMES": json.dumps(events),
            "TAP_SEGMENT_ARCHIVE_PATH": str(work / "archive.jsonl"),
            "TARGET_SEGMENT_WRITE_KEY": settings.write_key,
            "TARGET_SEGMENT_API_URL": sandbox.segment_url,
            "TARGET_SEGMENT_SETTINGS_URL": sandbox.segment_url,
            "TARGET_SEGMENT_REJECTED_RECORDS_PATH": str(work / "segment-rejected.jsonl"),
            "TARGET_CLEVERTAP_ACCOUNT_ID": settings.account_id,
            "TARGET_CLEVERTAP_PASSCODE": settings.passcode,
            "TARGET_CLEVERTAP_API_URL": sandbox.clevertap_url,
            "TARGET_CLEVERTAP_REJECTED_RECORDS_PATH": str(work / "clevertap-rejected.jsonl"),
        }

    def meltano(self, *args: str, journal: Path | None = None) -> subprocess.CompletedProcess[str]:
        """One meltano command in the project; raises with the log tail when it fails."""
        env = {**self.env, "TARGET_CLEVERTAP_JOURNAL_PATH": str(journal or self.work / "j.db")}
        done = subprocess.run(
            [MELTANO, f"--environment={ENVIRONMENT}", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            check=False,
            timeout=3600,
        )
        if done.returncode != 0:
            msg = f"meltano {' '.join(args)} exited {done.returncode}:\n{done.stderr[-3000:]}"
            raise RuntimeError(msg)
        return done

    def run_args(self, pipeline: Pipeline) -> list[str]:
        """``run`` of the pipeline under a new state ID: no bookmark to start from."""
        self.runs += 1
        return ["run", f"--state-id-suffix=bench-{self.runs}", pipeline.tap, pipeline.target]

    def dump(self, plugin: str, what: str) -> Path:
        """The config or catalog Meltano would hand the plugin, as a file for the direct pipe."""
        text = self.meltano("invoke", f"--dump={what}", plugin).stdout
        path = self.work / f"{plugin}.{what}.json"
        path.write_text(text[text.index("{") :])
        return path


def timed(commands: list[list[str]], env: dict[str, str]) -> tuple[float, float]:
    """Seconds from the first process's start to the last one's exit, and that start's epoch.

    Fails loudly when a process does.
    """
    started_at = time.time()
    started = time.perf_counter()
    if len(commands) == 1:
        done = subprocess.run(commands[0], cwd=ROOT, env=env, capture_output=True, check=False)
        codes, errors = [done.returncode], done.stderr
    else:
        tap = subprocess.Popen(
            commands[0], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env
        )
        target = subprocess.run(
            commands[1], stdin=tap.stdout, capture_output=True, check=False, env=env
        )
        if tap.stdout is not None:
            tap.stdout.close()
        codes, errors = [tap.wait(), target.returncode], target.stderr
    seconds = time.perf_counter() - started
    if any(codes):
        msg = f"{commands[-1][0]} exited {codes}:\n{errors.decode(errors='replace')[-3000:]}"
        raise RuntimeError(msg)
    return seconds, started_at


def first_request_after(sandbox: SandboxProcess, started_at: float) -> float:
    """Seconds from ``started_at`` to the first API request the sandbox logged (either vendor).

    The request logs keep the latest requests only: a small job's first one is still there.
    """
    firsts: list[float] = []
    for entries in (
        sandbox.client.clevertap_requests(limit=1),
        sandbox.client.segment_requests(limit=1),
    ):
        if entries and entries[0]["seq"] != 1:
            msg = "the sandbox's request log no longer holds the run's first request"
            raise RuntimeError(msg)
        firsts += [float(entry["time"]) for entry in entries]
    if not firsts:
        msg = "the run sent no API request"
        raise RuntimeError(msg)
    return round(min(firsts) - started_at, 3)


def delivered(sandbox: SandboxProcess, pipeline: Pipeline) -> int:
    """Records the sandbox holds for this pipeline's destination."""
    if pipeline.target == "target-segment":
        return int(sandbox.client.segment_stats()["accepted"])
    uploads = sandbox.client.clevertap_stats()["uploads"]
    return int(uploads["distinct_event_fingerprints"]) + int(uploads["profiles_stored"])


def bench_pipeline(
    project: Project, pipeline: Pipeline, expected: int, repeats: int, *, first_request: bool
) -> dict[str, t.Any]:
    """Alternate meltano and direct runs of one pipeline; medians and the ratio.

    With ``first_request`` (small jobs), also the time from start to the first API request.
    """
    project.sandbox.client.reset()
    project.meltano(*project.run_args(pipeline))  # warms the caches
    tap_config = project.dump(pipeline.tap, "config")
    catalog = project.dump(pipeline.tap, "catalog")
    target_config = project.dump(pipeline.target, "config")
    target_values = json.loads(target_config.read_text())
    runs: dict[str, list[float]] = {"meltano": [], "direct": []}
    firsts: dict[str, list[float]] = {"meltano": [], "direct": []}
    for repeat in range(repeats):
        order = ["meltano", "direct"] if repeat % 2 == 0 else ["direct", "meltano"]
        for label in order:
            project.sandbox.client.reset()
            journal = project.work / f"journal-{label}-{repeat}.sqlite"
            if label == "meltano":
                env = {**project.env, "TARGET_CLEVERTAP_JOURNAL_PATH": str(journal)}
                argv = [MELTANO, f"--environment={ENVIRONMENT}", *project.run_args(pipeline)]
                seconds, started_at = timed([argv], env)
            else:
                if "journal_path" in target_values:
                    target_config.write_text(
                        json.dumps({**target_values, "journal_path": str(journal)})
                    )
                seconds, started_at = timed(
                    [
                        [
                            str(pipeline.tap_executable),
                            "--config",
                            str(tap_config),
                            "--catalog",
                            str(catalog),
                        ],
                        [str(pipeline.target_executable), "--config", str(target_config)],
                    ],
                    project.base_env,
                )
            got = delivered(project.sandbox, pipeline)
            if got != expected:
                msg = f"{pipeline.name} {label}: {got} records delivered of {expected}"
                raise RuntimeError(msg)
            runs[label].append(round(seconds, 3))
            note = ""
            if first_request:
                firsts[label].append(first_request_after(project.sandbox, started_at))
                note = f", first request after {firsts[label][-1]} s"
            print(
                f"{pipeline.name:<22} {label:<8} {seconds:7.2f} s  ({expected:,} records{note})",
                flush=True,
            )
    medians = {label: statistics.median(values) for label, values in runs.items()}
    result = {
        "records": expected,
        "seconds": runs,
        "median_seconds": medians,
        "records_per_second": {k: round(expected / v) for k, v in medians.items()},
        "ratio_meltano_over_direct": round(medians["meltano"] / medians["direct"], 2),
        "added_seconds": round(medians["meltano"] - medians["direct"], 2),
    }
    if first_request:
        first = {label: statistics.median(values) for label, values in firsts.items()}
        result["first_request_seconds"] = firsts
        result["median_first_request_seconds"] = first
        result["added_before_first_request_seconds"] = round(first["meltano"] - first["direct"], 2)
    return result


def bench_latency(
    latency: int, history: tuple[int, int], messages: int, repeats: int
) -> dict[str, t.Any]:
    """Both pipelines on one sandbox at one latency: the bulk volume, then the small job."""
    days, per_day = history
    with (
        tempfile.TemporaryDirectory(prefix="bench-meltano-") as tmp,
        SandboxProcess(
            today=TODAY.isoformat(),
            days=days,
            events_per_day=per_day,
            profiles=5000,
            latency_ms=latency,
            startup_timeout=60,
        ) as sandbox,
    ):
        work = Path(tmp)
        base_env = child_environment(work)  # one bytecode cache for every run
        summary = sandbox.client.seed_summary(event_profiles=False)
        skip = set(summary["not_exportable_events"])
        events = sorted(n for n, i in summary["events"].items() if i["total"] and n not in skip)
        project = Project(sandbox, work, events, days, base_env)
        expected = {
            "clevertap-to-segment": sum(summary["events"][n]["total"] for n in events),
            "segment-to-clevertap": _archive(project, messages),
        }
        # The small job: the last complete day of the event with the fewest records that day.
        day = (TODAY - dt.timedelta(days=1)).strftime("%Y%m%d")
        on_day = {n: summary["events"][n]["days"].get(day, 0) for n in events}
        event = min((n for n in events if on_day[n]), key=lambda n: (on_day[n], n))
        small = Project(sandbox, work / "small-job", [event], 1, base_env)
        small_expected = {
            "clevertap-to-segment": on_day[event],
            "segment-to-clevertap": _archive(small, SMALL_JOB_MESSAGES),
        }
        return {
            "latency_ms": latency,
            "pipelines": {
                p.name: bench_pipeline(project, p, expected[p.name], repeats, first_request=False)
                for p in PIPELINES
            },
            "small_job": {
                p.name: bench_pipeline(
                    small, p, small_expected[p.name], repeats, first_request=True
                )
                for p in PIPELINES
            },
        }


def _archive(project: Project, messages: int) -> int:
    """Write the project's Segment archive; the records target-clevertap should deliver."""
    tracks = segment_archive.write_archive(project.work / "archive.jsonl", messages)["track"]
    identified = len({seq % 5000 for seq in range(0, messages, segment_archive.IDENTIFY_EVERY)})
    return tracks + identified


def main() -> None:
    """Run every latency and write the results file."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small volumes, 2 repetitions")
    parser.add_argument("--repeats", type=int)
    parser.add_argument("--latencies", default="100,0", help="sandbox latencies in ms")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    repeats = args.repeats or (2 if args.quick else 5)
    history = (3, 150) if args.quick else (7, 300)
    messages = 10_000 if args.quick else 50_000
    ensure_meltano_plugins()
    started = time.monotonic()
    latencies = [
        bench_latency(int(latency), history, messages, repeats)
        for latency in args.latencies.split(",")
    ]
    report = {
        "benchmark": "meltano run vs piping the same plugins directly",
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "quick": args.quick,
        "repeats": repeats,
        "volumes": {
            "clevertap_history_days_x_events_per_day": list(history),
            "segment_archive_messages": messages,
        },
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.monotonic() - started, 1),
        "latencies": latencies,
    }
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(report, indent=2) + "\n")
    for entry in latencies:
        for name, result in entry["pipelines"].items():
            print(
                f"{entry['latency_ms']:>3} ms {name}: meltano/direct "
                f"x{result['ratio_meltano_over_direct']} (+{result['added_seconds']} s)"
            )
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
