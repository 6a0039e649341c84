"""CleverTap's other read endpoints (docs/clevertap-api.md §3).

Profile by id, counts, trends, top, real-time counts, campaigns, campaign reports, message
reports and the schema.
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from clevertap_segment_sandbox.catalog import EVENTS, PROFILE_PROPS
from clevertap_segment_sandbox.clevertap_export import (
    MALFORMED,
    QueryRejected,
    date_window,
    event_index_of,
    event_name_of,
    fail,
    filters_of,
)
from clevertap_segment_sandbox.clock import parse_yyyymmdd
from clevertap_segment_sandbox.http_common import STATE, json_body, parse_object, query_params
from clevertap_segment_sandbox.prng import key64
from clevertap_segment_sandbox.upload_rules import IDENTITY_KEYS

if TYPE_CHECKING:
    from clevertap_segment_sandbox.cql import Predicate
    from clevertap_segment_sandbox.state import SandboxState

Handler = Callable[[web.Request], Any]
MAX_CAMPAIGN_WINDOW_DAYS = 31
TREND_TYPES = ("daily", "weekly", "monthly")
PROPERTY_TYPES = (
    "event_properties",
    "session_properties",
    "profile_fields",
    "app_fields",
    "demographics",
    "technographics",
    "reachability",
    "geo_fields",
)
DEVICE_FIELDS = {
    "platform": "platform",
    "os_version": "os_version",
    "os version": "os_version",
    "app_version": "app_version",
    "app version": "app_version",
    "make": "make",
    "model": "model",
}


def rejecting(handler: Callable[[web.Request], Any]) -> Handler:
    """Turn QueryRejected into CleverTap's fail body."""

    async def handle(request: web.Request) -> web.Response:
        try:
            response: web.Response = await handler(request)
        except QueryRejected as rejected:
            return json_body(rejected.body, rejected.status)
        return response

    return handle


async def _query(request: web.Request) -> dict[str, Any]:
    query = parse_object(await request.read())
    if query is None:
        raise QueryRejected(MALFORMED, 400)
    return query


def _profile_view(stored: dict[str, Any]) -> dict[str, Any]:
    """A profile.json record for a profile that exists only through uploads."""
    data = dict(stored["profileData"])
    record: dict[str, Any] = {
        "identity": stored.get("identity", ""),
        "email": data.get("Email", ""),
        "name": data.get("Name", ""),
        "phone": data.get("Phone", ""),
    }
    if "objectId" in stored:
        record["objectId"] = stored["objectId"]
    record.update(profileData=data, events={}, platformInfo=[])
    return record


@rejecting
async def profile_by_id(request: web.Request) -> web.Response:
    """GET /1/profile.json with exactly one of email, identity, objectId; 404 when unknown."""
    state = request.app[STATE]
    params = query_params(request)
    given = {key: params[key] for key in ("email", "identity", "objectId") if params.get(key)}
    if len(given) != 1:
        raise fail("Exactly one of email, identity or objectId is required")
    key, value = next(iter(given.items()))
    seeded = state.profiles.find(
        identity=value if key == "identity" else "",
        email=value if key == "email" else "",
        object_id=value if key == "objectId" else "",
    )
    uploaded = state.uploads.find_profile(key, value)
    if seeded is None and uploaded is None:
        raise fail("Profile not found", 404)
    if seeded is None:
        assert uploaded is not None
        return json_body({"status": "success", "record": _profile_view(uploaded)})
    record = state.profiles.profile_record(seeded)
    if uploaded is not None:
        record["profileData"] = {**record["profileData"], **uploaded["profileData"]}
    return json_body({"status": "success", "record": record})


# A profile behind an event: a seeded profile's index, or the (id key, value) of an uploader
# unknown to the seed.
ProfileRef = int | tuple[str, str]
WindowEvent = tuple[date, ProfileRef, str, dict[str, Any]]


def _uploader(state: SandboxState, stored: dict[str, Any]) -> ProfileRef:
    """Who raised an uploaded event: the seeded profile with that identity/objectId if any."""
    key = next(k for k in IDENTITY_KEYS if k in stored)
    value = str(stored[key])
    seeded = None
    if key == "identity":
        seeded = state.profiles.find(identity=value)
    elif key == "objectId":
        seeded = state.profiles.find(object_id=value)
    return (key, value) if seeded is None else seeded


