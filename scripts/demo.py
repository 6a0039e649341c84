"""`make demo`: run every pipeline of the Meltano project against the local sandbox and summarize.

The sandbox stands in for both vendors (no account needed). Meltano's state lives in .meltano/, so a
second `make demo` is incremental: the tap re-reads only its lookback window.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from api_sandbox import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output" / "demo"
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano"), "--environment=demo"]
JOBS = ("clevertap-to-segment", "segment-to-clevertap", "clevertap-to-warehouse")
STATE_IDS = (
    "demo:tap-clevertap-events-to-target-segment",
    "demo:tap-clevertap-profiles-to-target-segment",
    "demo:tap-segment-archive-to-target-clevertap",
    "demo:tap-clevertap-events-to-target-duckdb",
)


def say(text: str = "") -> None:
    """Print progress immediately (make buffers nothing, but pipes might)."""
    print(text, flush=True)  # noqa: T201


def run(args: list[str], env: dict[str, str], log: Path) -> subprocess.CompletedProcess[str]:
    """Run a command with its output in a log file; show the tail and stop on failure."""
    with log.open("w", encoding="utf-8") as handle:
        result = subprocess.run(
            args, cwd=ROOT, env=env, stdout=handle, stderr=subprocess.STDOUT, text=True, check=False
        )
    if result.returncode != 0:
        tail = log.read_text(encoding="utf-8").splitlines()[-40:]
        say("\n".join(tail))
        say(f"\nFAILED: {' '.join(args[1:])} (exit {result.returncode}); full log: {log}")
        sys.exit(result.returncode)
    return result


def read_json(path: Path) -> dict[str, object]:
    """A target's summary file, or an empty mapping when the target did not write one."""
    try:
        return dict(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return {}


def state_of(state_id: str, env: dict[str, str]) -> dict[str, object]:
    """The Singer state Meltano stored for a pipeline (empty when none)."""
    result = subprocess.run(
        [*MELTANO, "state", "get", state_id],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0 or not result.stdout.strip():
        return {}
    try:
        return dict(json.loads(result.stdout.strip().splitlines()[-1]))
    except ValueError:
        return {}


def main() -> int:
    """Install, start the sandbox, run each job, print the summary, stop the sandbox."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "NO_COLOR": "1"}
    first_run = not any(state_of(state_id, env) for state_id in STATE_IDS)
    say("==> Installing Meltano plugins (cached after the first run)")
    run([str(ROOT / ".venv" / "bin" / "meltano"), "install"], env, OUTPUT / "install.log")

    say("==> Starting the CleverTap + Segment sandbox on loopback")
    with SandboxProcess(clevertap_port=0, segment_port=0) as sandbox:
        env.update(
            {
                "TAP_CLEVERTAP_API_URL": sandbox.clevertap_url,
                "TARGET_CLEVERTAP_API_URL": sandbox.clevertap_url,
                "TARGET_SEGMENT_API_URL": sandbox.segment_url,
                "TARGET_SEGMENT_SETTINGS_URL": sandbox.segment_url,
            }
        )
        for summary in OUTPUT.glob("*-summary.json"):
            summary.unlink()
        timings: dict[str, float] = {}
        for job in JOBS:
            say(f"==> meltano --environment=demo run {job}")
            started = time.monotonic()
            run([*MELTANO, "run", job], env, OUTPUT / f"{job}.log")
            timings[job] = time.monotonic() - started
        clevertap = sandbox.client.clevertap_stats()
        segment = sandbox.client.segment_stats()
        truth = sandbox.client.seed_summary()
        profiles = sandbox.client.clevertap_profiles()

    seg = read_json(OUTPUT / "target-segment-summary.json")
    ct = read_json(OUTPUT / "target-clevertap-summary.json")
    say("")
    say("=" * 78)
    say(f"Demo summary ({'first run: full history' if first_run else 'incremental run'})")
    say("=" * 78)
    say("CleverTap -> Segment  (tap-clevertap | target-segment)")
    say(f"  exportable events in the sandbox account : {truth.get('exportable_events', '?')}")
    say(f"  records read from the export API         : {clevertap.get('export_records_served', '?')}")
    say(f"  messages received by target-segment      : {seg.get('received', '?')}")
    say(f"  delivered / rejected                     : {seg.get('delivered', '?')} / "
        f"{seg.get('rejected', '?')}")
    say(f"  accepted by the Segment sandbox          : {segment.get('accepted', '?')} "
        f"(duplicates dropped: {segment.get('duplicates', 0)})")
    say("Segment archive -> CleverTap  (tap-jsonl | target-clevertap, property_names: segment)")
    say(f"  records received / uploaded / rejected   : {ct.get('received', '?')} / "
        f"{ct.get('delivered', '?')} / {ct.get('rejected', '?')}")
    names = ct.get("property_names") if isinstance(ct.get("property_names"), dict) else {}
    say(f"  property names rewritten                 : {names.get('renamed', '?')} "
        f"(collisions: {names.get('collisions', 0)})")
    for original, normalized in list(names.get("renamed_examples", []))[:3]:
        say(f"      {original!r} -> {normalized!r}")
    say(f"  profiles now in the CleverTap sandbox    : {len(profiles)}")
    say("CleverTap -> warehouse  (tap-clevertap | target-duckdb)")
    say(f"  DuckDB file                              : {OUTPUT / 'warehouse.duckdb'}")
    say("Where to look")
    say(f"  logs of each job                         : {OUTPUT}/<job>.log")
    say(f"  rejected records (with reasons)          : {OUTPUT}/target-*-rejected.jsonl")
    say(f"  run summaries                            : {OUTPUT}/target-*-summary.json")
    say("  bookmarks                                : meltano --environment=demo state list")
    say("  timings                                  : "
        + ", ".join(f"{job} {seconds:.1f}s" for job, seconds in timings.items()))
    say("=" * 78)
    say("Run `make demo` again: the second run is incremental (only the lookback days are re-read).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
