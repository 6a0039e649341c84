"""CleverTap's two-step export (docs/clevertap-api.md §2.1-2.4): open a cursor, then page it.

Observed contract: the open answers {"cursor", "status"}; every data page answers
{"next_cursor", "records", "status": "success"}; the end is {"status": "success"} alone.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import replace
from datetime import date, datetime, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from clevertap_segment_sandbox.catalog import EVENT_INDEX, EVENTS
from clevertap_segment_sandbox.clock import packed_ts, parse_yyyymmdd
from clevertap_segment_sandbox.cql import (
    ExportQuery,
    Predicate,
    QueryError,
    compile_filters,
    compile_query,
    query_filters,
)
from clevertap_segment_sandbox.cursors import EVENTS_EXPORT, PROFILES_EXPORT, CursorState
from clevertap_segment_sandbox.http_common import (
    STATE,
    json_body,
    json_bytes,
    parse_object,
    query_params,
)
from clevertap_segment_sandbox.prng import key64
from clevertap_segment_sandbox.seed_events import BUCKETS, page_count, page_indices
from clevertap_segment_sandbox.seed_profiles import ALL_FLAGS, APP, EVENTS_SUMMARY, PROFILE_DATA

if TYPE_CHECKING:
    from aiohttp import web

    from clevertap_segment_sandbox.state import SandboxState

MAX_BATCH_SIZE = 5000
DEFAULT_BATCH_SIZE = 1000
TERMINAL = b'{"status":"success"}'
INCORRECT_USAGE = {"status": "fail", "error": "Incorrect Usage", "code": 3}
IN_PROGRESS = {"status": "fail", "code": 2, "error": "Request still in progress"}
EXPORT_NOT_ALLOWED = {"status": "fail", "error": "Export not allowed for this event", "code": 400}
MALFORMED = {"status": "fail", "error": "Malformed request", "code": 400}


class QueryRejected(Exception):
    """A request CleverTap answers with a fail body; carries the body and HTTP status."""

    def __init__(self, body: dict[str, Any], status: int = 400) -> None:
        super().__init__(body.get("error"))
        self.body = body
        self.status = status


def fail(message: str, status: int = 400) -> QueryRejected:
    """The usual {"status": "fail", "error", "code"} rejection."""
    return QueryRejected({"status": "fail", "error": message, "code": status}, status)


def invalid_event(name: str) -> QueryRejected:
    """Unknown event names (body as reported by a community client, §2.2)."""
    return QueryRejected({"error": f'["Invalid event : {name}"]'}, 400)


def event_index_of(
    query: dict[str, Any], *, exportable: bool, state: SandboxState | None = None
) -> int:
    """The catalogue index of the query's event, or the CleverTap rejection.

    Event names that exist only because they were uploaded get indices after the catalogue.
    """
    name = query.get("event_name")
    if not isinstance(name, str) or not name:
        raise fail("Mandatory parameter missing: event_name")
    index = EVENT_INDEX.get(name)
    if index is None and state is not None and name in state.uploads.uploaded_event_names:
        return len(EVENTS) + state.uploads.uploaded_event_names.index(name)
    if index is None:
        raise invalid_event(name)
    if exportable and not EVENTS[index].exportable:
        raise QueryRejected(EXPORT_NOT_ALLOWED, 400)
    return index


def date_window(
    state: SandboxState, query: dict[str, Any], *, allow_future: bool
) -> tuple[date, date]:
    """The inclusive [from, to] window in the account's days, validated like CleverTap."""
    days = []
    for key in ("from", "to"):
        if key not in query:
            raise fail(f"Mandatory parameter missing: {key}")
        day = parse_yyyymmdd(query[key])
        if day is None:
            raise fail(f"Invalid date for {key}: expected an integer YYYYMMDD")
        days.append(day)
    first, last = days
    if first > last:
        raise fail("from date cannot be after to date")
    if not allow_future and last > state.clock.today:
        raise fail("to date cannot be in the future (account timezone)")
    return first, last


def filters_of(query: dict[str, Any]) -> tuple[Predicate | None, bytes]:
    """Compiled event_properties filters and their canonical bytes (carried in the cursor)."""
    raw = query.get("event_properties")
    try:
        predicate = compile_filters(raw)
    except QueryError as error:
        raise fail(str(error)) from error
    return predicate, (orjson.dumps(raw) if predicate is not None else b"")


def export_filters_of(query: dict[str, Any]) -> bytes:
    """An export's event, session and profile-field filters, validated, as cursor bytes."""
    try:
        parts = query_filters(query)
        compile_query(parts)
    except QueryError as error:
        raise fail(str(error)) from error
    return orjson.dumps(parts, option=orjson.OPT_SORT_KEYS) if parts else b""


