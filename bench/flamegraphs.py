"""Flame graphs of the three plugins' record paths, sampled with py-spy.

Each plugin runs one bulk job against the sandbox without latency, so the run is CPU-bound, with
its bytecode cached (a warm-up run first). py-spy samples the thread holding the GIL 250 times a
second (``--gil --threads``): in a Python process that thread is the serial part that bounds the
rate, so the graph shows where each record's CPU goes and which thread spends it. Writes one SVG
per plugin to bench/results/flamegraphs/ and, to ``--output``, the share of samples per thread and
the functions with the most samples of their own, in µs per record.

    .venv/bin/python -m bench.flamegraphs [--quick]
"""

from __future__ import annotations

import argparse
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

from clevertap_segment_sandbox import SandboxProcess

from bench import bench_tap_events, bench_target_clevertap, bench_target_segment, plugin_venvs
from bench.processes import child_environment

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "flamegraphs.json"
GRAPHS = ROOT / "bench" / "results" / "flamegraphs"
RATE = 250
TOP = 15
#: Records per plugin (full, quick).
VOLUMES = {
    "target-clevertap": (100_000, 20_000),
    "target-segment": (50_000, 10_000),
    "tap-clevertap": (21, 4),  # days of the tap benchmark's full-shape events
}


def py_spy() -> str:
    """The py-spy executable of this environment (a dev dependency)."""
    found = shutil.which("py-spy", path=str(Path(sys.executable).parent))
    if found is None:
        msg = "py-spy is not installed in this environment; run `make env`"
        raise RuntimeError(msg)
    return found


def record(argv: list[str], work: Path, out: Path, fmt: str) -> None:
    """Run ``argv`` under py-spy, sampling the GIL holder; its output goes nowhere."""
    command = [py_spy(), "record", "--gil", "--threads", "--rate", str(RATE), "--format", fmt]
    done = subprocess.run(
        [*command, "-o", str(out), "--", *argv],
        env=child_environment(work),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        check=False,
    )
    if done.returncode != 0 or not out.exists():
        tail = done.stderr.decode(errors="replace")[-1500:]
        msg = f"py-spy failed on {argv[0]} (exit {done.returncode}): {tail}"
        raise RuntimeError(msg)


def summarize(raw: Path, records: int) -> dict[str, t.Any]:
    """Samples per thread and the functions with most samples of their own, per record."""
    threads: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        frames = stack.split(";")
        samples = int(count)
        total += samples
        thread = frames[0].split(": ", 1)[-1]
        threads["main" if thread == "MainThread" else "other threads"] += samples
        own[frames[-1].rsplit(":", 1)[0] + ")" if ":" in frames[-1] else frames[-1]] += samples

    def us(samples: int) -> float:
        return round(samples / RATE / records * 1e6, 2)

    return {
        "records": records,
        "samples": total,
        "gil_us_per_record": us(total),
        "gil_us_per_record_by_thread": {name: us(n) for name, n in threads.most_common()},
        "top_own_us_per_record": {name: us(n) for name, n in own.most_common(TOP)},
    }


def profile(
    name: str,
    command: t.Callable[[], list[str]],
    records: int,
    work: Path,
    reset: t.Callable[[], None],
) -> dict[str, t.Any]:
    """Warm the bytecode cache, then record the raw stacks and the SVG (two profiled runs).

    ``command()`` gives each run its command line (a fresh journal for target-clevertap);
    ``reset()`` empties the sandbox between runs.
    """
    subprocess.run(command(), env=child_environment(work), capture_output=True, check=True)
    GRAPHS.mkdir(parents=True, exist_ok=True)
    raw = work / f"{name}.txt"
    svg = GRAPHS / f"{name}.svg"
    reset()
    record(command(), work, raw, "raw")
    reset()
    record(command(), work, svg, "flamegraph")
    scrub_paths(svg, work)
    return {**summarize(raw, records), "svg": str(svg.relative_to(ROOT))}


def scrub_paths(svg: Path, work: Path) -> None:
    """The SVG's title holds the command line: keep this machine's paths out of the repository."""
    text = svg.read_text()
    for prefix in (f"{Path(py_spy()).parent}/", f"{work}/", f"{ROOT}/"):
        text = text.replace(prefix, "")
    svg.write_text(text)


def target_clevertap(count: int, work: Path) -> dict[str, t.Any]:
    """Segment track messages through the segment preset, 5 lanes (the benchmark's setup)."""
    singer, _uploads = bench_target_clevertap.write_inputs(work, count)
    with SandboxProcess(latency_ms=0) as sandbox:

        def command() -> list[str]:
            return bench_target_clevertap.target_command(sandbox, work, singer, 5)

        return profile("target-clevertap", command, count, work, sandbox.client.reset)


def target_segment(count: int, work: Path) -> dict[str, t.Any]:
    """Track and identify calls from two mapped streams, the target's defaults."""
    singer = work / "segment.singer"
    written = bench_target_segment.write_singer_file(
        bench_target_segment.iter_messages(count), singer
    )
    config = work / "segment-config.json"
    with SandboxProcess(write_key=bench_target_segment.WRITE_KEY) as sandbox:
        config.write_text(json.dumps(bench_target_segment.target_config(sandbox.segment_url, work)))
        argv = [bench_target_segment.TARGET_BIN, "--config", str(config), "--input", str(singer)]
        return profile("target-segment", lambda: argv, written, work, sandbox.client.reset)


def tap_clevertap(days: int, work: Path) -> dict[str, t.Any]:
    """The events stream over ``days`` days of full-shape records (the tap benchmark's data)."""
    with bench_tap_events.volume_sandbox(300, 5000, days, 0) as sandbox:
        summary = sandbox.client.seed_summary()
        names = sorted(bench_tap_events.exportable_names(summary))
        _config, argv = bench_tap_events.tap_command(sandbox, names, days, work)
        records = bench_tap_events.count_tap_records(argv)
        return profile("tap-clevertap", lambda: argv, records, work, lambda: None)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller volumes")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    pick = 1 if args.quick else 0
    plugin_venvs.install("target-clevertap", "target-segment", "tap-clevertap")
    plugins = {
        "target-clevertap": target_clevertap,
        "target-segment": target_segment,
        "tap-clevertap": tap_clevertap,
    }
    results: dict[str, t.Any] = {
        "tool": f"py-spy record --gil --threads --rate {RATE}",
        "latency_ms": 0,
        "quick": args.quick,
        "plugins": {},
    }
    with tempfile.TemporaryDirectory(prefix="bench-flame-") as tmp:
        for name, run in plugins.items():
            work = Path(tmp) / name
            work.mkdir()
            results["plugins"][name] = run(VOLUMES[name][pick], work)
            print(name, json.dumps(results["plugins"][name]), flush=True)
    args.output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
