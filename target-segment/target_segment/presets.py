"""Ready-made mappings, and how the configured mappings of a run are resolved.

The CleverTap presets replace CleverTap's "Export to Segment" for tap-clevertap's streams:
- ``clevertap_events``: each event becomes a ``track`` call named after the CleverTap event, at the
  event's own time (a historical import, see Segment's import guide); the person's CleverTap
  identity is the ``userId`` and the device's CleverTap ID (objectId) the ``anonymousId``, as the
  "User ID"/"Anonymous ID" choice in CleverTap's Segment export; event properties are the call's
  properties, session properties are merged in (an event property of the same name wins); the
  device fields of the profile go to Segment's standard context fields.
- ``clevertap_profiles``: each profile becomes an ``identify`` call whose traits are its custom
  profile data, with CleverTap's standard fields under Segment's reserved trait names (Name -> name,
  Email -> email, Phone -> phone, Gender -> gender, DOB -> birthday, Photo -> avatar, Age -> age).
Both turn CleverTap date values (``"$D_<epoch seconds>"``) into ISO 8601.
- ``clevertap_audiences`` (for ``audience_members``): Segment's own format for computed audiences
  (Engage, "Using Engage Data"): for each member who entered or exited, an ``identify`` whose
  trait ``<audience_key>`` is true or false, and a ``track`` "Audience Entered" / "Audience
  Exited" with properties ``audience_key`` and ``<audience_key>``, both at the time the audience
  was computed, with messageIds from (audience, member, generation) so a re-sent change is
  dropped by Segment. Unchanged members (change ``member``) get no call, as Engage sends only
  changes after the first sync. Its halves are ``clevertap_audience_identify`` and
  ``clevertap_audience_track``.
Every key of a preset can be overridden in the stream's mapping, e.g. ``user_id`` (next to a
preset of several calls, the keys apply to each call).
"""

from __future__ import annotations

import copy
import typing as t

from target_segment.mapping import MappingConfigError, StreamMapping, parse_calls

CLEVERTAP_TRAIT_NAMES: t.Final = {
    "Name": "name",
    "Email": "email",
    "Phone": "phone",
    "Gender": "gender",
    "DOB": "birthday",
    "Photo": "avatar",
    "Age": "age",
}

PRESETS: t.Final[dict[str, dict[str, t.Any]]] = {
    "clevertap_events": {
        "type": "track",
        "event": "event_name",
        "user_id": "profile.identity",
        "anonymous_id": "profile.objectId",
        "timestamp": "event_time",
        "properties": {"from": "event_props", "merge": ["session_props"]},
        "context": {
            "fields": {
                "os.name": "profile.platform",
                "os.version": "profile.os_version",
                "app.version": "profile.app_version",
                "device.manufacturer": "profile.make",
                "device.model": "profile.model",
                "device.token": "profile.push_token",
            }
        },
        "message_id": "key",
        "clevertap_dates": True,
    },
    "clevertap_profiles": {
        "type": "identify",
        "user_id": "identity",
        "anonymous_id": ["objectId", "platformInfo.0.objectId"],
        "traits": {
            "from": "profileData",
            "rename": CLEVERTAP_TRAIT_NAMES,
            "fields": {"name": "name", "email": "email", "phone": "phone"},
        },
        "message_id": "content",
        "clevertap_dates": True,
    },
    "clevertap_audience_identify": {
        "type": "identify",
        "user_id": "identity",
        "anonymous_id": "objectId",
        "timestamp": "computed_at",
        "traits": {"keyed": {"audience_key": "in_audience"}},
        "message_id": "key",
        "when": {"change": ["entered", "exited"]},
    },
    "clevertap_audience_track": {
        "type": "track",
        "user_id": "identity",
        "anonymous_id": "objectId",
        "timestamp": "computed_at",
        "event": {
            "field": "change",
            "map": {"entered": "Audience Entered", "exited": "Audience Exited"},
        },
        "properties": {
            "fields": {"audience_key": "audience_key"},
            "keyed": {"audience_key": "in_audience"},
        },
        "message_id": "key",
        "when": {"change": ["entered", "exited"]},
    },
    "clevertap_audiences": {
        "calls": [
            {"preset": "clevertap_audience_identify"},
            {"preset": "clevertap_audience_track"},
        ]
    },
}