def _window_events(
    state: SandboxState, index: int, first: date, last: date, keep: Predicate | None
) -> Iterator[WindowEvent]:
    """Every event an events export of the window returns: seeded ones, then uploaded ones.

    Yields (local day, profile, session source, event_props); uploaded events have no session.
    """
    seeded = index < len(EVENTS)
    name = event_name_of(state, index)
    today = state.clock.today
    for day in state.history.window_days(first, last):
        if seeded:
            for profile, _, source, props in state.history.records_of(index, day, today):
                if keep is None or keep(props):
                    yield day, profile, source, props
        for raw in state.uploads.events_on(name or "", day.toordinal()):
            stored = orjson.loads(raw)
            props = stored.get("evtData") or {}
            if keep is None or keep(props):
                yield day, _uploader(state, stored), "", props


def _count(state: SandboxState, query: dict[str, Any], profiles: bool) -> int:
    index = event_index_of(query, exportable=False, state=state)
    first, last = date_window(state, query, allow_future=False)
    keep, _ = filters_of(query)
    if profiles:
        return len(
            {profile for _, profile, _, _ in _window_events(state, index, first, last, keep)}
        )
    if keep is None and index < len(EVENTS):
        name = EVENTS[index].name
        return sum(
            state.history.visible_count(index, day, state.clock.today)
            + len(state.uploads.events_on(name, day.toordinal()))
            for day in state.history.window_days(first, last)
        )
    return sum(1 for _ in _window_events(state, index, first, last, keep))


def _period(day: date, trend_type: str) -> str:
    if trend_type == "daily":
        return day.strftime("%Y%m%d")
    if trend_type == "weekly":
        year, week, _ = day.isocalendar()
        return f"{year}{week:02d}"
    return day.strftime("%Y%m")


def _trends(state: SandboxState, query: dict[str, Any]) -> dict[str, Any]:
    index = event_index_of(query, exportable=False, state=state)
    first, last = date_window(state, query, allow_future=False)
    keep, _ = filters_of(query)
    groups = query.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise fail("Mandatory parameter missing: groups")
    for name, group in groups.items():
        if not isinstance(group, dict) or group.get("trend_type") not in TREND_TYPES:
            raise fail(f"Invalid trend_type for group {name!r}: expected daily, weekly or monthly")
    unique = query.get("unique") is True
    sum_prop = query.get("sum_event_prop")
    result: dict[str, Any] = {"status": "success"}
    for name, group in groups.items():
        trend_type = group["trend_type"]
        totals: dict[str, float] = {}
        people: defaultdict[str, set[ProfileRef]] = defaultdict(set)
        for day in state.history.window_days(first, last):
            totals.setdefault(_period(day, trend_type), 0)
        for day, profile, _, props in _window_events(state, index, first, last, keep):
            period = _period(day, trend_type)
            if unique:
                people[period].add(profile)
            elif isinstance(sum_prop, str):
                value = props.get(sum_prop)
                if isinstance(value, int | float) and not isinstance(value, bool):
                    totals[period] += value
            else:
                totals[period] += 1
        if unique:
            result[name] = {period: len(people[period]) for period in totals}
        else:
            result[name] = {
                p: int(v) if float(v).is_integer() else round(v, 2) for p, v in totals.items()
            }
    return result


def _profile_field(state: SandboxState, profile: ProfileRef, name: str) -> object:
    """A profile property as CleverTap knows it now: uploaded values win over seeded ones."""
    if isinstance(profile, int):
        seeded = state.profiles.profile(profile)
        uploaded = (
            state.uploads.find_profile("identity", seeded.identity) if seeded.identity else None
        )
        if uploaded is not None and name in uploaded["profileData"]:
            return uploaded["profileData"][name]
        return seeded.profile_data.get(name)
    uploaded = state.uploads.find_profile(*profile)
    return None if uploaded is None else uploaded["profileData"].get(name)