def _flags(params: dict[str, str]) -> int:
    """app/events/profile query flags; all default to on (device fields observed by default)."""
    flags = ALL_FLAGS
    for name, bit in (("app", APP), ("events", EVENTS_SUMMARY), ("profile", PROFILE_DATA)):
        if params.get(name, "true").strip().lower() in ("false", "0", "no"):
            flags &= ~bit
    return flags


def _per_bucket(params: dict[str, str]) -> int:
    """batch_size capped at 5000 and drained evenly from 23 buckets (5000 -> 4991 per page)."""
    raw = params.get("batch_size")
    if raw is None or raw == "":
        size = DEFAULT_BATCH_SIZE
    else:
        try:
            size = int(raw)
        except ValueError:
            raise fail("Invalid batch_size: expected an integer") from None
        if size < 1:
            raise fail("Invalid batch_size: must be positive")
    return max(min(size, MAX_BATCH_SIZE) // BUCKETS, 1)


def open_export(
    state: SandboxState, kind: int, params: dict[str, str], body: bytes
) -> web.Response:
    """Validate the query and answer {"cursor": ..., "status": "success"}."""
    query = parse_object(body)
    if query is None:
        raise QueryRejected(MALFORMED, 400)
    index = event_index_of(query, exportable=True, state=state)
    first, last = date_window(state, query, allow_future=False)
    filters = export_filters_of(query)
    cursor = CursorState(
        kind=kind,
        flags=_flags(params),
        event_index=index,
        first_ordinal=first.toordinal(),
        last_ordinal=last.toordinal(),
        per_bucket=_per_bucket(params),
        segment=0,
        page=0,
        snapshot_ordinal=state.clock.today.toordinal(),
        chain=secrets.randbits(63),
        issued_at=time.time(),
        filters=filters,
    )
    state.cursor_stats["opened"] += 1
    return json_body({"cursor": state.cursors.encode(cursor), "status": "success"})


def _page_body(
    state: SandboxState, cursor: CursorState, records: list[bytes], segment: int, page: int
) -> bytes:
    token = state.cursors.encode(cursor.advanced(segment, page, time.time()))
    state.cursor_stats["pages_served"] += 1
    state.cursor_stats["records_served"] += len(records)
    return b"".join(
        (
            b'{"next_cursor":"',
            token.encode(),
            b'","records":[',
            b",".join(records),
            b'],"status":"success"}',
        )
    )


@lru_cache(maxsize=64)
def _compiled(filters: bytes) -> ExportQuery | None:
    return compile_query(orjson.loads(filters)) if filters else None


def _seeded_count(state: SandboxState, cursor: CursorState, day: date, snapshot: date) -> int:
    if cursor.event_index >= len(EVENTS) or not state.clock.has_data(day, snapshot):
        return 0
    return state.history.visible_count(cursor.event_index, day, snapshot)


def event_name_of(state: SandboxState, index: int) -> str | None:
    """The name behind an event index (catalogue first, then names only uploads created)."""
    catalogue = len(EVENTS)
    if index < catalogue:
        return EVENTS[index].name
    names = state.uploads.uploaded_event_names
    return names[index - catalogue] if index - catalogue < len(names) else None


def _uploaded_records(state: SandboxState, cursor: CursorState, day: date) -> list[bytes]:
    """Export records of the events received through /1/upload for this event and day."""
    name = event_name_of(state, cursor.event_index)
    if name is None:
        return []
    keep = _compiled(cursor.filters)
    records = []
    for raw in state.uploads.events_on(name, day.toordinal()):
        stored = orjson.loads(raw)
        props = stored.get("evtData") or {}
        profile: dict[str, Any] = {
            key: stored[key] for key in ("objectId", "identity") if key in stored
        }
        known = next(
            (
                state.uploads.find_profile(key, str(stored[key]))
                for key in ("identity", "objectId")
                if key in stored
            ),
            None,
        )
        fields: dict[str, Any] = dict((known or {}).get("profileData") or {})
        if keep is not None and not (
            keep.keeps_event(props, {}) and keep.keeps_profile(fields.copy)
        ):
            continue
        local = datetime.fromtimestamp(stored["ts"], state.clock.tz)
        if known is not None and cursor.flags & PROFILE_DATA:
            profile["profileData"] = known["profileData"]
        local_second = local.hour * 3600 + local.minute * 60 + local.second
        records.append(
            orjson.dumps(
                {
                    "profile": profile,
                    "session_props": {},
                    "ts": packed_ts(local.date(), local_second),
                    "event_props": props,
                }
            )
        )
    return records


def events_page(state: SandboxState, cursor: CursorState) -> bytes:
    """One page of an events export, or the terminal body.

    Pages never span days. A day of the seeded history with no visible record yields an empty
    page that still carries next_cursor when later days hold data; days outside the history
    are skipped silently. The page that drains the window still carries next_cursor; the
    request after it gets the terminal body (as in the live capture). Events received through
    /1/upload follow the seeded ones of their day, in pages of the same size.
    """
    history = state.history
    first = date.fromordinal(cursor.first_ordinal)
    snapshot = date.fromordinal(cursor.snapshot_ordinal)
    total_days = cursor.last_ordinal - cursor.first_ordinal + 1
    keep = _compiled(cursor.filters)
    page_size = cursor.per_bucket * BUCKETS
    segment, page = cursor.segment, cursor.page
    while segment < total_days:
        day = first + timedelta(days=segment)
        size = _seeded_count(state, cursor, day, snapshot)
        uploaded = _uploaded_records(state, cursor, day)
        if size == 0 and not uploaded:
            later = any(
                _seeded_count(state, cursor, first + timedelta(days=s), snapshot)
                or _uploaded_records(state, cursor, first + timedelta(days=s))
                for s in range(segment + 1, total_days)
            )
            if not later:
                return TERMINAL
            if state.clock.has_data(day, snapshot):
                return _page_body(state, cursor, [], segment + 1, 0)
            segment, page = segment + 1, 0
            continue
        seeded_pages = 0
        if size:
            layout = history.layout(
                size, history.partition_key(cursor.event_index, day.toordinal())
            )
            seeded_pages = page_count(layout, cursor.per_bucket)
        total_pages = seeded_pages + -(-len(uploaded) // page_size)
        if page < seeded_pages:
            records = []
            for indices in page_indices(layout, page, cursor.per_bucket):
                for index in indices:
                    record = history.record_json(cursor.event_index, day, index, cursor.flags, keep)
                    if record is not None:
                        records.append(record)
        else:
            start = (page - seeded_pages) * page_size
            records = uploaded[start : start + page_size]
        if page + 1 < total_pages:
            return _page_body(state, cursor, records, segment, page + 1)
        return _page_body(state, cursor, records, segment + 1, 0)
    return TERMINAL


@lru_cache(maxsize=32)
def _profile_set(state: SandboxState, cursor: CursorState) -> tuple[int, ...]:
    """Profiles of a query, cached across the pages of every chain asking the same query."""
    return tuple(
        state.history.profile_set(
            cursor.event_index,
            date.fromordinal(cursor.first_ordinal),
            date.fromordinal(cursor.last_ordinal),
            date.fromordinal(cursor.snapshot_ordinal),
            _compiled(cursor.filters),
        )
    )


def profiles_page(state: SandboxState, cursor: CursorState) -> bytes:
    """One page of a profiles export: one record per profile who did the event in the window."""
    if cursor.segment > 0 or cursor.event_index >= len(EVENTS):
        return TERMINAL  # profiles of upload-only events: not emulated (documented)
    query = replace(cursor, segment=0, page=0, chain=0, issued_at=0.0, flags=0, per_bucket=0)
    members = _profile_set(state, query)
    if not members:
        return TERMINAL
    key = key64(
        state.settings.seed,
        "profiles",
        cursor.event_index,
        cursor.first_ordinal,
        cursor.last_ordinal,
    )
    layout = state.history.layout(len(members), key)
    records = [
        state.profiles.profile_record_json(members[index], cursor.flags)
        for indices in page_indices(layout, cursor.page, cursor.per_bucket)
        for index in indices
    ]
    if cursor.page + 1 < page_count(layout, cursor.per_bucket):
        return _page_body(state, cursor, records, 0, cursor.page + 1)
    return _page_body(state, cursor, records, 1, 0)


def read_page(state: SandboxState, kind: int, cursor: CursorState | None) -> web.Response:
    """Answer a page request for an already decoded cursor (None: not one of ours)."""
    if cursor is None or cursor.kind != kind:
        state.cursor_stats["invalid"] += 1
        return json_body(INCORRECT_USAGE)
    if time.time() - cursor.issued_at > state.cursor_ttl_seconds:
        state.cursor_stats["expired"] += 1
        return json_body(INCORRECT_USAGE)
    builder = events_page if kind == EVENTS_EXPORT else profiles_page
    return json_bytes(builder(state, cursor))


def export_handler(kind: int) -> Any:
    """Handler of /1/events.json or /1/profiles.json: POST opens; GET or POST ?cursor= pages."""

    async def handle(request: web.Request) -> web.Response:
        state = request.app[STATE]
        params = query_params(request)
        try:
            if "cursor" in params:
                cursor = request.get("cursor_state")
                if cursor is None:
                    cursor = state.cursors.decode(params["cursor"])
                return read_page(state, kind, cursor)
            if request.method == "GET":
                if "query" not in params:
                    raise fail("Mandatory parameter missing: cursor or query")
                return open_export(state, kind, params, params["query"].encode())
            return open_export(state, kind, params, await request.read())
        except QueryRejected as rejected:
            return json_body(rejected.body, rejected.status)

    return handle


EXPORT_PATHS = {"/1/events.json": EVENTS_EXPORT, "/1/profiles.json": PROFILES_EXPORT}
