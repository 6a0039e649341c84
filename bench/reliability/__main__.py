"""Run the reliability harness: ``python -m bench.reliability [--quick] [--only ...]``.

Exits 1 when any scenario fails or any secret is found; writes the results file either way.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import sys
import time
import typing as t
from functools import partial
from pathlib import Path

from bench.reliability import (
    bad_input,
    crashes,
    faults,
    meltano_crash,
    report,
    secret_scan,
    window,
)
from bench.reliability.environment import ROOT, Workspace

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from bench.reliability.outcome import Outcome

SCENARIOS = ("faults", "crashes", "window", "meltano", "bad-input")
#: Volumes per mode: (days, events per day) for CleverTap history, messages for the archive.
VOLUMES: dict[str, dict[str, t.Any]] = {
    "quick": {
        "faults_history": (4, 100),
        "faults_messages": 5_000,
        "crash_history": (3, 400),
        "crash_messages": 12_000,
        "window_messages": 12_000,
        "meltano_history": (3, 150),
        "kills": 5,
        "meltano_kills": 2,
    },
    "full": {
        "faults_history": (10, 200),
        "faults_messages": 22_000,
        "crash_history": (10, 1000),
        # 30,000 track events (every tenth message is an identify)
        "crash_messages": 33_334,
        "window_messages": 33_334,
        "meltano_history": (6, 800),
        "kills": 5,
        "meltano_kills": 5,
    },
}
RESULTS = ROOT / "bench" / "results" / "reliability.json"
DOC = ROOT / "docs" / "reliability.md"


def plan(
    workspace: Workspace, volumes: dict[str, t.Any], only: set[str], latency: int, seed: int
) -> list[Callable[[], Outcome | list[Outcome]]]:
    """The scenario calls, in order, for the chosen volumes."""
    common = {"latency_ms": latency, "seed": seed}
    steps: list[Callable[[], Outcome | list[Outcome]]] = []
    if "faults" in only:
        days, per_day = volumes["faults_history"]
        steps += [
            partial(
                faults.clevertap_to_segment, workspace, days=days, events_per_day=per_day, **common
            ),
            partial(
                faults.segment_to_clevertap,
                workspace,
                messages=volumes["faults_messages"],
                **common,
            ),
        ]
    if "crashes" in only:
        days, per_day = volumes["crash_history"]
        steps.append(
            partial(
                crashes.clevertap_to_segment,
                workspace,
                days=days,
                events_per_day=per_day,
                kills=volumes["kills"],
                **common,
            )
        )
        steps += [
            partial(
                crashes.segment_to_clevertap,
                workspace,
                messages=volumes["crash_messages"],
                kills=volumes["kills"],
                uncertain=policy,
                **common,
            )
            for policy in ("reject", "resend")
        ]
    if "window" in only:
        steps.append(
            partial(
                window.in_doubt_window, workspace, messages=volumes["window_messages"], **common
            )
        )
    if "meltano" in only:
        days, per_day = volumes["meltano_history"]
        steps.append(
            partial(
                meltano_crash.clevertap_to_segment,
                workspace,
                days=days,
                events_per_day=per_day,
                kills=volumes["meltano_kills"],
                **common,
            )
        )
    if "bad-input" in only:
        steps.append(partial(bad_input.run_all, workspace))
    return steps


def run(
    *,
    quick: bool,
    only: set[str],
    latency_ms: int,
    seed: int,
    keep: bool = False,
    volumes: dict[str, t.Any] | None = None,
) -> dict[str, t.Any]:
    """Run the chosen scenarios, scan for secrets, and return the results document."""
    started = time.monotonic()
    mode = "quick" if quick else "full"
    workspace = Workspace.create(keep=keep)
    outcomes: list[Outcome] = []
    try:
        for step in plan(workspace, volumes or VOLUMES[mode], only, latency_ms, seed):
            produced = step()
            for outcome in produced if isinstance(produced, list) else [produced]:
                outcomes.append(outcome)
                status = "pass" if outcome.passed else f"FAIL {outcome.failed_checks}"
                print(
                    f"[{outcome.seconds:6.1f} s] {outcome.scenario}: {outcome.pipeline}: {status}",
                    flush=True,
                )
        scan = secret_scan.scan(workspace.outputs)
    finally:
        workspace.close()
    if keep:
        print(f"workspace kept: {workspace.path}")
    passed = all(outcome.passed for outcome in outcomes) and not scan["hits"]
    return {
        "generated_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "mode": mode,
        "seed": seed,
        "latency_ms": latency_ms,
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version()},
        "seconds": round(time.monotonic() - started, 1),
        "passed": passed,
        "scenarios": [outcome.to_dict() for outcome in outcomes],
        "secrets": scan,
    }


def main(argv: list[str] | None = None) -> int:
    """Command line entry point; returns the exit status."""
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="smaller volumes (a few minutes)")
    parser.add_argument(
        "--only", default=",".join(SCENARIOS), help=f"comma-separated subset of {SCENARIOS}"
    )
    parser.add_argument("--latency-ms", type=int, default=100, help="sandbox latency per call")
    parser.add_argument("--seed", type=int, default=20261120, help="seed of data and kill points")
    parser.add_argument("--output", type=Path, help=f"results file (default {RESULTS})")
    parser.add_argument("--update-docs", action="store_true", help=f"rewrite the table in {DOC}")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (logs, files)")
    args = parser.parse_args(argv)
    only = set(args.only.split(","))
    if unknown := only - set(SCENARIOS):
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {SCENARIOS}")
    results = run(
        quick=args.quick, only=only, latency_ms=args.latency_ms, seed=args.seed, keep=args.keep
    )
    output = args.output or RESULTS
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    table = report.markdown(results)
    print(table)
    if args.update_docs:
        report.update_doc(DOC, table)
    print(f"written to {output}; {'PASSED' if results['passed'] else 'FAILED'}")
    return 0 if results["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
