"""Reading CleverTap's ``GET /getSchema`` answers, whatever shape the lists take.

``type=events`` wraps the account's events in ``events`` and ``type=userProperties`` the custom
profile properties in ``userProperties`` (CleverTap's Get Schema page,
https://developer.clevertap.com/docs/get-schema, and bruin-data/ingestr
``pkg/source/clevertap/clevertap.go`` ``readSchema``). The item shapes are not documented in full,
so names are taken from lists of strings, lists of objects (``name``, ``eventName``, ...) or
name -> meta mappings alike, always in the order the answer lists them, which callers read as
the account's history (a name listed later was first seen later; CleverTap does not document the
order, and the sandbox lists names that way).
"""

from __future__ import annotations

import typing as t

NAME_KEYS: t.Final = ("name", "eventName", "event_name", "evtName")
PROPS_KEYS: t.Final = ("properties", "eventProperties", "event_properties", "props")
TYPE_KEYS: t.Final = ("type", "dataType", "data_type", "datatype")


def schema_items(raw: t.Any) -> t.Iterator[tuple[str, t.Any]]:
    """(name, meta) pairs from a list of names/objects or a name->meta mapping."""
    if isinstance(raw, dict):
        for name, meta in raw.items():
            if isinstance(name, str) and name:
                yield name, meta
    elif isinstance(raw, list):
        for item in raw:
            if isinstance(item, str) and item:
                yield item, None
            elif isinstance(item, dict):
                name = next((item[k] for k in NAME_KEYS if isinstance(item.get(k), str)), None)
                if name:
                    yield name, item


def schema_properties(raw: t.Any) -> t.Iterator[tuple[str, t.Any]]:
    """(property name, CleverTap type) pairs from a list of objects or a name->type mapping."""
    for name, meta in schema_items(raw):
        if isinstance(meta, dict):
            yield name, next((meta[k] for k in TYPE_KEYS if k in meta), None)
        else:
            yield name, meta


def events_of(doc: t.Mapping[str, t.Any]) -> t.Any:
    """The event list of a ``type=events`` answer."""
    return doc.get("events", doc.get("data"))


def user_properties_of(doc: t.Mapping[str, t.Any]) -> t.Any:
    """The property list of a ``type=userProperties`` answer."""
    return doc.get("userProperties", doc.get("data"))


def event_property_names(doc: t.Mapping[str, t.Any]) -> dict[str, list[str]]:
    """Each event's property names in listed order (an event listed twice: names merged)."""
    names: dict[str, list[str]] = {}
    for event, meta in schema_items(events_of(doc)):
        listed = names.setdefault(event, [])
        if isinstance(meta, dict):
            props = next((meta[k] for k in PROPS_KEYS if k in meta), None)
            listed.extend(n for n, _ in schema_properties(props) if n not in listed)
    return names


def profile_property_names(doc: t.Mapping[str, t.Any]) -> list[str]:
    """The profile property names in listed order, each once."""
    return list(dict.fromkeys(name for name, _ in schema_properties(user_properties_of(doc))))
