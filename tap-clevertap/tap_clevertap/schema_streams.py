"""Streams read from GET /getSchema: the account's events, profile properties and the name audit.

All three are full refreshes (the schema is small and has no change dates). The schema is read
once per run and shared with discovery.
"""

from __future__ import annotations

import typing as t

from tap_clevertap.discovery import event_schema_rows, user_property_rows
from tap_clevertap.property_audit import audit_rows, audit_schema
from tap_clevertap.schemas import open_object
from tap_clevertap.streams import CleverTapStream

if t.TYPE_CHECKING:
    from singer_sdk.helpers import types

    from tap_clevertap.tap import TapCleverTap

_TEXT: dict[str, t.Any] = {"type": ["string", "null"]}


class EventSchemaStream(CleverTapStream):
    """Every event of the account with its properties and their types."""

    name = "event_schema"
    primary_keys = ("event_name",)
    replication_key = None
    SCHEMA: t.ClassVar[dict[str, t.Any]] = {
        "type": "object",
        "properties": {
            "event_name": {"type": "string"},
            "event_type": _TEXT,
            "properties": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {"name": {"type": "string"}, "type": _TEXT},
                },
            },
            "extra_fields": open_object(),
        },
        "required": ["event_name"],
    }

    def __init__(self, tap: TapCleverTap) -> None:
        """The schema is fixed."""
        super().__init__(tap, self.SCHEMA)

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """One record per event listed by GET /getSchema?type=events."""
        yield from event_schema_rows(self.clevertap.schema_doc("events"))


class UserPropertySchemaStream(CleverTapStream):
    """Every custom profile property of the account with its type."""

    name = "user_property_schema"
    primary_keys = ("name",)
    replication_key = None
    SCHEMA: t.ClassVar[dict[str, t.Any]] = {
        "type": "object",
        "properties": {
            "name": {"type": "string"},
            "type": _TEXT,
            "extra_fields": open_object(),
        },
        "required": ["name"],
    }

    def __init__(self, tap: TapCleverTap) -> None:
        """The schema is fixed."""
        super().__init__(tap, self.SCHEMA)

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """One record per property listed by GET /getSchema?type=userProperties."""
        yield from user_property_rows(self.clevertap.schema_doc("userProperties"))


class PropertyNameAuditStream(CleverTapStream):
    """Each event and profile property name, its key under every strategy, and its collisions.

    Runs after every other stream (see TapCleverTap.load_streams), so the names it audits are
    those of /getSchema plus the keys of every record the events and profiles streams emitted in
    this run; with those streams deselected it audits the schema's names only.
    """

    name = "property_name_audit"
    primary_keys = ("scope", "name")
    replication_key = None

    def __init__(self, tap: TapCleverTap) -> None:
        """The schema has one group of columns per strategy of clevertap-segment-common."""
        super().__init__(tap, audit_schema())

    def get_records(self, context: types.Context | None) -> t.Iterable[dict[str, t.Any]]:
        """One record per (scope, name), sorted."""
        inventory = self.clevertap.name_inventory()
        if inventory is None:  # only when the stream is deselected, so never synced
            return
        inventory.saw_schema(
            self.clevertap.schema_doc("events"), self.clevertap.schema_doc("userProperties")
        )
        rows = audit_rows(inventory)
        colliding = sum(1 for row in rows if any(row[k] for k in row if k.endswith("_with")))
        self.logger.info(
            "property_name_audit: %d names, %d collide with another under some strategy",
            len(rows),
            colliding,
        )
        yield from rows
