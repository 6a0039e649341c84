"""``event_counts``, ``profile_counts`` and ``trends``: CleverTap's asynchronous counts.

Counts are per event per day (``from`` = ``to`` = the day), incremental like the events stream:
one partition per counted event, bookmarked at the last completed day, ``lookback_days`` re-read
each run (late events change the numbers). Trends are per event per period (``trend_type``),
with the event count and the unique-profile count (``unique: true``); the bookmark is the end of
the last complete period. Every query may answer ``partial`` + ``req_id`` and is polled (see
polling.py); jobs of later partitions run ahead on up to ``max_concurrency`` worker threads.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from dataclasses import dataclass

from tap_clevertap.errors import CleverTapError, InvalidEventError
from tap_clevertap.localtime import day_int, day_range
from tap_clevertap.periods import chunks, parse_period, period_end, period_start
from tap_clevertap.polling import count_query
from tap_clevertap.streams import PipelinedStream

if t.TYPE_CHECKING:
    import threading

    from singer_sdk.helpers import types

    from tap_clevertap.prefetch import Emit
    from tap_clevertap.tap import TapCleverTap

_COUNT: dict[str, t.Any] = {"type": ["integer", "null"]}


def _number(doc: dict[str, t.Any], key: str, what: str) -> int | float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        msg = f"{what}: CleverTap's answer has no numeric {key!r}: {doc!r:.200}"
        raise CleverTapError(msg)
    return value


@dataclass(frozen=True, slots=True)
class CountJob:
    """One event counted on one day."""

    event_name: str
    day: dt.date


class CountsStream(PipelinedStream[CountJob]):
    """Per event and day: ``count`` from one counts endpoint."""

    path: t.ClassVar[str]
    primary_keys = ("event_name", "date")
    replication_key = "date"
    SCHEMA: t.ClassVar[dict[str, t.Any]] = {
        "type": "object",
        "properties": {
            "event_name": {"type": "string"},
            "date": {"type": "string", "format": "date"},
            "count": {"type": "integer"},
        },
        "required": ["event_name", "date", "count"],
    }

    def __init__(self, tap: TapCleverTap) -> None:
        """The schema is fixed."""
        super().__init__(tap, self.SCHEMA)

    def event_list(self) -> list[str]:
        """The count_events setting, or the events stream's list."""
        return self.clevertap.count_events()[0]

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """One record per day; the bookmark moves to each completed day once it is emitted."""
        if context is None:
            return
        for job, items in self.jobs_of(context):
            for count in items:
                yield {"event_name": job.event_name, "date": job.day.isoformat(), "count": count}
                if self.is_complete(job.day):
                    self.checkpoint(context, job.day)

    def _plan(self, index: int) -> list[tuple[int, CountJob]]:
        lookback = self.clevertap.settings.lookback_days
        plan: list[tuple[int, CountJob]] = []
        for i, partition in enumerate((self.partitions or [])[index:], start=index):
            first, last = self.window(self.bookmark(partition), lookback)
            name = partition["event_name"]
            plan.extend((i, CountJob(name, day)) for day in day_range(first, last))
        return plan

    def _produce(self, job: CountJob, emit: Emit, stop: threading.Event) -> None:
        what = f"{self.name} of event {job.event_name!r} for {job.day}"
        query = {"event_name": job.event_name, "from": day_int(job.day), "to": day_int(job.day)}
        try:
            doc = count_query(self.clevertap.client, self.path, query, what=what, stop=stop)
        except InvalidEventError as exc:
            source = self.clevertap.count_events()[1]
            msg = f"{exc} The event name came from {source}; fix or remove it there."
            raise InvalidEventError(msg) from None
        emit(int(_number(doc, "count", what)), 0)


class EventCountsStream(CountsStream):
    """How many times each event happened per day (POST /1/counts/events.json)."""

    name = "event_counts"
    path = "/1/counts/events.json"


class ProfileCountsStream(CountsStream):
    """How many distinct profiles did each event per day (POST /1/counts/profiles.json)."""

    name = "profile_counts"
    path = "/1/counts/profiles.json"


