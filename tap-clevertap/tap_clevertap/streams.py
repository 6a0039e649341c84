"""The ``events`` and ``profiles`` streams, and the base every stream of the tap shares."""

from __future__ import annotations

import datetime as dt
import functools
import typing as t
from dataclasses import dataclass

import orjson
from clevertap_segment_common.sdk_compat import HookedStream
from singer_sdk.helpers.conform import TypeConformanceLevel

from tap_clevertap.errors import InvalidEventError, UnexportableEventError
from tap_clevertap.event_ids import OccurrenceIds
from tap_clevertap.localtime import day_range, parse_day
from tap_clevertap.prefetch import Emit, OrderedPrefetcher, PartitionPipeline
from tap_clevertap.records import build_event, build_profile, profile_object_id
from tap_clevertap.seen_set import DiskSeenSet
from tap_clevertap.selection import SelectionPruner

if t.TYPE_CHECKING:
    import threading

    from singer_sdk.helpers import types

    from tap_clevertap.tap import TapCleverTap


J = t.TypeVar("J")


@dataclass(frozen=True, slots=True)
class Page:
    """Raw body of one export page that carries records."""

    day: dt.date
    body: bytes


@dataclass(frozen=True, slots=True)
class DayDone:
    """Every page of the job that ends on this day has been handed over."""

    day: dt.date


@dataclass(frozen=True, slots=True)
class Restart:
    """The job starting on this day is being read again from its first page (cursor expired)."""

    day: dt.date


@dataclass(frozen=True, slots=True)
class Skipped:
    """CleverTap refused to export the event; the rest of the job is skipped."""

    reason: str


def _drain(records: list[dict[str, t.Any]]) -> t.Iterator[dict[str, t.Any]]:
    """Yield a page's records, releasing each one once emitted (a parsed page is large)."""
    records.reverse()
    while records:
        yield records.pop()


class CleverTapStream(HookedStream):
    """Shared record path: day bookmarks written by the stream, cheap property selection."""

    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.ROOT_ONLY

    def __init__(self, tap: TapCleverTap, schema: dict[str, t.Any]) -> None:
        """Keep a typed handle on the tap (shared client, limiter and settings)."""
        super().__init__(tap=tap, schema=schema)
        self.clevertap = tap
        self._pruner: SelectionPruner | None = None

    @property
    def is_sorted(self) -> bool:
        """Records come out day by day, in order, per partition."""
        return True

    # -- state ------------------------------------------------------------------------

    def bookmark(self, context: types.Context | None) -> dt.date | None:
        """The last fully completed day recorded in the incoming state for this context."""
        if context is None:
            state = self.stream_state
        else:
            partitions = self.state_manager.get_state_partitions() or []
            state = next((p for p in partitions if p.get("context") == dict(context)), {})
        if state.get("replication_key") != self.replication_key:
            return None
        return parse_day(state.get("replication_key_value"))

    def checkpoint(self, context: types.Context | None, day: dt.date) -> None:
        """Record ``day`` as completed (never moving backwards) and emit STATE now."""
        state = self.get_context_state(context)
        current = (
            parse_day(state.get("replication_key_value"))
            if state.get("replication_key") == self.replication_key
            else None
        )
        if current is None or day > current:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = day.isoformat()
        self.write_state()

    def window(self, bookmark: dt.date | None, lookback: int) -> tuple[dt.date, dt.date]:
        """First and last day to read.

        From the bookmark minus lookback (never before start_date) to yesterday (today with
        include_today), capped at end_date.
        """
        settings = self.clevertap.settings
        today = self.clevertap.today()
        last = today if settings.include_today else today - dt.timedelta(days=1)
        if settings.end_date is not None:
            last = min(last, settings.end_date)
        first = settings.start_date
        if bookmark is not None:
            first = max(first, bookmark + dt.timedelta(days=1 - lookback))
        return first, last

    def is_complete(self, day: dt.date) -> bool:
        """Only days before today (account timezone, fixed for the run) may be bookmarked."""
        return day < self.clevertap.today()

    # -- record output ----------------------------------------------------------------

    def prune_record(self, record: dict[str, t.Any]) -> None:
        """Deselected properties, by a walk over the schema's breadcrumbs only.

        The SDK's walk looks every key of every nested dict up in the selection mask; for
        CleverTap's free-form ``profile.events`` / ``profileData`` that is hundreds of lookups
        per record and most of the tap's CPU, while only schema-declared breadcrumbs can be
        deselected. Covered by tests/test_selection.py.
        """
        if self._pruner is None:
            self._pruner = SelectionPruner(self.mask)
        self._pruner.prune(record)


