"""What the CleverTap emulator received through /1/upload: events appended, profiles merged."""

from __future__ import annotations

from dataclasses import dataclass, field
from hashlib import blake2b
from typing import Any

import orjson

from clevertap_segment_sandbox.catalog import EVENT_INDEX
from clevertap_segment_sandbox.upload_rules import IDENTITY_KEYS, MAX_MULTI_VALUES, stored_value

SCHEMA_TYPES = {bool: "boolean", int: "integer", float: "float", str: "string"}


def schema_type(value: object) -> str:
    """The getSchema type of an uploaded value."""
    if isinstance(value, dict) and "$date" in value:
        return "date"
    if isinstance(value, list):
        return "object_array" if any(isinstance(v, dict) for v in value) else "string_array"
    return SCHEMA_TYPES.get(type(value), "string")


@dataclass
class UploadStore:
    """Stored uploads plus the counters tests compare against.

    Events are kept as JSON bytes: millions of them cost no garbage-collector time.
    """

    events: list[bytes] = field(default_factory=list)
    fingerprints: dict[bytes, int] = field(default_factory=dict)
    profiles: list[dict[str, Any]] = field(default_factory=list)
    log: list[dict[str, Any]] = field(default_factory=list)
    # Property names as uploaded (spelling kept), in the order first received: getSchema lists
    # them after the seeded names, as the account's history.
    event_schema: dict[str, dict[str, str]] = field(default_factory=dict)
    profile_schema: dict[str, str] = field(default_factory=dict)
    _index: dict[tuple[str, str], int] = field(default_factory=dict)
    # Uploaded events are exportable like any other (Get Events serves what the API received):
    # (event name, local day ordinal) -> positions in `events`; names unknown to the seed get an
    # index after the seeded catalogue so export cursors can carry them.
    by_event_day: dict[tuple[str, int], list[int]] = field(default_factory=dict)
    uploaded_event_names: list[str] = field(default_factory=list)
    records_received: int = 0
    records_rejected: int = 0
    profile_updates: int = 0

    def add_event(self, record: dict[str, Any], now: float, local_day: int) -> None:
        """Append an event; an identical record sent twice is stored twice, like CleverTap.

        `local_day` is the ordinal of the event's day in the account timezone (for exports).
        """
        fingerprint = blake2b(orjson.dumps(record, option=orjson.OPT_SORT_KEYS), digest_size=16)
        digest = fingerprint.digest()
        self.fingerprints[digest] = self.fingerprints.get(digest, 0) + 1
        data = record.get("evtData") or {}
        if any(v.__class__ is str and v.startswith("$D_") for v in data.values()):
            data = {key: stored_value(value) for key, value in data.items()}
        stored = {key: record[key] for key in IDENTITY_KEYS if key in record}
        stored["evtName"] = name = record["evtName"]
        stored["evtData"] = data
        stored["ts"] = record.get("ts") or int(now)
        stored["received_at"] = now
        self.by_event_day.setdefault((name, local_day), []).append(len(self.events))
        self.events.append(orjson.dumps(stored))
        if name not in EVENT_INDEX and name not in self.uploaded_event_names:
            self.uploaded_event_names.append(name)
        properties = self.event_schema.get(name)
        if properties is None or not properties.keys() >= data.keys():
            properties = self.event_schema.setdefault(name, {})
            for key, value in data.items():
                if key not in properties:
                    properties[key] = schema_type(value)

    def _find(self, record: dict[str, Any]) -> dict[str, Any] | None:
        for key in IDENTITY_KEYS:
            if key in record and record[key] not in ("", None):
                position = self._index.get((key, str(record[key])))
                return None if position is None else self.profiles[position]
        return None

    def upsert_profile(self, record: dict[str, Any], now: float) -> None:
        """Merge into the profile with the same identity/objectId; keys are never removed."""
        profile = self._find(record)
        if profile is None:
            profile = {key: str(record[key]) for key in IDENTITY_KEYS if key in record}
            profile.update(profileData={}, created_ts=record.get("ts") or int(now), uploads=0)
            self.profiles.append(profile)
            for key in IDENTITY_KEYS:
                if key in profile:
                    self._index[(key, profile[key])] = len(self.profiles) - 1
        position = self._index[next((k, profile[k]) for k in IDENTITY_KEYS if k in profile)]
        data = profile["profileData"]
        for key, value in record.get("profileData", {}).items():
            data[key] = merged_value(data.get(key), value)
            if key not in self.profile_schema:
                self.profile_schema[key] = schema_type(data[key])
            if key.lower() == "identity" and isinstance(value, str | int) and value != "":
                profile["identity"] = str(value)
                self._index[("identity", str(value))] = position
        profile["updated_ts"] = record.get("ts") or int(now)
        profile["uploads"] += 1
        self.profile_updates += 1

    def events_on(self, name: str, day: int) -> list[bytes]:
        """Stored events of one name on one local day (ordinal), in arrival order."""
        return [self.events[i] for i in self.by_event_day.get((name, day), ())]

    def find_profile(self, key: str, value: str) -> dict[str, Any] | None:
        """A stored profile by identity, objectId or (profileData) Email."""
        if key == "email":
            return next((p for p in self.profiles if p["profileData"].get("Email") == value), None)
        position = self._index.get((key, value))
        return None if position is None else self.profiles[position]

    def stats(self) -> dict[str, int]:
        """Counters: duplicates are events stored more than once with identical content."""
        distinct = len(self.fingerprints)
        return {
            "requests": len(self.log),
            "dry_run_requests": sum(1 for entry in self.log if entry["dry_run"]),
            "records_received": self.records_received,
            "records_rejected": self.records_rejected,
            "events_stored": len(self.events),
            "distinct_event_fingerprints": distinct,
            "duplicate_events": len(self.events) - distinct,
            "profiles_stored": len(self.profiles),
            "profile_updates": self.profile_updates,
        }


def merged_value(current: object, update: object) -> object:
    """Apply one profileData value the way CleverTap merges it ($add/$remove/$incr/$decr)."""
    if isinstance(update, dict) and len(update) == 1:
        ((operation, argument),) = update.items()
        if operation in ("$incr", "$decr"):
            base = (
                current if isinstance(current, int | float) and not isinstance(current, bool) else 0
            )
            return base + argument if operation == "$incr" else base - argument
        if operation in ("$add", "$remove"):
            values = argument if isinstance(argument, list) else [argument]
            existing = (
                list(current) if isinstance(current, list) else [] if current is None else [current]
            )
            if operation == "$add":
                existing += [v for v in values if v not in existing]
                return existing[-MAX_MULTI_VALUES:]
            return [v for v in existing if v not in values]
    if isinstance(update, list):
        unique: list[object] = []
        for item in update:
            if item not in unique:
                unique.append(item)
        return unique[-MAX_MULTI_VALUES:]
    return stored_value(update)
