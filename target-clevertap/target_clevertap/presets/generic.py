"""Any table as profiles or events: the user says which field is who, when and what."""

from __future__ import annotations

import typing as t

import orjson

from target_clevertap.presets.base import (
    Mapped,
    MappingConfigError,
    StreamContext,
    identifier,
    rejected,
    require_identity,
    timestamp_or_reject,
)
from target_clevertap.rules import COLLISION, EVENT_NAME_MISSING, INVALID_TIMESTAMP
from target_clevertap.values import epoch_seconds, lookup

_OPTIONS = frozenset(
    {
        "preset", "kind", "identity", "object_id", "timestamp", "timestamp_unit", "event_name",
        "event_name_field", "fields", "exclude", "rename",
    }
)  # fmt: skip


class GenericMapping:
    """Profiles or events from named fields; every other non-null field becomes a property."""

    trims_values = False

    def __init__(self, options: t.Mapping[str, t.Any], context: StreamContext) -> None:
        self.context = context
        where = f"stream '{context.stream}'"
        unknown = set(options) - _OPTIONS
        if unknown:
            msg = f"{where}: the generic mapping does not use {', '.join(sorted(unknown))}."
            raise MappingConfigError(msg)
        self.kind: t.Literal["profile", "event"] = options.get("kind") or "profile"
        self.identity_field: str | None = options.get("identity")
        self.object_id_field: str | None = options.get("object_id")
        if self.identity_field and self.object_id_field:
            msg = f"{where}: set either identity or object_id, not both."
            raise MappingConfigError(msg)
        if not self.identity_field and not self.object_id_field:
            if len(context.key_properties) != 1:
                msg = (
                    f"{where}: say which field identifies the user, e.g. "
                    '{"identity": "user_id"} (the stream has no single key property to default to).'
                )
                raise MappingConfigError(msg)
            self.identity_field = context.key_properties[0]
        self.timestamp_field: str | None = options.get("timestamp")
        self.timestamp_unit = options.get("timestamp_unit") or "s"
        self.event_name: str | None = options.get("event_name")
        self.event_name_field: str | None = options.get("event_name_field")
        if self.kind == "event" and bool(self.event_name) == bool(self.event_name_field):
            msg = f"{where}: an event mapping needs exactly one of event_name or event_name_field."
            raise MappingConfigError(msg)
        if self.kind == "profile" and (self.event_name or self.event_name_field):
            msg = f"{where}: event_name/event_name_field only apply to kind 'event'."
            raise MappingConfigError(msg)
        self.fields: list[str] | None = options.get("fields")
        self.rename: dict[str, str] = dict(options.get("rename") or {})
        special = {
            self.identity_field,
            self.object_id_field,
            self.timestamp_field,
            self.event_name_field,
        }
        self.excluded = frozenset(options.get("exclude") or ()) | {f for f in special if f}
        self._check_fields_exist(where)

    def _check_fields_exist(self, where: str) -> None:
        if not self.context.properties:
            return  # schema without properties: nothing to check against
        named = [
            self.identity_field,
            self.object_id_field,
            self.timestamp_field,
            self.event_name_field,
            *(self.fields or ()),
        ]
        missing = sorted(
            {
                f
                for f in named
                if f and f not in self.context.properties
                if f.split(".", 1)[0] not in self.context.properties
            }
        )
        if missing:
            msg = (
                f"{where}: the mapping names field(s) {', '.join(missing)} that the stream's "
                f"schema does not have (it has {', '.join(sorted(self.context.properties))})."
            )
            raise MappingConfigError(msg)

    def map(self, record: dict[str, t.Any]) -> Mapped:
        """Pick who, when and what from the configured fields."""
        mapped = Mapped(kind=self.kind)
        if self.identity_field:
            mapped.identity = identifier(lookup(record, self.identity_field))
            require_identity(mapped, f"field '{self.identity_field}'")
        else:
            field = t.cast("str", self.object_id_field)
            mapped.object_id = identifier(lookup(record, field))
            require_identity(mapped, f"field '{field}'")
        if self.timestamp_field:
            value = lookup(record, self.timestamp_field)
            if value is None:
                raise rejected(
                    INVALID_TIMESTAMP,
                    f"field '{self.timestamp_field}' is empty",
                    field=self.timestamp_field,
                )
            tz, unit = self.context.timezone, self.timestamp_unit
            mapped.ts = timestamp_or_reject(
                lambda: epoch_seconds(value, tz, unit=unit), self.timestamp_field
            )
        if self.kind == "event":
            name = (
                self.event_name
                if self.event_name
                else identifier(lookup(record, t.cast("str", self.event_name_field)))
            )
            if not name:
                raise rejected(
                    EVENT_NAME_MISSING,
                    f"field '{self.event_name_field}' is empty",
                    field=self.event_name_field,
                )
            mapped.event_name = name
        if self.fields is not None:
            chosen = {f: lookup(record, f) for f in self.fields}
        else:
            chosen = {k: v for k, v in record.items() if k not in self.excluded}
        data: dict[str, t.Any] = {}
        for key, value in chosen.items():
            if value is None:
                continue
            name = self.rename.get(key, key)
            if name in data:
                other = next(k for k in chosen if k != key and self.rename.get(k, k) == name)
                raise rejected(
                    COLLISION, f"fields '{other}' and '{key}' both become '{name}'", field=name
                )
            data[name] = value
        mapped.data = data
        if self.context.key_properties:
            keys = [record.get(k) for k in self.context.key_properties]
            mapped.source_id = orjson.dumps(keys, default=str).decode()
        return mapped
