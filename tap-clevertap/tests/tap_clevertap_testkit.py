"""Helpers shared by the tap's tests: sandbox configs, in-process runs, ground truth."""

from __future__ import annotations

import atexit
import datetime as dt
import io
import json
import typing as t
from contextlib import redirect_stdout
from dataclasses import dataclass

from clevertap_segment_sandbox import SandboxProcess
from tap_clevertap.tap import TapCleverTap

#: The sandbox fixtures pin "today" to this day; seeded history is the 14 days before it.
TODAY = dt.date(2026, 11, 20)
FIRST_DAY = dt.date(2026, 11, 6)
LAST_DAY = dt.date(2026, 11, 19)
EVENTS = ["App Launched", "Charged"]


def tap_config(sandbox: SandboxProcess, **overrides: t.Any) -> dict[str, t.Any]:
    """A config for the sandbox: pinned window, fast retries, no /getSchema typing."""
    settings = sandbox.settings
    config: dict[str, t.Any] = {
        "account_id": settings.account_id,
        "passcode": settings.passcode,
        "api_url": sandbox.clevertap_url,
        "timezone": settings.timezone,
        "start_date": FIRST_DAY.isoformat(),
        "end_date": LAST_DAY.isoformat(),
        "event_names": EVENTS,
        "profile_events": ["App Launched"],
        "retry_initial_wait": 0.01,
        "retry_max_wait": 0.05,
        "count_poll_interval": 0.01,
        "type_properties_from_schema": False,
    }
    config.update(overrides)
    return {k: v for k, v in config.items() if v is not None}


@dataclass
class Run:
    """The Singer messages of one tap run."""

    messages: list[dict[str, t.Any]]

    def records(self, stream: str = "events") -> list[dict[str, t.Any]]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    @property
    def states(self) -> list[dict[str, t.Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def state(self) -> dict[str, t.Any]:
        return self.states[-1]


def parse_messages(raw: bytes) -> list[dict[str, t.Any]]:
    return [json.loads(line) for line in raw.splitlines() if line.strip()]


#: Streams run_tap selects unless told otherwise (the export streams most tests are about).
EXPORT_STREAMS = ("events", "profiles")


def selecting(config: dict[str, t.Any], streams: t.Iterable[str]) -> dict[str, t.Any]:
    """The discovered catalog with only ``streams`` selected."""
    wanted = set(streams)
    catalog = TapCleverTap(config=config).catalog_dict
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in wanted
    return catalog


def run_tap(
    config: dict[str, t.Any],
    *,
    state: dict[str, t.Any] | None = None,
    catalog: dict[str, t.Any] | None = None,
    streams: t.Iterable[str] | None = EXPORT_STREAMS,
) -> Run:
    """Run a full sync in this process and collect what it wrote to stdout.

    Without a catalog, only ``streams`` are selected (all of them with ``streams=None``).
    """
    if catalog is None and streams is not None:
        catalog = selecting(config, streams)
    out = io.TextIOWrapper(io.BytesIO(), encoding="utf-8")
    with redirect_stdout(out):
        tap = TapCleverTap(config=config, state=state, catalog=catalog)
        tap.sync_all()
        out.flush()
    return Run(parse_messages(out.buffer.getvalue()))  # type: ignore[attr-defined]


def bookmarks(state: dict[str, t.Any]) -> dict[str, str | None]:
    """event name -> bookmarked day, from an events stream state."""
    partitions = state["bookmarks"]["events"]["partitions"]
    return {p["context"]["event_name"]: p.get("replication_key_value") for p in partitions}


def expected_days(summary: dict[str, t.Any], name: str) -> dict[str, int]:
    """{YYYY-MM-DD: count} of one event from the sandbox's seed summary."""
    days = summary["events"][name]["days"]
    return {f"{d[:4]}-{d[4:6]}-{d[6:]}": n for d, n in days.items()}


def counts_by_day(records: list[dict[str, t.Any]], name: str) -> dict[str, int]:
    """{event_date: distinct event_id count} for one event name."""
    ids: dict[str, set[str]] = {}
    for record in records:
        if record["event_name"] == name:
            ids.setdefault(record["event_date"], set()).add(record["event_id"])
    return {day: len(v) for day, v in ids.items()}


_STANDARD: SandboxProcess | None = None


def standard_sandbox() -> SandboxProcess:
    """A process-wide sandbox for the SDK's standard test class (needed at collection time)."""
    global _STANDARD  # noqa: PLW0603
    if _STANDARD is None:
        _STANDARD = SandboxProcess(today=TODAY).start()
        atexit.register(_STANDARD.stop)
    return _STANDARD