@dataclass(frozen=True, slots=True)
class TrendJob:
    """One event's trend over whole periods from ``first`` to ``last``."""

    event_name: str
    first: dt.date
    last: dt.date


class TrendsStream(PipelinedStream[TrendJob]):
    """Per event and period: event count and unique-profile count (POST /1/counts/trends.json)."""

    name = "trends"
    primary_keys = ("event_name", "trend_type", "period")
    replication_key = "period_end"
    path = "/1/counts/trends.json"
    SCHEMA: t.ClassVar[dict[str, t.Any]] = {
        "type": "object",
        "properties": {
            "event_name": {"type": "string"},
            "trend_type": {"type": "string", "enum": ["daily", "weekly", "monthly"]},
            "period": {"type": "string"},
            "period_start": {"type": "string", "format": "date"},
            "period_end": {"type": "string", "format": "date"},
            "complete": {"type": "boolean"},
            "event_count": _COUNT,
            "profile_count": _COUNT,
        },
        "required": ["event_name", "trend_type", "period", "period_start", "period_end"],
    }

    def __init__(self, tap: TapCleverTap) -> None:
        """The schema is fixed."""
        super().__init__(tap, self.SCHEMA)

    def event_list(self) -> list[str]:
        """The count_events setting, or the events stream's list."""
        return self.clevertap.count_events()[0]

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Every period of every window; the bookmark moves to the end of each complete one."""
        if context is None:
            return
        for _job, items in self.jobs_of(context):
            for record in items:
                yield record
                if record["complete"]:
                    self.checkpoint(context, dt.date.fromisoformat(record["period_end"]))

    def _plan(self, index: int) -> list[tuple[int, TrendJob]]:
        settings = self.clevertap.settings
        plan: list[tuple[int, TrendJob]] = []
        for i, partition in enumerate((self.partitions or [])[index:], start=index):
            first, last = self.window(self.bookmark(partition), settings.lookback_days)
            plan.extend(
                (i, TrendJob(partition["event_name"], start, end))
                for start, end in chunks(first, last, settings.trend_type)
            )
        return plan

    def _produce(self, job: TrendJob, emit: Emit, stop: threading.Event) -> None:
        trend_type = self.clevertap.settings.trend_type
        what = f"{trend_type} trends of event {job.event_name!r} for {job.first}..{job.last}"
        query: dict[str, t.Any] = {
            "event_name": job.event_name,
            "from": day_int(job.first),
            "to": day_int(job.last),
            "groups": {"trend": {"trend_type": trend_type}},
        }
        client = self.clevertap.client
        try:
            events = count_query(client, self.path, query, what=what, stop=stop)
            profiles = count_query(
                client, self.path, {**query, "unique": True}, what=f"unique {what}", stop=stop
            )
        except InvalidEventError as exc:
            source = self.clevertap.count_events()[1]
            msg = f"{exc} The event name came from {source}; fix or remove it there."
            raise InvalidEventError(msg) from None
        event_counts = _periods(events, what)
        profile_counts = _periods(profiles, f"unique {what}")
        today = self.clevertap.today()
        starts: dict[str, dt.date] = {}
        for key in event_counts.keys() | profile_counts.keys():
            start = parse_period(key, trend_type)
            if start is None:
                msg = f"{what}: CleverTap named a period {key!r}, which is not a {trend_type} key."
                raise CleverTapError(msg)
            starts[key] = start
        for key in sorted(starts, key=starts.__getitem__):
            start = period_start(starts[key], trend_type)
            end = period_end(start, trend_type)
            emit(
                {
                    "event_name": job.event_name,
                    "trend_type": trend_type,
                    "period": key,
                    "period_start": start.isoformat(),
                    "period_end": end.isoformat(),
                    "complete": end <= job.last and end < today,
                    "event_count": event_counts.get(key),
                    "profile_count": profile_counts.get(key),
                },
                0,
            )


def _periods(doc: dict[str, t.Any], what: str) -> dict[str, int]:
    group = doc.get("trend")
    if not isinstance(group, dict):
        msg = f"{what}: CleverTap's answer has no 'trend' group: {doc!r:.200}"
        raise CleverTapError(msg)
    return {str(key): int(_number(group, key, what)) for key in group}
