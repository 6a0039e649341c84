"""`make demo`: run every pipeline of the Meltano project against the local sandbox and summarize.

The sandbox stands in for both vendors (no account needed). Meltano's state lives in .meltano/, so a
second `make demo` is incremental: the tap re-reads only its lookback window.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import textwrap
import time
import typing as t
from pathlib import Path

from clevertap_segment_sandbox import SandboxProcess

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / "output" / "demo"
MELTANO = [str(ROOT / ".venv" / "bin" / "meltano"), "--environment=demo"]
# The jobs of meltano.yml, task by task so each target's run summary can be read separately.
PIPELINES = (
    (
        "clevertap-to-segment",
        ("tap-clevertap-events target-segment", "tap-clevertap-profiles target-segment"),
    ),
    ("segment-to-clevertap", ("tap-segment-archive target-clevertap",)),
    ("clevertap-to-warehouse", ("tap-clevertap-events target-duckdb",)),
    ("clevertap-reports-to-warehouse", ("tap-clevertap-reports target-duckdb",)),
)
STATE_IDS = (
    "demo:tap-clevertap-events-to-target-segment",
    "demo:tap-clevertap-profiles-to-target-segment",
    "demo:tap-segment-archive-to-target-clevertap",
    "demo:tap-clevertap-events-to-target-duckdb",
    "demo:tap-clevertap-reports-to-target-duckdb",
    "demo:tap-clevertap-audiences-to-target-segment",
)


def say(text: str = "") -> None:
    """Print progress immediately (make buffers nothing, but pipes might)."""
    print(text, flush=True)


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


def read_json(path: Path) -> dict[str, t.Any]:
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


def duckdb_row_counts(path: Path) -> dict[str, int]:
    """Rows per table of the warehouse, read with target-duckdb's own duckdb module."""
    python = ROOT / ".meltano" / "loaders" / "target-duckdb" / "venv" / "bin" / "python"
    query = (
        "import duckdb, json, sys; con = duckdb.connect(sys.argv[1], read_only=True); "
        'tables = [r[0] for r in con.execute("select table_name from information_schema.tables '
        "where table_schema = 'clevertap' order by 1\").fetchall()]; "
        "print(json.dumps({t: con.execute(f'select count(*) from clevertap.{t}').fetchone()[0] "
        "for t in tables}))"
    )
    result = subprocess.run(
        [str(python), "-c", query, str(path)], capture_output=True, text=True, check=False
    )
    return dict(json.loads(result.stdout)) if result.returncode == 0 else {}


def run_audiences(client: t.Any, env: dict[str, str]) -> list[str]:
    """The audiences job twice, a day apart on the sandbox's clock; the lines of its summary.

    Runs last: it moves the sandbox's "today" forward so the audiences' windows move and people
    enter and leave them.
    """
    lines = ["CleverTap audiences -> Segment   (job clevertap-audiences-to-segment)"]
    for label in ("today", "a day later"):
        seen = {m["messageId"] for m in client.segment_messages()}
        say(f"==> meltano --environment=demo run clevertap-audiences-to-segment   ({label})")
        run([*MELTANO, "run", "clevertap-audiences-to-segment"], env, OUTPUT / "audiences.log")
        calls: dict[str, dict[str, int]] = {}
        for message in client.segment_messages():
            if message["messageId"] not in seen and message["type"] == "track":
                key = message["properties"].get("audience_key", "?")
                counts = calls.setdefault(key, {})
                counts[message["event"]] = counts.get(message["event"], 0) + 1
        for key, counts in sorted(calls.items()):
            entered, exited = counts.get("Audience Entered", 0), counts.get("Audience Exited", 0)
            lines.append(f"  {label:<12} {key:<28}: {entered} entered, {exited} exited")
        if not calls:
            lines.append(f"  {label:<12} no changes")
        today = dt.date.fromisoformat(client.config()["today"])
        client.set_today(today + dt.timedelta(days=1))
    lines.append("  (each change: an identify with the audience's trait, and a track)")
    return lines


def where(entry: dict[str, t.Any]) -> str:
    """Where a name decision of the summary applies: the profile or one event."""
    return "profile" if entry.get("scope") == "profile" else f"event {entry.get('event')!r}"