def _top_value(state: SandboxState, property_type: str, name: str, event: WindowEvent) -> object:
    _, profile, source, props = event
    if property_type == "event_properties":
        return props.get(name)
    if property_type == "session_properties":
        return source if name == "session_source" and source else None
    if property_type == "profile_fields":
        return _profile_field(state, profile, name)
    if property_type in ("app_fields", "technographics") and isinstance(profile, int):
        attribute = DEVICE_FIELDS.get(name.lower())
        if attribute:
            return getattr(state.profiles.profile(profile).devices[0], attribute)
    return None


def _top(state: SandboxState, query: dict[str, Any]) -> dict[str, Any]:
    index = event_index_of(query, exportable=False, state=state)
    first, last = date_window(state, query, allow_future=False)
    keep, _ = filters_of(query)
    groups = query.get("groups")
    if not isinstance(groups, dict) or not groups:
        raise fail("Mandatory parameter missing: groups")
    counters: dict[str, Counter[str]] = {}
    for group_name, group in groups.items():
        if not isinstance(group, dict) or group.get("property_type") not in PROPERTY_TYPES:
            raise fail(f"Invalid property_type for group {group_name!r}")
        if not isinstance(group.get("name"), str):
            raise fail(f"Mandatory parameter missing: name of group {group_name!r}")
        counters[group_name] = Counter()
    for event in _window_events(state, index, first, last, keep):
        for group_name, group in groups.items():
            value = _top_value(state, group["property_type"], group["name"], event)
            if value is None or isinstance(value, list | dict):
                continue
            text = ("True" if value else "False") if isinstance(value, bool) else str(value)
            counters[group_name][text] += 1
    result: dict[str, Any] = {"status": "success"}
    for group_name, group in groups.items():
        top_n = group.get("top_n", 10)
        ascending = group.get("order") == "asc"
        ranked = sorted(
            counters[group_name].items(), key=lambda kv: (kv[1] if ascending else -kv[1], kv[0])
        )
        result[group_name] = dict(ranked[: top_n if isinstance(top_n, int) and top_n > 0 else 10])
    return result


def counts_handler(compute: Callable[[SandboxState, dict[str, Any]], dict[str, Any]]) -> Handler:
    """POST answers {"status": "partial", "req_id": N}; GET ?req_id=N polls until success."""

    @rejecting
    async def handle(request: web.Request) -> web.Response:
        state = request.app[STATE]
        params = query_params(request)
        if "req_id" in params:
            try:
                req_id = int(params["req_id"])
            except ValueError:
                raise fail("Invalid req_id") from None
            answer = state.polls.poll(req_id)
            if answer is None:
                raise fail("Invalid or expired req_id: re-issue the query")
            return json_body(answer)
        if request.method == "GET":
            raise fail("Mandatory parameter missing: req_id")
        result = compute(state, await _query(request))
        return json_body({"status": "partial", "req_id": state.polls.submit(result)})

    return handle


def event_count(state: SandboxState, query: dict[str, Any]) -> dict[str, Any]:
    """/1/counts/events.json: events in the window (after filters)."""
    return {"status": "success", "count": _count(state, query, profiles=False)}


def profile_count(state: SandboxState, query: dict[str, Any]) -> dict[str, Any]:
    """/1/counts/profiles.json: distinct profiles who did the event in the window."""
    return {"status": "success", "count": _count(state, query, profiles=True)}


trends = counts_handler(_trends)
top_counts = counts_handler(_top)
event_counts = counts_handler(event_count)
profile_counts = counts_handler(profile_count)


