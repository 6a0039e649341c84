"""tap-clevertap's ``events`` and ``profiles`` streams, loaded into another CleverTap account.

Events are addressed by the source profile's identity (objectIds are per account; used only when
the profile has no identity); their time comes from ``event_time`` (UTC) or else the packed
``ts`` in the configured timezone. Profiles send ``profileData`` plus the top-level name, email
and phone as Name, Email and Phone.
"""

from __future__ import annotations

import typing as t

from target_clevertap.presets.base import (
    Mapped,
    MappingConfigError,
    StreamContext,
    identifier,
    rejected,
    require_identity,
    timestamp_or_reject,
)
from target_clevertap.rules import EVENT_NAME_MISSING, INVALID_TIMESTAMP, NESTED_VALUE
from target_clevertap.values import epoch_seconds, packed_local_time

PROFILE_FIELDS = {"name": "Name", "email": "Email", "phone": "Phone"}


def _object(record: dict[str, t.Any], field: str) -> dict[str, t.Any]:
    value = record.get(field)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise rejected(NESTED_VALUE, f"'{field}' must be an object", field=field)
    return {k: v for k, v in value.items() if v is not None}


class CleverTapPreset:
    """Records with ``event_name`` are events; all others are profiles."""

    trims_values = False

    def __init__(self, options: t.Mapping[str, t.Any], context: StreamContext) -> None:
        if set(options) - {"preset"}:
            msg = f"stream '{context.stream}': the clevertap preset takes no options."
            raise MappingConfigError(msg)
        self.context = context

    def map(self, record: dict[str, t.Any]) -> Mapped:
        """One upload per exported event or profile."""
        if "event_name" in record:
            return self._event(record)
        return self._profile(record)

    def _event(self, record: dict[str, t.Any]) -> Mapped:
        profile = _object(record, "profile")
        mapped = Mapped(kind="event", identity=identifier(profile.get("identity")))
        if mapped.identity is None:
            mapped.object_id = identifier(profile.get("objectId"))
        require_identity(mapped, "profile.identity and profile.objectId")
        name = identifier(record.get("event_name"))
        if name is None:
            raise rejected(EVENT_NAME_MISSING, "'event_name' is empty", field="event_name")
        mapped.event_name = name
        tz = self.context.timezone
        if record.get("event_time") is not None:
            moment = record["event_time"]
            mapped.ts = timestamp_or_reject(lambda: epoch_seconds(moment, tz), "event_time")
        elif record.get("ts") is not None:
            packed = record["ts"]
            mapped.ts = timestamp_or_reject(lambda: packed_local_time(packed, tz), "ts")
        else:
            raise rejected(INVALID_TIMESTAMP, "neither 'event_time' nor 'ts' is set", field="ts")
        mapped.data = _object(record, "event_props")
        mapped.source_id = identifier(record.get("event_id"))
        return mapped

    def _profile(self, record: dict[str, t.Any]) -> Mapped:
        mapped = Mapped(kind="profile", identity=identifier(record.get("identity")))
        if mapped.identity is None:
            mapped.object_id = identifier(record.get("objectId"))
        require_identity(mapped, "identity and objectId")
        data = _object(record, "profileData")
        for source, target in PROFILE_FIELDS.items():
            value = record.get(source)
            if value not in (None, "") and target not in data:
                data[target] = value
        mapped.data = data
        return mapped
