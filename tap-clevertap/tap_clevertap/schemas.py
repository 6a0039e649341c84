"""Stream schemas: precise types for the fixed fields, open objects for free-form properties."""

from __future__ import annotations

import copy
import typing as t

_OPEN: dict[str, t.Any] = {"type": ["object", "null"], "additionalProperties": True}


def _s(*types: str, fmt: str | None = None) -> dict[str, t.Any]:
    schema: dict[str, t.Any] = {"type": [*types, "null"]}
    if fmt:
        schema["format"] = fmt
    return schema


def open_object(properties: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    """An object that accepts any property, with the known ones typed."""
    schema = copy.deepcopy(_OPEN)
    if properties:
        schema["properties"] = properties
    return schema


#: ``all_identities`` is a string in some captures and a list in others.
_IDENTITIES: dict[str, t.Any] = {"type": ["string", "array", "null"], "items": {"type": "string"}}

_PROFILE_SCALARS = (
    "objectId",
    "identity",
    "name",
    "email",
    "phone",
    "push_token",
    "platform",
    "os_version",
    "app_version",
    "make",
    "model",
)


def event_schema(
    event_props: dict[str, t.Any] | None = None,
    profile_data: dict[str, t.Any] | None = None,
) -> dict[str, t.Any]:
    """Schema of the ``events`` stream."""
    profile = open_object(
        {
            **{name: _s("string") for name in _PROFILE_SCALARS},
            "all_identities": _IDENTITIES,
            "df": open_object(),
            "profileData": open_object(profile_data),
            "events": open_object(),
        }
    )
    return {
        "type": "object",
        "properties": {
            "event_id": {"type": "string"},
            "event_name": {"type": "string"},
            "event_time": _s("string", fmt="date-time"),
            "event_date": _s("string", fmt="date"),
            "ts": _s("integer"),
            "profile": profile,
            "event_props": open_object(event_props),
            "session_props": open_object(),
            "extra_fields": open_object(),
        },
        "required": ["event_id", "event_name"],
    }


def profile_schema(profile_data: dict[str, t.Any] | None = None) -> dict[str, t.Any]:
    """Schema of the ``profiles`` stream."""
    platform = open_object(
        {
            name: _s("string")
            for name in (
                "objectId",
                "platform",
                "os_version",
                "app_version",
                "make",
                "model",
                "push_token",
            )
        }
    )
    return {
        "type": "object",
        "properties": {
            "objectId": {"type": "string"},
            "identity": _s("string"),
            "email": _s("string"),
            "name": _s("string"),
            "phone": _s("string"),
            "all_identities": _IDENTITIES,
            "profileData": open_object(profile_data),
            "events": open_object(),
            "platformInfo": {"type": ["array", "null"], "items": platform},
            "sweep_date": {"type": "string", "format": "date"},
            "extra_fields": open_object(),
        },
        "required": ["objectId", "sweep_date"],
    }


_TYPE_MAP = {
    "string": "string",
    "str": "string",
    "text": "string",
    "number": "number",
    "numeric": "number",
    "float": "number",
    "double": "number",
    "integer": "number",
    "int": "number",
    "long": "number",
    "boolean": "boolean",
    "bool": "boolean",
    "array": "array",
    "list": "array",
    "string[]": "array",
    "string_array": "array",
    "multi-value": "array",
}
UNTYPED = "?"
"""Marker for a property whose /getSchema type has no safe JSON mapping (e.g. "date")."""


def json_type(clevertap_type: t.Any) -> str:
    """Map a /getSchema property type to a JSON type, or UNTYPED when there is no safe mapping."""
    if not isinstance(clevertap_type, str):
        return UNTYPED
    return _TYPE_MAP.get(clevertap_type.strip().lower(), UNTYPED)


def merge_property_types(seen: dict[str, set[str]]) -> dict[str, t.Any]:
    """Turn {property: {json types}} into JSON schema properties.

    A name typed differently by different events gets the union of the types; a name with any
    type that has no safe mapping stays untyped (accepted as-is by the open object).
    """
    properties: dict[str, t.Any] = {}
    for name in sorted(seen):
        types = seen[name]
        if not types or UNTYPED in types:
            continue
        schema: dict[str, t.Any] = {"type": [*sorted(types), "null"]}
        if "array" in types:
            schema["items"] = {}
        properties[name] = schema
    return properties


def audience_member_schema() -> dict[str, t.Any]:
    """Schema of the ``audience_members`` stream: one membership change per record."""
    return {
        "type": "object",
        "properties": {
            "audience": {"type": "string"},
            "audience_key": {"type": "string"},
            "objectId": {"type": "string"},
            "identity": _s("string"),
            "change": {"type": "string", "enum": ["entered", "exited", "member"]},
            "in_audience": {"type": "boolean"},
            "event_name": {"type": "string"},
            "window_from": {"type": "string", "format": "date"},
            "window_to": {"type": "string", "format": "date"},
            "generation": {"type": "integer"},
            "generation_id": {"type": "string"},
            "computed_at": {"type": "string", "format": "date-time"},
        },
        "required": [
            "audience",
            "audience_key",
            "objectId",
            "change",
            "in_audience",
            "window_from",
            "window_to",
            "generation",
            "generation_id",
            "computed_at",
        ],
    }