@rejecting
async def now_counts(request: web.Request) -> web.Response:
    """POST /1/now.json: users active in the last five minutes (varies by minute, seeded)."""
    state = request.app[STATE]
    query = await _query(request)
    users = 20 + key64(state.settings.seed, "now", int(time.time() // 60)) % 180
    result: dict[str, Any] = {"status": "success", "users": users}
    splits = {
        "user_type": ("new", "returning"),
        "session_source": ("Direct", "Organic", "Referral"),
        "browser": ("Chrome", "Safari", "Firefox"),
        "os": ("Android", "iOS"),
        "device": ("Mobile", "Tablet", "Desktop"),
    }
    for key, names in splits.items():
        if query.get(key) is True:
            share = users // len(names)
            result[key] = dict.fromkeys(names, share)
            result[key][names[0]] += users - share * len(names)
    return json_body(result)


def _campaign_window(state: SandboxState, query: dict[str, Any]) -> tuple[date, date]:
    first, last = date_window(state, query, allow_future=True)
    if (last - first).days + 1 > MAX_CAMPAIGN_WINDOW_DAYS:
        raise fail(
            "Date range cannot exceed 31 days; query campaigns in windows of 31 days or less"
        )
    return first, last


@rejecting
async def campaigns_list(request: web.Request) -> web.Response:
    """POST /1/targets/list.json: campaigns scheduled to start inside the window (inclusive)."""
    state = request.app[STATE]
    first, last = _campaign_window(state, await _query(request))
    today = state.clock.today
    targets = [c.listing(today) for c in state.campaigns if first <= c.scheduled_on <= last]
    return json_body({"status": "success", "targets": targets})


@rejecting
async def campaign_result(request: web.Request) -> web.Response:
    """POST /1/targets/result.json: the report, or one of three "not completed" answers."""
    state = request.app[STATE]
    query = await _query(request)
    campaign_id = query.get("id")
    campaign = next((c for c in state.campaigns if c.id == campaign_id), None)
    if campaign is None:
        raise fail("Invalid campaign id")
    form = campaign.report_form(state.clock.today)
    if form == "result":
        return json_body({"status": "success", "result": campaign.result()})
    if form == "conflict_409":
        raise fail("Campaign has not been completed", 409)
    if form == "no_result_yet_500":
        raise fail("This target has no result as of yet", 500)
    return json_body(
        {"status": "success", "error": "This target hasn't been completed", "code": 200}
    )


def _choices(value: object) -> set[str] | None:
    if value is None:
        return None
    if isinstance(value, list):
        return {str(v) for v in value}
    return {part.strip() for part in str(value).split(",")}


@rejecting
async def message_report(request: web.Request) -> web.Response:
    """POST /1/message/report.json: key "messages", items keyed "message id"; `daily` splits."""
    state = request.app[STATE]
    query = await _query(request)
    bounds = []
    for key in ("from", "to"):
        day = parse_yyyymmdd(query.get(key))
        if day is None:
            raise fail(f"Mandatory parameter missing or invalid: {key} (YYYYMMDD)")
        bounds.append(day)
    first, last = bounds
    if first > last:
        raise fail("from date cannot be after to date")
    wanted = {
        key: _choices(query.get(key)) for key in ("channel", "delivery", "status", "message_type")
    }
    labels = _choices(query.get("label"))
    rows = []
    for message in state.messages:
        if any(
            choices is not None and getattr(message, key) not in choices
            for key, choices in wanted.items()
        ):
            continue
        if labels is not None and not labels & set(message.labels):
            continue
        if message.start > last or message.start + timedelta(days=message.days - 1) < first:
            continue
        rows += message.report(first, last, query.get("daily") is True)
    return json_body({"status": "success", "messages": rows})


@rejecting
async def get_schema(request: web.Request) -> web.Response:
    """GET /getSchema?type=events|userProperties: the account's names in its history order.

    Seeded names come first (the account's past), then every name uploads introduced, spelled
    exactly as uploaded, in the order first received: per event for event properties (seeded
    events included), and for profile properties.
    """
    state = request.app[STATE]
    uploads = state.uploads
    kind = query_params(request).get("type")
    if kind == "events":
        events = []
        for event in EVENTS:
            properties = {p.name: p.type for p in event.props}
            for name, type_ in uploads.event_schema.get(event.name, {}).items():
                properties.setdefault(name, type_)
            events.append(
                {"name": event.name, "type": event.kind, "properties": _listed(properties)}
            )
        known = {event.name for event in EVENTS}
        events += [
            {"name": name, "type": "custom", "properties": _listed(properties)}
            for name, properties in uploads.event_schema.items()
            if name not in known
        ]
        return json_body({"status": "success", "events": events})
    if kind == "userProperties":
        properties = {p.name: p.type for p in PROFILE_PROPS}
        for name, type_ in uploads.profile_schema.items():
            properties.setdefault(name, type_)
        return json_body({"status": "success", "userProperties": _listed(properties)})
    raise fail("Invalid type: expected events or userProperties")


def _listed(properties: dict[str, str]) -> list[dict[str, str]]:
    return [{"name": name, "type": type_} for name, type_ in properties.items()]
