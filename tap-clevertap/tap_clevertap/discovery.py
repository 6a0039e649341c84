"""Reading GET /getSchema: the account's event names and the types of known properties."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from clevertap_segment_common.clevertap_schema import (
    NAME_KEYS,
    PROPS_KEYS,
    TYPE_KEYS,
    events_of,
    schema_items,
    schema_properties,
    user_properties_of,
)

from tap_clevertap.schemas import json_type, merge_property_types


@dataclass(slots=True)
class AccountSchema:
    """What /getSchema says: event names (in the API's order) and property types."""

    event_names: list[str] = field(default_factory=list)
    event_properties: dict[str, t.Any] = field(default_factory=dict)
    profile_properties: dict[str, t.Any] = field(default_factory=dict)


def parse_events_schema(doc: dict[str, t.Any]) -> tuple[list[str], dict[str, t.Any]]:
    """Event names and merged event-property JSON schemas from a ``type=events`` answer."""
    names: list[str] = []
    seen: dict[str, set[str]] = {}
    for name, meta in schema_items(events_of(doc)):
        if name not in names:
            names.append(name)
        if isinstance(meta, dict):
            props = next((meta[k] for k in PROPS_KEYS if k in meta), None)
            for prop_name, prop_type in schema_properties(props):
                seen.setdefault(prop_name, set()).add(json_type(prop_type))
    return names, merge_property_types(seen)


def parse_profile_schema(doc: dict[str, t.Any]) -> dict[str, t.Any]:
    """Merged profile-property JSON schemas from a ``type=userProperties`` answer."""
    seen: dict[str, set[str]] = {}
    for prop_name, prop_type in schema_properties(user_properties_of(doc)):
        seen.setdefault(prop_name, set()).add(json_type(prop_type))
    return merge_property_types(seen)


def event_schema_rows(doc: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """One ``event_schema`` record per event of a ``type=events`` answer (first listing wins)."""
    rows: dict[str, dict[str, t.Any]] = {}
    for name, meta in schema_items(events_of(doc)):
        if name in rows:
            continue
        info = meta if isinstance(meta, dict) else {}
        raw_props = next((info[k] for k in PROPS_KEYS if k in info), None)
        rows[name] = {
            "event_name": name,
            "event_type": _text(info.get("type")),
            "properties": [
                {"name": n, "type": _text(kind)} for n, kind in schema_properties(raw_props)
            ],
            "extra_fields": _extra(info, {*NAME_KEYS, *PROPS_KEYS, "type"}),
        }
    return list(rows.values())


def user_property_rows(doc: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """One ``user_property_schema`` record per property of a ``type=userProperties`` answer."""
    rows: dict[str, dict[str, t.Any]] = {}
    for name, meta in schema_items(user_properties_of(doc)):
        if name in rows:
            continue
        info = meta if isinstance(meta, dict) else {"type": meta}
        kind = next((info[k] for k in TYPE_KEYS if k in info), None)
        rows[name] = {
            "name": name,
            "type": _text(kind),
            "extra_fields": _extra(info, {*NAME_KEYS, *TYPE_KEYS}),
        }
    return list(rows.values())


def _text(value: t.Any) -> str | None:
    return None if value is None else str(value)


def _extra(info: dict[str, t.Any], known: set[str]) -> dict[str, t.Any] | None:
    return {k: v for k, v in info.items() if k not in known} or None
