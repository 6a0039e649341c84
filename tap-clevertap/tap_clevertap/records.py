"""Turning CleverTap export records into stream records."""

from __future__ import annotations

import typing as t

from tap_clevertap.event_ids import event_id
from tap_clevertap.localtime import ts_to_utc

if t.TYPE_CHECKING:
    import zoneinfo

    from tap_clevertap.event_ids import OccurrenceIds

_EVENT_KEYS = frozenset({"ts", "profile", "event_props", "session_props"})
_PROFILE_KEYS = frozenset(
    {
        "objectId",
        "identity",
        "email",
        "name",
        "phone",
        "all_identities",
        "profileData",
        "events",
        "platformInfo",
    }
)


def build_event(
    raw: dict[str, t.Any],
    event_name: str,
    tz: zoneinfo.ZoneInfo,
    ids: OccurrenceIds | None = None,
) -> dict[str, t.Any]:
    """One ``events`` record from one export record (unknown top-level keys go to extra_fields).

    ``ids`` numbers repeated identical records of the (event, day) being read; without it every
    record gets the plain id.
    """
    ts = raw.get("ts")
    profile = raw.get("profile")
    props = raw.get("event_props")
    object_id = profile.get("objectId") if isinstance(profile, dict) else None
    converted = ts_to_utc(ts, tz)
    make_id = event_id if ids is None else ids.event_id
    record: dict[str, t.Any] = {
        "event_id": make_id(object_id, ts, event_name, props),
        "event_name": event_name,
        "event_time": converted[0] if converted else None,
        "event_date": converted[1] if converted else None,
        "ts": ts if isinstance(ts, int) and not isinstance(ts, bool) else None,
        "profile": profile,
        "event_props": props,
        "session_props": raw.get("session_props"),
        "extra_fields": None,
    }
    if len(raw) > len(_EVENT_KEYS) or not _EVENT_KEYS.issuperset(raw):
        extra = {k: v for k, v in raw.items() if k not in _EVENT_KEYS}
        record["extra_fields"] = extra or None
    return record


def profile_object_id(raw: dict[str, t.Any]) -> str | None:
    """Top-level objectId, else the first platformInfo[].objectId (device-matched profiles)."""
    object_id = raw.get("objectId")
    if isinstance(object_id, str) and object_id:
        return object_id
    platforms = raw.get("platformInfo")
    if isinstance(platforms, list):
        for platform in platforms:
            if isinstance(platform, dict):
                candidate = platform.get("objectId")
                if isinstance(candidate, str) and candidate:
                    return candidate
    return None


def build_profile(raw: dict[str, t.Any], object_id: str, sweep_date: str) -> dict[str, t.Any]:
    """One ``profiles`` record (current profile state) from one profiles-export record."""
    record: dict[str, t.Any] = {
        "objectId": object_id,
        "identity": raw.get("identity"),
        "email": raw.get("email"),
        "name": raw.get("name"),
        "phone": raw.get("phone"),
        "all_identities": raw.get("all_identities"),
        "profileData": raw.get("profileData"),
        "events": raw.get("events"),
        "platformInfo": raw.get("platformInfo"),
        "sweep_date": sweep_date,
        "extra_fields": {k: v for k, v in raw.items() if k not in _PROFILE_KEYS} or None,
    }
    return record
