"""Run every benchmark and the reliability harness, then write summary.json, charts and docs.

    .venv/bin/python -m bench.run_all [--quick] [--only NAME,...] [--latencies 100,0]
    make bench BENCH_ARGS=--quick

Each benchmark is its own script (run here as a subprocess with its flags; each starts the
sandboxes it needs) and writes ``<name>.json``. This command collects them into
``summary.json`` with the headline ratios, renders one chart per benchmark and, in full mode,
rewrites the generated sections of docs/benchmarks.md and docs/reliability.md.

Full mode writes to bench/results/ and docs/img/ (the numbers the docs quote). Quick mode
writes to bench/results/quick/ (charts in bench/results/quick/img/) and leaves the docs alone,
so a quick check never overwrites the published numbers.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import subprocess
import sys
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

from clevertap_segment_sandbox import SandboxProcess

from bench import charts, headlines
from bench.reliability import report

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
IMAGES = ROOT / "docs" / "img"
BENCH_DOC = ROOT / "docs" / "benchmarks.md"
README = ROOT / "README.md"
RELIABILITY_DOC = ROOT / "docs" / "reliability.md"
PYTHON = sys.executable


@dataclass(frozen=True)
class Benchmark:
    """One script: how to run it, and whether it accepts ``--output``."""

    name: str
    command: list[str]
    takes_output: bool = True
    takes_latencies: bool = False
    #: In quick mode, only the first latency (for the slowest scripts).
    quick_one_latency: bool = False
    #: Where the script writes when it has no ``--output`` option.
    fixed_output: Path | None = None


BENCHMARKS = (
    Benchmark("normalization", [PYTHON, "bench/bench_normalization.py"]),
    Benchmark(
        "sandbox_capacity",
        [PYTHON, "bench/bench_sandbox_capacity.py"],
        takes_output=False,
        fixed_output=RESULTS / "sandbox_capacity.json",
    ),
    Benchmark(
        "tap_events",
        [PYTHON, "-m", "bench.bench_tap_events"],
        takes_output=False,
        fixed_output=RESULTS / "tap_events.json",
    ),
    Benchmark("target_segment", [PYTHON, "-m", "bench.bench_target_segment"]),
    Benchmark("target_clevertap", [PYTHON, "-m", "bench.bench_target_clevertap"]),
    Benchmark(
        "meltano_overhead",
        [PYTHON, "-m", "bench.bench_meltano_overhead"],
        takes_latencies=True,
        quick_one_latency=True,
    ),
    Benchmark("memory", [PYTHON, "-m", "bench.bench_memory"]),
    Benchmark("audiences", [PYTHON, "-m", "bench.bench_audiences"]),
    Benchmark("reliability", [PYTHON, "-m", "bench.reliability"]),
    Benchmark("flamegraphs", [PYTHON, "-m", "bench.flamegraphs"]),
)


def preflight() -> dict[str, t.Any]:
    """Fail early if the sandbox cannot start; note the machine's load (numbers depend on it)."""
    with SandboxProcess(startup_timeout=60) as sandbox:
        healthy = sandbox.client.health("clevertap")["status"] == "ok"
    if not healthy:
        msg = "the api-sandbox started but does not answer its health check"
        raise RuntimeError(msg)
    return {
        "cpus": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


def run_benchmark(
    bench: Benchmark, *, quick: bool, latencies: str, results: Path, logs: Path
) -> tuple[float, str | None]:
    """Run one script; returns (seconds, error or None). Its output goes to a log file."""
    command = [*bench.command, *(["--quick"] if quick else [])]
    target = results / f"{bench.name}.json"
    if bench.takes_output:
        command += ["--output", str(target)]
    if bench.takes_latencies:
        one = quick and bench.quick_one_latency
        command += ["--latencies", latencies.split(",", maxsplit=1)[0] if one else latencies]
    backup = _backup(bench, results)
    started = time.monotonic()
    log = logs / f"{bench.name}.log"
    with log.open("w") as out:
        print(f"== {bench.name}: {' '.join(command[1:])}", flush=True)
        done = subprocess.run(command, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, check=False)
    seconds = time.monotonic() - started
    if bench.fixed_output is not None and bench.fixed_output != target:
        _collect(bench.fixed_output, target, backup)
    error = None
    if done.returncode != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        error = f"exit {done.returncode}; log {log}:\n{tail}"
    print(f"   {bench.name}: {'ok' if error is None else 'FAILED'} in {seconds / 60:.1f} min")
    return seconds, error


def _backup(bench: Benchmark, results: Path) -> Path | None:
    """Keep the published file of a script without --output while a quick run overwrites it."""
    fixed = bench.fixed_output
    if fixed is None or fixed == results / f"{bench.name}.json" or not fixed.exists():
        return None
    copy = results / f".{bench.name}.published.json"
    shutil.copy2(fixed, copy)
    return copy


def _collect(fixed: Path, target: Path, backup: Path | None) -> None:
    """Move what the script wrote to the results directory; put the published file back."""
    if fixed.exists():
        shutil.move(fixed, target)
    if backup is not None:
        shutil.move(backup, fixed)


def _previous(results: Path) -> dict[str, t.Any]:
    previous = results / "summary.json"
    return dict(json.loads(previous.read_text())) if previous.exists() else {}


def _previous_durations(results: Path) -> dict[str, float]:
    return dict(_previous(results).get("durations_seconds", {}))


def _previous_machine(results: Path) -> dict[str, t.Any]:
    return dict(_previous(results).get("machine") or preflight())


def _in_repository(where: str) -> str:
    """A chart's path relative to the repository (it is committed: no machine's paths in it)."""
    path = Path(where)
    return (
        str(path.relative_to(ROOT)) if path.is_absolute() and path.is_relative_to(ROOT) else where
    )


def _untracked(directory: Path) -> None:
    """Keep logs and quick results out of git: they are scratch, the full results are not."""
    marker = directory / ".gitignore"
    if not marker.exists():
        marker.write_text("*\n")


def render_docs(summary: dict[str, t.Any], images: Path) -> None:
    """Rewrite the generated sections of README.md, docs/benchmarks.md and docs/reliability.md."""
    table = headlines.markdown(summary, images.relative_to(BENCH_DOC.parent))
    report.update_doc(BENCH_DOC, table, headlines.BEGIN, headlines.END)
    readme = headlines.readme_markdown(summary, images.relative_to(README.parent))
    report.update_doc(README, readme, headlines.README_BEGIN, headlines.README_END)
    if "reliability" in summary["results"]:
        report.update_doc(RELIABILITY_DOC, report.markdown(summary["results"]["reliability"]))


def main() -> int:
    """Run everything asked for; exit 1 if any benchmark failed (the rest still run)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="small volumes: a few minutes")
    parser.add_argument("--only", help=f"comma-separated subset of {[b.name for b in BENCHMARKS]}")
    parser.add_argument(
        "--latencies", default="100,0", help="sandbox latencies in ms (meltano_overhead)"
    )
    parser.add_argument("--results", type=Path, help="results directory")
    parser.add_argument("--images", type=Path, help="charts directory")
    parser.add_argument(
        "--docs",
        action=argparse.BooleanOptionalAction,
        help="rewrite the docs (default: full mode)",
    )
    parser.add_argument(
        "--render-only",
        action="store_true",
        help="run nothing: rebuild summary, charts and docs from the results already there",
    )
    args = parser.parse_args()
    results = args.results or (RESULTS / "quick" if args.quick else RESULTS)
    images = args.images or (results / "img" if args.quick else IMAGES)
    update_docs = args.docs if args.docs is not None else not args.quick
    chosen = set(args.only.split(",")) if args.only else {b.name for b in BENCHMARKS}
    if unknown := chosen - {b.name for b in BENCHMARKS}:
        parser.error(f"unknown benchmarks {sorted(unknown)}")
    logs = results / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    _untracked(logs)
    if args.quick and args.results is None:
        _untracked(results)
    started = time.monotonic()
    machine = _previous_machine(results) if args.render_only else preflight()
    durations: dict[str, float] = {}
    failures: dict[str, str] = {}
    for bench in BENCHMARKS:
        if bench.name in chosen and not args.render_only:
            seconds, error = run_benchmark(
                bench, quick=args.quick, latencies=args.latencies, results=results, logs=logs
            )
            durations[bench.name] = round(seconds, 1)
            if error is not None:
                failures[bench.name] = error
    partial = bool(args.only) or args.render_only
    if partial:  # keep the durations of what did not run from the last summary
        durations = {**_previous_durations(results), **durations}
    collected = charts.load_results(results)
    summary: dict[str, t.Any] = {
        "generated_at": _previous(results).get("generated_at")
        if args.render_only
        else dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": "quick" if args.quick else "full",
        "command": _previous(results).get("command", "python -m bench.run_all")
        if args.render_only
        else " ".join(["python -m bench.run_all", *sys.argv[1:]]),
        "machine": machine,
        "latencies_ms": [int(x) for x in args.latencies.split(",")],
        "durations_seconds": durations,
        "total_seconds": round(sum(durations.values()), 1)
        if partial
        else round(time.monotonic() - started, 1),
        "failures": failures,
        "ran": _previous(results).get("ran", sorted(chosen))
        if args.render_only
        else [b.name for b in BENCHMARKS if b.name in chosen],
        "all_benchmarks": [b.name for b in BENCHMARKS],
        "headlines": headlines.extract(collected),
        "charts": {
            name: _in_repository(where)
            for name, where in charts.render_all(collected, images).items()
        },
        "results": collected,
    }
    (results / "summary.json").write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    if update_docs:
        render_docs(summary, images)
    print(headlines.markdown(summary, images))
    print(
        f"\nsummary: {results / 'summary.json'}; charts: {images}; "
        f"{summary['total_seconds'] / 60:.1f} min"
    )
    for name, error in failures.items():
        print(f"FAILED {name}: {error}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