def say_account_names(names: dict[str, t.Any], shown: int = 4) -> None:
    """What match_account decided: names matched to the account's spelling, new names, splits."""
    if not names:
        return
    say(
        f"  names matched to the account's spelling    : {names.get('matched', 0)} "
        f"(+{names.get('already_account_spelling', 0)} already spelled so)"
    )
    for entry in names.get("matched_sample", [])[: shown + 2]:
        say(f"      {entry['name']!r} -> {entry['written']!r}   ({where(entry)})")
    say(
        f"  new names, written with convention '{names.get('new_names_convention')}': "
        f"{names.get('new', 0)}"
    )
    say(
        textwrap.fill(
            str(names.get("new_names_convention_reason", "")),
            78,
            initial_indent="      (",
            subsequent_indent="       ",
        )
        + ")"
    )
    say(
        f"  names the account already holds split      : {names.get('split', 0)} met "
        f"({names.get('account_split_names', 0)} in the account), "
        f"split_property_names {names.get('split_choice')}"
    )
    for entry in names.get("split_sample", [])[:shown]:
        spellings = " / ".join(repr(s) for s in entry["spellings"])
        say(f"      {entry['name']!r} -> {entry['written']!r}   ({where(entry)} has {spellings})")


def main() -> int:
    """Install, start the sandbox, run each pipeline, print the summary, stop the sandbox."""
    OUTPUT.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false", "NO_COLOR": "1"}
    say("==> Installing Meltano plugins (cached after the first run)")
    plugins = ("tap-clevertap", "tap-segment-archive", "target-segment", "target-clevertap")
    run(
        [str(ROOT / ".venv" / "bin" / "meltano"), "install", *plugins, "target-duckdb"],
        env,
        OUTPUT / "install.log",
    )
    first_run = not any(state_of(state_id, env) for state_id in STATE_IDS)
    # Every demo starts a fresh sandbox account: what the previous one received is gone, so the
    # previous run's outputs and target-clevertap's delivery journal no longer describe it.
    for stale in (*OUTPUT.glob("*-summary.json"), *OUTPUT.glob("*-rejected.jsonl")):
        stale.unlink()
    (OUTPUT / "target-clevertap-journal.sqlite").unlink(missing_ok=True)

    say("==> Starting the CleverTap + Segment sandbox on loopback")
    results: dict[str, dict[str, t.Any]] = {}
    with SandboxProcess(clevertap_port=0, segment_port=0) as sandbox:
        env.update(
            {
                "TAP_CLEVERTAP_API_URL": sandbox.clevertap_url,
                "TARGET_CLEVERTAP_API_URL": sandbox.clevertap_url,
                "TARGET_SEGMENT_API_URL": sandbox.segment_url,
                "TARGET_SEGMENT_SETTINGS_URL": sandbox.segment_url,
                "TARGET_CLEVERTAP_JOURNAL_PATH": str(OUTPUT / "target-clevertap-journal.sqlite"),
            }
        )
        client = sandbox.client
        for job, tasks in PIPELINES:
            for task in tasks:
                say(f"==> meltano --environment=demo run {task}   ({job})")
                before = client.clevertap_stats()["cursors"]["records_served"]
                accepted = client.segment_stats()["accepted"]
                started = time.monotonic()
                log = OUTPUT / f"{task.replace(' ', '_')}.log"
                run([*MELTANO, "run", *task.split()], env, log)
                target = task.split()[-1]
                results[task] = {
                    "seconds": time.monotonic() - started,
                    "extracted": client.clevertap_stats()["cursors"]["records_served"] - before,
                    "segment_accepted": client.segment_stats()["accepted"] - accepted,
                    "summary": read_json(OUTPUT / f"{target}-summary.json"),
                }
        say("==> meltano --environment=demo invoke target-clevertap:resolve-uncertain")
        log = OUTPUT / "resolve-uncertain.log"
        run(
            [*MELTANO, "invoke", "target-clevertap:resolve-uncertain", "--settle-minutes", "0"],
            env,
            log,
        )
        reports = [line for line in log.read_text().splitlines() if line.startswith("{")]
        resolution = json.loads(reports[-1])
        truth = client.seed_summary(event_profiles=False)
        segment = client.segment_stats()
        audiences = run_audiences(client, env)
        profiles = client.clevertap_profiles()
        uploaded_events = client.clevertap_stats()["uploads"]["events_stored"]

    events = results["tap-clevertap-events target-segment"]
    people = results["tap-clevertap-profiles target-segment"]
    archive = results["tap-segment-archive target-clevertap"]
    warehouse = results["tap-clevertap-events target-duckdb"]
    rows = duckdb_row_counts(OUTPUT / "warehouse.duckdb")
    ct: dict[str, t.Any] = archive["summary"]
    rules: dict[str, int] = ct.get("rejected_by_rule") or {}
    say("")
    say("=" * 78)
    say(f"Demo summary ({'first run: full history' if first_run else 'incremental run'})")
    say("=" * 78)
    say("CleverTap -> Segment   (job clevertap-to-segment)")
    say(f"  exportable events in the sandbox account   : {truth.get('total_events', '?')}")
    say(f"  events extracted this run                  : {events['extracted']}")
    say(f"  track calls accepted by Segment            : {events['segment_accepted']}")
    say(
        f"  profiles extracted / identify calls        : {people['extracted']} / "
        f"{people['segment_accepted']}"
    )
    say(
        f"  rejected by target-segment (events, profiles): "
        f"{events['summary'].get('rejected', '?')}, {people['summary'].get('rejected', '?')}"
        f"   ({OUTPUT.name}/target-segment-rejected.jsonl)"
    )
    say(
        f"  duplicates / dropped at Segment            : {segment.get('duplicates', 0)} / "
        f"{segment.get('dropped', 0)}"
    )
    say("Segment archive -> CleverTap   (job segment-to-clevertap, property_names: match_account)")
    say(
        f"  records received / delivered / rejected / skipped: {ct.get('received', '?')} / "
        f"{ct.get('delivered', '?')} / {ct.get('rejected', '?')} / {ct.get('skipped', '?')}"
    )
    for rule, count in sorted(rules.items()):
        say(f"      rejected, {rule}: {count}")
    for reason, count in sorted(dict(ct.get("skipped_by_reason") or {}).items()):
        say(f"      skipped, {reason}: {count}")
    for rule, count in sorted(dict(ct.get("dropped_fields_by_rule") or {}).items()):
        say(f"      delivered without one field, {rule}: {count}")
    say(
        f"  in doubt (sent, no answer) / resolved from the export: {resolution['in_doubt']} / "
        f"stored {resolution['stored']}, absent {resolution['absent']}, unknown "
        f"{resolution['unknown']}"
    )
    say_account_names(dict(ct.get("account_names") or {}))
    say(f"  profiles / events now in the CleverTap sandbox: {len(profiles)} / {uploaded_events}")
    say("CleverTap -> warehouse   (jobs clevertap-to-warehouse and clevertap-reports-to-warehouse,")
    say("                          target-duckdb from PyPI)")
    say(f"  events extracted this run                  : {warehouse['extracted']}")
    say(f"  rows in {OUTPUT.name}/warehouse.duckdb events: {rows.get('events', '?')}")
    report_rows = ", ".join(f"{table} {n}" for table, n in rows.items() if table != "events")
    say(
        textwrap.fill(
            report_rows, 78, initial_indent="  report tables (rows): ", subsequent_indent="      "
        )
    )
    for line in audiences:
        say(line)
    say("Where to look")
    say(f"  logs                         : {OUTPUT}/<task>.log")
    say(f"  rejected records and reasons : {OUTPUT}/target-*-rejected.jsonl")
    say(f"  run summaries                : {OUTPUT}/target-*-summary.json")
    say("  bookmarks                    : .venv/bin/meltano --environment=demo state list")
    say(
        "  timings                      : "
        + ", ".join(
            f"{task.split()[0]}->{task.split()[-1]} {r['seconds']:.0f}s"
            for task, r in results.items()
        )
    )
    say("=" * 78)
    if first_run:
        say("Run `make demo` again: the second run is incremental (only the lookback days).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