# `mapping_preset` values: stream name -> mapping, merged under the user's `stream_mappings`.
STREAM_PRESETS: t.Final[dict[str, dict[str, dict[str, t.Any]]]] = {
    "none": {},
    "clevertap": {
        "events": {"preset": "clevertap_events"},
        "profiles": {"preset": "clevertap_profiles"},
        "audience_members": {"preset": "clevertap_audiences"},
    },
}


def apply_preset(raw: t.Any, where: str, stream: str | None = None) -> t.Any:
    """The mapping with its ``preset`` expanded (the mapping's own keys override the preset's).

    ``"clevertap"`` picks the CleverTap preset of the stream's name (events, profiles or
    audience_members). Presets inside ``calls`` are expanded too; keys next to a preset of
    several calls apply to each of them.
    """
    if isinstance(raw, dict) and isinstance(raw.get("calls"), list):
        calls = [apply_preset(call, f"{where}.calls[{i}]") for i, call in enumerate(raw["calls"])]
        return {**raw, "calls": calls}
    if not isinstance(raw, dict) or "preset" not in raw:
        return raw
    name = raw["preset"]
    if name == "clevertap" and stream is not None:
        name = STREAM_PRESETS["clevertap"].get(stream, {}).get("preset", name)
    if name not in PRESETS:
        msg = (
            f"{where}.preset must be one of {', '.join(PRESETS)} (or clevertap for the streams "
            f"{', '.join(STREAM_PRESETS['clevertap'])}); got {name!r}."
        )
        raise MappingConfigError(msg)
    overrides = {k: v for k, v in raw.items() if k != "preset"}
    expanded = apply_preset(copy.deepcopy(PRESETS[name]), where)
    if "calls" in expanded:
        return {"calls": [{**call, **overrides} for call in expanded["calls"]]}
    return {**expanded, **overrides}


class MappingSet:
    """Every stream's mapping for this run, plus the fallback for streams not listed."""

    def __init__(
        self,
        stream_mappings: t.Mapping[str, t.Any] | None,
        default_mapping: t.Any,
        mapping_preset: str = "none",
    ) -> None:
        if mapping_preset not in STREAM_PRESETS:
            msg = (
                f"mapping_preset must be one of {', '.join(STREAM_PRESETS)}; "
                f"got {mapping_preset!r}."
            )
            raise MappingConfigError(msg)
        if stream_mappings is not None and not isinstance(stream_mappings, dict):
            msg = "stream_mappings must be an object: stream name -> mapping."
            raise MappingConfigError(msg)
        configured = {**STREAM_PRESETS[mapping_preset], **(stream_mappings or {})}
        self._by_stream: dict[str, tuple[StreamMapping, ...] | None] = {
            stream: parse_calls(
                apply_preset(raw, f"stream_mappings['{stream}']", stream),
                f"stream_mappings['{stream}']",
            )
            for stream, raw in configured.items()
        }
        self._default: tuple[StreamMapping, ...] | None = None
        self._has_default = default_mapping is not None
        if self._has_default:
            self._default = parse_calls(
                apply_preset(default_mapping, "default_mapping"), "default_mapping"
            )

    @property
    def max_calls(self) -> int:
        """The most calls one record of any stream becomes."""
        mappings = [*self._by_stream.values(), self._default]
        return max((len(calls) for calls in mappings if calls), default=1)

    def for_stream(self, stream: str) -> tuple[bool, tuple[StreamMapping, ...] | None]:
        """(known, calls): unknown streams have neither an entry nor a default_mapping."""
        if stream in self._by_stream:
            return True, self._by_stream[stream]
        return self._has_default, self._default
