"""`/_sandbox/...` endpoints (no auth, never faulted): ground truth, received data, knobs."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

import orjson

from clevertap_segment_sandbox.catalog import COLLIDING_GROUPS, EVENT_INDEX, EVENTS
from clevertap_segment_sandbox.clock import parse_yyyymmdd, yyyymmdd
from clevertap_segment_sandbox.http_common import SERVER, STATE, json_body, json_bytes, query_params

if TYPE_CHECKING:
    from aiohttp import web

    from clevertap_segment_sandbox.state import SandboxState

JSON = "application/json"


def _ok(payload: Any) -> web.Response:
    return json_body(payload, content_type=JSON)


def _bad(message: str) -> web.Response:
    return json_body({"error": message}, 400, JSON)


async def _json(request: web.Request) -> dict[str, Any]:
    raw = await request.read()
    if not raw:
        return {}
    value = orjson.loads(raw)
    if not isinstance(value, dict):
        raise ValueError("body must be a JSON object")
    return value


def seed_summary(state: SandboxState, event_profiles: bool) -> dict[str, Any]:
    """What exports would return right now, per event and day, plus profile ground truth."""
    clock = state.clock
    history = state.history
    days = clock.history_days()
    events: dict[str, Any] = {}
    late: dict[str, dict[str, int]] = {}
    for index, event in enumerate(EVENTS):
        if not event.exportable:
            continue
        per_day = {}
        for day in days:
            visible = history.visible_count(index, day, clock.today)
            per_day[str(yyyymmdd(day))] = visible
            pending = history.partition_size(index, day.toordinal()) - visible
            if pending:
                late.setdefault(event.name, {})[str(yyyymmdd(day))] = pending
        events[event.name] = {"total": sum(per_day.values()), "days": per_day}
    profiles: dict[str, Any] = dict(state.profiles.counts())
    if event_profiles and days:
        profiles["by_event"] = {
            event.name: len(history.profile_set(index, days[0], days[-1], clock.today, None))
            for index, event in enumerate(EVENTS)
            if event.weight > 0
        }
    return {
        "seed": state.settings.seed,
        "timezone": state.settings.timezone,
        "today": clock.today.isoformat(),
        "history": {
            "first_day": clock.first_day.isoformat(),
            "last_day": clock.yesterday.isoformat(),
        },
        "events": events,
        "total_events": sum(e["total"] for e in events.values()),
        "late_pending": late,
        "event_names": [event.name for event in EVENTS],
        "not_exportable_events": [event.name for event in EVENTS if not event.exportable],
        "profiles": profiles,
        "colliding_groups": [
            {
                "scope": group.scope,
                "event_name": group.event_name,
                "names": list(group.names),
                "collides_under": list(group.collides_under),
            }
            for group in COLLIDING_GROUPS
        ],
        "campaigns": [
            {**campaign.listing(clock.today), "report_form": campaign.report_form(clock.today)}
            for campaign in state.campaigns
        ],
        "messages": len(state.messages),
    }


async def health(request: web.Request) -> web.Response:
    """Liveness and which emulator answers."""
    return _ok({"status": "ok", "server": request.app[SERVER]})


async def reset(request: web.Request) -> web.Response:
    """Forget received data and counters; restore start-up clock, faults and limits."""
    request.app[STATE].reset()
    return _ok({"status": "ok"})


def _config(state: SandboxState) -> dict[str, Any]:
    return {
        "today": state.clock.today.isoformat(),
        "cursor_ttl_seconds": state.cursor_ttl_seconds,
        "segment_rate_limit": state.segment_rate_limit,
        "faults": {server: t.faults.describe() for server, t in state.traffic.items()},
    }


async def get_config(request: web.Request) -> web.Response:
    """The runtime configuration."""
    return _ok(_config(request.app[STATE]))


async def set_config(request: web.Request) -> web.Response:
    """Change today (YYYY-MM-DD), cursor TTL or the Segment rate limit at runtime."""
    state = request.app[STATE]
    try:
        body = await _json(request)
        if "today" in body:
            state.clock.today = date.fromisoformat(str(body["today"]))
        if "cursor_ttl_seconds" in body:
            state.cursor_ttl_seconds = max(float(body["cursor_ttl_seconds"]), 0.0)
        if "segment_rate_limit" in body:
            state.segment_rate_limit = max(float(body["segment_rate_limit"]), 0.0)
    except (ValueError, TypeError) as error:
        return _bad(str(error))
    return _ok(_config(state))


async def set_faults(request: web.Request) -> web.Response:
    """Fault rates, slow duration and latency of this server (or "server": "both")."""
    state = request.app[STATE]
    try:
        body = await _json(request)
        server = body.get("server", request.app[SERVER])
        servers = list(state.traffic) if server == "both" else [server]
        for name in servers:
            if name not in state.traffic:
                raise ValueError(f"unknown server {name!r}; expected clevertap, segment or both")
            state.traffic[name].faults.configure(
                body.get("rates"), body.get("slow_ms"), body.get("latency_ms")
            )
    except (ValueError, TypeError) as error:
        return _bad(str(error))
    return _ok(_config(state))


async def summary(request: web.Request) -> web.Response:
    """Ground truth of the seeded data (`?event_profiles=0` skips the per-event profile sets)."""
    wanted = query_params(request).get("event_profiles", "1") not in ("0", "false")
    return _ok(seed_summary(request.app[STATE], wanted))


def _event_window(request: web.Request) -> tuple[int, date, date] | None:
    """The seeded event and the window a ground-truth query names, or None if unusable."""
    params = query_params(request)
    index = EVENT_INDEX.get(params.get("event_name", ""))
    first, last = parse_yyyymmdd(params.get("from")), parse_yyyymmdd(params.get("to"))
    if index is None or first is None or last is None:
        return None
    return index, first, last


async def profile_count(request: web.Request) -> web.Response:
    """How many records a profiles export of this event and window would return right now."""
    state = request.app[STATE]
    asked = _event_window(request)
    if asked is None:
        return _bad("event_name (a seeded event), from and to (YYYYMMDD) are required")
    index, first, last = asked
    members = state.history.profile_set(index, first, last, state.clock.today, None)
    return _ok({"event_name": EVENTS[index].name, "count": len(members)})


async def profile_object_ids(request: web.Request) -> web.Response:
    """The objectIds of the profiles who did any of the events in the window, as exports show.

    A profile's objectId is its primary device's id: the top-level `objectId` of a profiles
    export record, or `platformInfo[0].objectId` when the record has none.
    """
    state = request.app[STATE]
    names = request.rel_url.query.getall("event_name", [])
    params = query_params(request)
    first, last = parse_yyyymmdd(params.get("from")), parse_yyyymmdd(params.get("to"))
    unknown = [name for name in names if name not in EVENT_INDEX]
    if not names or unknown or first is None or last is None:
        return _bad(
            "event_name (one or more seeded events, repeated), from and to (YYYYMMDD) are "
            f"required; unknown events: {unknown}"
        )
    members: set[int] = set()
    for name in names:
        members.update(
            state.history.profile_set(EVENT_INDEX[name], first, last, state.clock.today, None)
        )
    ids = sorted(state.profiles.profile(index).object_id for index in members)
    return _ok({"event_names": names, "object_ids": ids, "count": len(ids)})


async def event_records(request: web.Request) -> web.Response:
    """The raw seeded records of one event in a window (what an unfiltered export sees now).

    Ground truth for filtered exports: each record's day, its profile's objectId (the one a
    profiles export reports), identity and custom profile properties, its session source and
    its event properties. Tests apply query conditions to these themselves.
    """
    state = request.app[STATE]
    asked = _event_window(request)
    if asked is None:
        return _bad("event_name (a seeded event), from and to (YYYYMMDD) are required")
    index, first, last = asked
    history, profiles = state.history, state.profiles
    records = []
    for day in history.window_days(first, last):
        for profile_index, _, source, props in history.records_of(index, day, state.clock.today):
            profile = profiles.profile(profile_index)
            records.append(
                {
                    "day": yyyymmdd(day),
                    "objectId": profile.object_id,
                    "identity": profile.identity,
                    "profileData": profile.profile_data,
                    "session_source": source,
                    "event_props": props,
                }
            )
    return _ok({"event_name": EVENTS[index].name, "records": records})


async def clevertap_stats(request: web.Request) -> web.Response:
    """Requests by endpoint and status, 429s, concurrency peaks, cursors, faults, uploads.

    `max_concurrent` is the highest level any one account reached, `in_flight` and
    `concurrency_rejections` are summed over accounts; `accounts` has each account's gates.
    """
    state = request.app[STATE]
    traffic = state.traffic["clevertap"]
    accounts = traffic.account_gates
    families = tuple(next(iter(accounts.values())))
    return _ok(
        {
            "requests": traffic.requests.as_dict(),
            "http_429": traffic.requests.total(429),
            "max_concurrent": {
                f: max(gates[f].max_observed for gates in accounts.values()) for f in families
            },
            "in_flight": {
                f: sum(gates[f].in_flight for gates in accounts.values()) for f in families
            },
            "concurrency_rejections": {
                f: sum(gates[f].rejected for gates in accounts.values()) for f in families
            },
            "accounts": {
                account: {f: gate.describe() for f, gate in gates.items()}
                for account, gates in accounts.items()
            },
            "cursors": dict(state.cursor_stats),
            "faults_injected": dict(traffic.faults.injected),
            "stale_connection_resets": state.stale_connection_resets,
            "uploads": state.uploads.stats(),
        }
    )


def _json_array(items: list[bytes]) -> web.Response:
    return json_bytes(b"[" + b",".join(items) + b"]", content_type=JSON)


async def clevertap_events(request: web.Request) -> web.Response:
    """Events stored from /1/upload, in arrival order (duplicates included)."""
    return _json_array(request.app[STATE].uploads.events)


async def clevertap_profiles(request: web.Request) -> web.Response:
    """Profiles merged from /1/upload."""
    return _ok(request.app[STATE].uploads.profiles)


async def clevertap_upload_log(request: web.Request) -> web.Response:
    """One entry per /1/upload request: record count, statuses, dry run."""
    return _ok(request.app[STATE].uploads.log)


async def segment_stats(request: web.Request) -> web.Response:
    """Received, accepted, duplicates, drops and 400s by reason, 429s, gzip, batches, peaks."""
    state = request.app[STATE]
    traffic = state.traffic["segment"]
    return _ok(
        {
            **state.segment.stats(),
            "requests": traffic.requests.as_dict(),
            "max_concurrent": traffic.gates["api"].max_observed,
            "faults_injected": dict(traffic.faults.injected),
        }
    )


async def segment_messages(request: web.Request) -> web.Response:
    """Accepted messages, deduplicated by messageId, in arrival order."""
    return _json_array(list(request.app[STATE].segment.messages.values()))


async def segment_dropped(request: web.Request) -> web.Response:
    """Messages answered 200 and then dropped, each with its reason."""
    return _ok(request.app[STATE].segment.dropped)


def _requests_of(server: str) -> Any:
    async def handle(request: web.Request) -> web.Response:
        """The request log: `?since=<seq>` for later entries, `?limit=` for at most that many."""
        log = request.app[STATE].request_logs[server]
        params = query_params(request)
        try:
            since = int(params.get("since", "0"))
            limit = int(params["limit"]) if "limit" in params else None
            if since < 0 or (limit is not None and limit < 0):
                raise ValueError
        except ValueError:
            return _bad("since and limit must be integers >= 0 (since is a seq number)")
        return _ok(
            {
                "capacity": log.capacity,
                "max_bytes": log.max_bytes,
                "recorded": log.recorded,
                "requests": log.view(since, limit),
            }
        )

    return handle


def add_inspection_routes(app: web.Application) -> None:
    """Both emulators serve the same inspection API (faults default to the serving one)."""
    router = app.router
    router.add_get("/_sandbox/health", health)
    router.add_post("/_sandbox/reset", reset)
    router.add_get("/_sandbox/config", get_config)
    router.add_post("/_sandbox/config", set_config)
    router.add_post("/_sandbox/faults", set_faults)
    router.add_get("/_sandbox/seed/summary", summary)
    router.add_get("/_sandbox/seed/profile-count", profile_count)
    router.add_get("/_sandbox/seed/profile-object-ids", profile_object_ids)
    router.add_get("/_sandbox/seed/event-records", event_records)
    router.add_get("/_sandbox/clevertap/stats", clevertap_stats)
    router.add_get("/_sandbox/clevertap/events", clevertap_events)
    router.add_get("/_sandbox/clevertap/profiles", clevertap_profiles)
    router.add_get("/_sandbox/clevertap/upload-log", clevertap_upload_log)
    router.add_get("/_sandbox/clevertap/requests", _requests_of("clevertap"))
    router.add_get("/_sandbox/segment/stats", segment_stats)
    router.add_get("/_sandbox/segment/messages", segment_messages)
    router.add_get("/_sandbox/segment/dropped", segment_dropped)
    router.add_get("/_sandbox/segment/requests", _requests_of("segment"))