class PipelinedStream(CleverTapStream, t.Generic[J]):
    """A stream with one partition per event name whose jobs run ahead on worker threads."""

    def __init__(self, tap: TapCleverTap, schema: dict[str, t.Any]) -> None:
        """Partitions are resolved on first use (they may need /getSchema)."""
        super().__init__(tap, schema)
        self._partitions: list[dict[str, t.Any]] | None = None

    def event_list(self) -> list[str]:
        """The event names this stream partitions by."""
        raise NotImplementedError

    @property
    def partitions(self) -> list[dict[str, t.Any]] | None:
        """One partition per event name."""
        if self._partitions is None:
            self._partitions = [{"event_name": name} for name in self.event_list()]
        return self._partitions

    @functools.cached_property
    def pipeline(self) -> PartitionPipeline[J]:
        """The prefetch pipeline of this sync (max_concurrency workers)."""
        workers = self.clevertap.settings.max_concurrency
        return PartitionPipeline(self._plan, self._produce, workers=workers, name=self.name)

    def jobs_of(self, context: types.Context) -> t.Iterator[tuple[J, t.Iterator[t.Any]]]:
        """(job, its items) for the partition ``context``; the pipeline runs on across calls.

        The pipeline stops after the last partition, or when the caller stops early or fails.
        """
        partitions = self.partitions or []
        index = partitions.index(dict(context))
        finished = False
        try:
            for position, job in self.pipeline.start(index):
                yield job, self.pipeline.items(position)
            finished = True
        finally:
            if not finished or index == len(partitions) - 1:
                self.pipeline.close()

    def _plan(self, index: int) -> list[tuple[int, J]]:
        """(partition index, job) for the partitions from ``index`` on."""
        raise NotImplementedError

    def _produce(self, job: J, emit: Emit, stop: threading.Event) -> None:
        """Run one job on a worker thread, handing its items to ``emit``."""
        raise NotImplementedError


@dataclass(frozen=True, slots=True)
class EventJob:
    """One window of days (``export_window_days``, one by default) of one event partition.

    A job per window (not per partition) lets the workers read three windows of one event at
    once, and keeps what runs ahead of the consumer to a few windows' pages.
    """

    event_name: str
    first: dt.date
    last: dt.date


class EventsStream(PipelinedStream[EventJob]):
    """Every exported event of every selected event name, one partition per event name."""

    name = "events"
    primary_keys = ("event_id",)
    replication_key = "event_date"
    #: build_event writes only JSON values (text, integers, objects from the page) and the schema
    #: has no boolean-only field at the root, so the SDK's conformance would change nothing; it
    #: cost ~13 us per record (bench/results/flamegraphs.json).
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, tap: TapCleverTap, schema: dict[str, t.Any]) -> None:
        """Remember events CleverTap refused to export, so their other days are not asked."""
        super().__init__(tap, schema)
        self._refused: dict[str, str] = {}

    def event_list(self) -> list[str]:
        """The event_names setting, or every event from /getSchema."""
        return self.clevertap.event_names()[0]

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Emit one partition's events day by day; STATE after each completed day."""
        if context is None:
            self.logger.warning(
                "No event names to extract (event_names is empty and /getSchema listed none)."
            )
            return
        tz = self.clevertap.settings.timezone
        names = self.clevertap.name_inventory()
        ids = OccurrenceIds()
        name = context["event_name"]
        emitted = 0
        days: list[dt.date] = []
        skipped: str | None = None
        for job, items in self.jobs_of(context):
            days += (job.first, job.last)
            for item in items:
                if isinstance(item, Page):
                    for raw in _drain(orjson.loads(item.body)["records"]):
                        emitted += 1
                        record = build_event(raw, name, tz, ids)
                        if names is not None:
                            profile = record["profile"]
                            names.saw_event_record(
                                name,
                                record["event_props"],
                                profile.get("profileData") if isinstance(profile, dict) else None,
                            )
                        yield record
                elif isinstance(item, DayDone | Restart):
                    # Occurrences are numbered per (event, day) read from its start; a window
                    # holds whole days, and identical records share their day (ts holds it).
                    ids.reset()
                    if isinstance(item, DayDone) and self.is_complete(item.day):
                        self.checkpoint(context, item.day)
                elif isinstance(item, Skipped) and skipped is None:
                    skipped = item.reason
                    self.logger.warning("Skipping event %r: %s", name, item.reason)
        if days and skipped is None:
            self.logger.info("events %r: %d records for %s..%s", name, emitted, days[0], days[-1])

    def _plan(self, index: int) -> list[tuple[int, EventJob]]:
        settings = self.clevertap.settings
        plan: list[tuple[int, EventJob]] = []
        for i, partition in enumerate((self.partitions or [])[index:], start=index):
            first, last = self.window(self.bookmark(partition), settings.lookback_days)
            name = partition["event_name"]
            plan.extend(
                (i, EventJob(name, days[0], days[-1]))
                for days in self._windows(day_range(first, last), settings.export_window_days)
            )
        return plan

    def _windows(self, days: list[dt.date], size: int) -> list[list[dt.date]]:
        """Consecutive runs of at most ``size`` days; today (include_today) is always alone.

        A window is bookmarked when all of it is read, so a partial today must not share one
        with complete days.
        """
        windows: list[list[dt.date]] = []
        for day in days:
            current = windows[-1] if windows else None
            if (
                current is None
                or len(current) == size
                or self.is_complete(day) != self.is_complete(current[0])
            ):
                windows.append([day])
            else:
                current.append(day)
        return windows

    def _produce(self, job: EventJob, emit: Emit, stop: threading.Event) -> None:
        refused = self._refused.get(job.event_name)
        if refused is not None:
            # Another day of this event was refused: do not ask again for every day. Days
            # already in flight when the first refusal came back (at most max_concurrency - 1)
            # may each have asked once.
            emit(Skipped(refused), 0)
            return
        restart = functools.partial(emit, Restart(job.first), 0)
        try:
            for body in self.clevertap.client.export_pages(
                "events", job.event_name, job.first, job.last, stop=stop, on_restart=restart
            ):
                emit(Page(job.first, body), len(body))
        except UnexportableEventError as exc:
            if not self.clevertap.settings.skip_unexportable_events:
                raise
            self._refused.setdefault(job.event_name, str(exc))
            emit(Skipped(str(exc)), 0)
            return
        except InvalidEventError as exc:
            _names, source = self.clevertap.event_names()
            msg = f"{exc} The event name came from {source}; fix or remove it there."
            raise InvalidEventError(msg) from None
        emit(DayDone(job.last), 0)


