"""How many events a crash could leave in doubt at any moment, against throughput.

An event is in doubt after a crash when its upload was sent and the answer had not been
recorded: the journal's pending entries. One uninterrupted run of the Segment archive into
target-clevertap per ``batch_size_rows``, sampling that count every 50 ms: its median and
maximum are what a SIGKILL at a random moment leaves behind (crashes.py measures it with real
kills), and the run's records per second is what the setting costs.
"""

from __future__ import annotations

import statistics
import time
import typing as t

from bench.reliability import plugins, segment_archive
from bench.reliability.crashes import journal_pending
from bench.reliability.environment import start_sandbox
from bench.reliability.faults import fed_in
from bench.reliability.outcome import Outcome
from bench.reliability.pipeline import run_chain

if t.TYPE_CHECKING:
    from bench.reliability.environment import Workspace

#: Records per upload compared; CleverTap allows up to 1000 (the default).
BATCH_ROWS = (1000, 500, 250, 100)


def in_doubt_window(workspace: Workspace, *, messages: int, latency_ms: int, seed: int) -> Outcome:
    """target-clevertap at each batch size: in-doubt events sampled during the run, records/s."""
    started = time.monotonic()
    events = len(fed_in(messages)[0])
    rows: dict[str, dict[str, t.Any]] = {}
    for batch in BATCH_ROWS:
        out = workspace.output_dir(f"window-{batch}")
        archive = out / "archive.jsonl"
        segment_archive.write_archive(archive, messages)
        journal = out / "journal.sqlite"
        sandbox = start_sandbox(days=1, latency_ms=latency_ms, seed=seed)
        samples: list[int] = []

        def sample(journal: t.Any = journal, samples: list[int] = samples) -> bool:
            samples.append(journal_pending(journal))
            return False  # never kill: only look

        try:
            config = workspace.config(
                f"window-target-clevertap-{batch}",
                plugins.clevertap_target_config(sandbox, out, journal, batch_size_rows=batch),
            )
            attempt = run_chain(
                [
                    plugins.archive_tap_command(archive),
                    plugins.target_command(plugins.TARGET_CLEVERTAP, config),
                ],
                out,
                "run",
                kill_when=sample,
            )
            stored = int(sandbox.client.clevertap_stats()["uploads"]["events_stored"])
        finally:
            sandbox.stop()
        summary = plugins.read_summary(out, "target-clevertap")
        busy = [count for count in samples if count] or [0]
        rows[str(batch)] = {
            "succeeded": attempt.succeeded,
            "events_stored": stored,
            "events_per_s": round(stored / max(float(summary.get("seconds", 0)), 1e-9)),
            "in_doubt_median": statistics.median(busy),
            "in_doubt_max": max(busy),
            "samples": len(samples),
        }
        print(f"window, batch_size_rows {batch}: {rows[str(batch)]}", flush=True)
    return Outcome(
        scenario="window",
        pipeline="Segment archive → target-clevertap, in doubt at any moment vs throughput",
        counts={"by_batch_size_rows": rows, "events": events},
        checks={
            "every_run_completed": all(row["succeeded"] for row in rows.values()),
            "every_event_stored": all(row["events_stored"] == events for row in rows.values()),
        },
        details={"latency_ms": latency_ms, "seed": seed, "sample_interval_s": 0.05},
        seconds=time.monotonic() - started,
    )
