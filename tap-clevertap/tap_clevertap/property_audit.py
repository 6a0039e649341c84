"""The property-name audit: which names of the account collide under each snake_case strategy.

Segment's CleverTap destination snake_cases property names while CleverTap's SDKs keep them as
sent, so an account fed both ways holds "First Name" *and* "first_name". Names are compared
where CleverTap keeps them apart: all profile properties form one namespace, each event's
properties another. Keys are computed as target-clevertap writes them (clevertap-segment-common's
strategies, CleverTap's reserved keys such as "Email" or "Amount" kept as spelled), and the
``match_account_*`` columns apply target-clevertap's match_account rule itself
(clevertap-segment-common's ``account_names``): a name the audit calls split is one target-clevertap
writes in one of the account's spellings, never in a new one.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from clevertap_segment_common.clevertap_schema import event_property_names, profile_property_names
from clevertap_segment_common.property_names import (
    CLEVERTAP_RESERVED_KEYS,
    CLEVERTAP_RESERVED_PREFIXES,
    DISTINCT_STRATEGIES,
    collision_groups,
    normalize_name,
)
from clevertap_segment_common.property_names.account_names import AccountNames

#: Every distinct conversion of the shared library except "none" (which never changes a name).
AUDIT_STRATEGIES: tuple[str, ...] = tuple(s for s in DISTINCT_STRATEGIES if s != "none")

PROFILE = "profile"
EVENT = "event"
SCHEMA = "schema"
EXPORT = "export"


def column(strategy: str) -> str:
    """The column prefix of a strategy ("to-snake-case" -> "to_snake_case")."""
    return strategy.replace("-", "_")


def is_reserved(name: str) -> bool:
    """Whether target-clevertap keeps this name as spelled (CleverTap gives it a meaning)."""
    return name in CLEVERTAP_RESERVED_KEYS or name.startswith(CLEVERTAP_RESERVED_PREFIXES)


def key_of(name: str, strategy: str) -> str:
    """The property name target-clevertap writes for ``name`` under ``strategy``."""
    return name if is_reserved(name) else normalize_name(name, strategy)


@dataclass(slots=True)
class NameInventory:
    """Property names per namespace, from /getSchema and from the keys of exported records.

    Schema names keep getSchema's order (the account's history: a name listed later was first
    seen later). The events and profiles streams feed it the keys of every record they emit,
    before selection or stream maps touch the record (one C-level set update per record).
    """

    schema_profile: list[str] = field(default_factory=list)
    schema_events: dict[str, list[str]] = field(default_factory=dict)
    export_profile: set[str] = field(default_factory=set)
    export_events: dict[str, set[str]] = field(default_factory=dict)

    def saw_schema(self, events: dict[str, t.Any], user_properties: dict[str, t.Any]) -> None:
        """The names of the ``type=events`` and ``type=userProperties`` answers, in order."""
        for event_name, names in event_property_names(events).items():
            listed = self.schema_events.setdefault(event_name, [])
            listed.extend(name for name in names if name not in listed)
        listed = self.schema_profile
        listed.extend(n for n in profile_property_names(user_properties) if n not in listed)

    def saw_event_record(self, event_name: str, props: t.Any, profile_data: t.Any) -> None:
        """Keys of one exported event record (its event_props and its profile's profileData)."""
        if isinstance(props, dict):
            names = self.export_events.get(event_name)
            if names is None:
                names = self.export_events[event_name] = set()
            names.update(props)
        if isinstance(profile_data, dict):
            self.export_profile.update(profile_data)

    def saw_profile_data(self, profile_data: t.Any) -> None:
        """Keys of one exported profileData object."""
        if isinstance(profile_data, dict):
            self.export_profile.update(profile_data)

    def namespaces(self) -> list[tuple[str, str | None, dict[str, set[str]]]]:
        """(scope, event name or None, {name: sources}): profile first, then events by name."""
        out: list[tuple[str, str | None, dict[str, set[str]]]] = [
            (PROFILE, None, _sources(self.schema_profile, self.export_profile))
        ]
        for event_name in sorted(self.schema_events.keys() | self.export_events.keys()):
            names = _sources(
                self.schema_events.get(event_name, []),
                self.export_events.get(event_name, set()),
            )
            if names:
                out.append((EVENT, event_name, names))
        return out


def _sources(schema: list[str], export: set[str]) -> dict[str, set[str]]:
    """Name -> sources, in history order: the schema's names, then exported-only ones sorted."""
    names: dict[str, set[str]] = {}
    for name in schema:
        names.setdefault(name, set()).add(SCHEMA)
    for name in sorted(export):
        names.setdefault(name, set()).add(EXPORT)
    return names


@dataclass(slots=True)
class _Row:
    scope: str
    name: str
    event_names: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    key_missing: set[str] = field(default_factory=set)
    collides: dict[str, set[str]] = field(default_factory=dict)
    #: The account's spellings of this name under match_account's rule (per event, merged).
    spellings: list[str] = field(default_factory=list)


def audit_rows(inventory: NameInventory) -> list[dict[str, t.Any]]:
    """One row per (scope, name), sorted: keys, whether they exist already, and collisions."""
    rows: dict[tuple[str, str], _Row] = {}
    for scope, event_name, names in inventory.namespaces():
        account = AccountNames(names)
        for name, sources in names.items():
            row = rows.setdefault((scope, name), _Row(scope, name))
            row.sources |= sources
            if event_name is not None:
                row.event_names.add(event_name)
            row.spellings.extend(s for s in account.spellings(name) if s not in row.spellings)
        for strategy in AUDIT_STRATEGIES:
            for name in names:
                if key_of(name, strategy) not in names:
                    rows[scope, name].key_missing.add(strategy)
            groups = collision_groups(
                names,
                strategy,
                reserved_keys=CLEVERTAP_RESERVED_KEYS,
                reserved_prefixes=CLEVERTAP_RESERVED_PREFIXES,
            )
            for group in groups:
                for name in group.names:
                    others = rows[scope, name].collides.setdefault(strategy, set())
                    others.update(n for n in group.names if n != name)
    return [_record(rows[key]) for key in sorted(rows)]


def _record(row: _Row) -> dict[str, t.Any]:
    record: dict[str, t.Any] = {
        "scope": row.scope,
        "name": row.name,
        "event_names": sorted(row.event_names) if row.scope == EVENT else None,
        "sources": sorted(row.sources),
        "reserved": is_reserved(row.name),
        "match_account_spellings": row.spellings,
        "match_account_split": len(row.spellings) > 1,
    }
    for strategy in AUDIT_STRATEGIES:
        prefix = column(strategy)
        record[f"{prefix}_key"] = key_of(row.name, strategy)
        record[f"{prefix}_key_exists"] = strategy not in row.key_missing
        record[f"{prefix}_collides_with"] = sorted(row.collides.get(strategy, ()))
    return record


def audit_schema() -> dict[str, t.Any]:
    """JSON schema of the property_name_audit stream."""
    properties: dict[str, t.Any] = {
        "scope": {"type": "string", "enum": [EVENT, PROFILE]},
        "name": {"type": "string"},
        "event_names": {"type": ["array", "null"], "items": {"type": "string"}},
        "sources": {"type": "array", "items": {"type": "string", "enum": [SCHEMA, EXPORT]}},
        "reserved": {"type": "boolean"},
        "match_account_spellings": {"type": "array", "items": {"type": "string"}},
        "match_account_split": {"type": "boolean"},
    }
    for strategy in AUDIT_STRATEGIES:
        prefix = column(strategy)
        properties[f"{prefix}_key"] = {"type": "string"}
        properties[f"{prefix}_key_exists"] = {"type": "boolean"}
        properties[f"{prefix}_collides_with"] = {"type": "array", "items": {"type": "string"}}
    return {"type": "object", "properties": properties, "required": ["scope", "name"]}