@dataclass(frozen=True, slots=True)
class ProfileJob:
    """One profile_events event swept over one window."""

    event_name: str
    first: dt.date
    last: dt.date
    closes_window: bool


class ProfilesStream(CleverTapStream):
    """Current profiles of everyone who did a profile_events event in the window, once per run."""

    name = "profiles"
    primary_keys = ("objectId",)
    replication_key = "sweep_date"
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE  # as for events: JSON values only

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """Sweep each window event by event; bookmark the window's last day when all are done."""
        settings = self.clevertap.settings
        first, last = self.window(self.bookmark(context), settings.profile_lookback_days)
        events = self.clevertap.profile_events()
        jobs: list[ProfileJob] = []
        for start in day_range(first, last)[:: settings.profile_window_days]:
            end = min(last, start + dt.timedelta(days=settings.profile_window_days - 1))
            jobs.extend(
                ProfileJob(name, start, end, i == len(events) - 1) for i, name in enumerate(events)
            )
        if not jobs:
            return
        seen = DiskSeenSet()
        prefetcher = OrderedPrefetcher(
            jobs, self._produce, workers=settings.max_concurrency, name="profiles"
        )
        without_id = 0
        names = self.clevertap.name_inventory()
        try:
            for index, job in enumerate(jobs):
                sweep_date = job.last.isoformat()
                for item in prefetcher.items(index):
                    if isinstance(item, Skipped):
                        self.logger.warning(
                            "Profiles: skipping event %r: %s", job.event_name, item.reason
                        )
                        continue
                    for raw in _drain(orjson.loads(item.body)["records"]):
                        object_id = profile_object_id(raw)
                        if object_id is None:
                            without_id += 1
                            continue
                        if seen.add(object_id):
                            if names is not None:
                                names.saw_profile_data(raw.get("profileData"))
                            yield build_profile(raw, object_id, sweep_date)
                if job.closes_window and self.is_complete(job.last):
                    self.checkpoint(context, job.last)
        finally:
            prefetcher.close()
            seen.close()
        if without_id:
            self.logger.warning(
                "Profiles: %d exported profiles had neither objectId nor platformInfo[].objectId "
                "and were not emitted (no key to identify them by).",
                without_id,
            )
        self.logger.info("profiles: %d distinct profiles for %s..%s", seen.count, first, last)

    def _produce(self, job: ProfileJob, emit: Emit, stop: threading.Event) -> None:
        client = self.clevertap.client
        try:
            pages = client.export_pages("profiles", job.event_name, job.first, job.last, stop=stop)
            for body in pages:
                emit(Page(job.last, body), len(body))
        except UnexportableEventError as exc:
            if not self.clevertap.settings.skip_unexportable_events:
                raise
            emit(Skipped(str(exc)), 0)
