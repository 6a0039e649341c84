"""CleverTap query-language filters (docs/clevertap-api.md §2.2), applied to seeded records.

Event, session and profile-field filters are emulated; the other parts of
``common_profile_properties`` (demographics, technographics) are refused rather than ignored, so a
query the sandbox cannot honour never returns a plausible but wrong answer.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

Predicate = Callable[[dict[str, Any]], bool]

STRING_OPERATORS = (
    "equals",
    "not_equals",
    "contains",
    "does_not_contain",
    "exists",
    "does_not_exist",
)
NUMBER_OPERATORS = ("greater_than", "greater_than_equals", "less_than", "less_than_equals")


class QueryError(ValueError):
    """A filter CleverTap would refuse; the message says which one and why."""


def _comparable(value: object) -> object:
    """CQL passes booleans as the strings "True"/"False"."""
    if value is True:
        return "True"
    if value is False:
        return "False"
    return value


def _values_of(record: dict[str, Any], name: str) -> list[object]:
    """The property's value(s); for Charged `Items`, the operator applies across the items."""
    if name in record:
        return [_comparable(record[name])]
    items = record.get("Items")
    if isinstance(items, list):
        return [
            _comparable(item[name]) for item in items if isinstance(item, dict) and name in item
        ]
    return []


def _number(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return None


def _one(raw: object) -> Predicate:
    if not isinstance(raw, dict):
        raise QueryError("each property filter must be an object with name, operator and value")
    name, operator, expected = raw.get("name"), raw.get("operator", "equals"), raw.get("value")
    if not isinstance(name, str) or not name:
        raise QueryError("property filter is missing its name")
    if operator not in STRING_OPERATORS + NUMBER_OPERATORS:
        raise QueryError(f"invalid operator {operator!r} for property {name!r}")
    wanted = expected if isinstance(expected, list) else [expected]
    if any(isinstance(v, dict | list) for v in wanted):
        raise QueryError(f"value of property filter {name!r} must be a primitive or a list of them")
    wanted = [_comparable(v) for v in wanted]

    def equal(actual: object) -> bool:
        for target in wanted:
            left, right = _number(actual), _number(target)
            if left is not None and right is not None:
                if left == right:
                    return True
            elif actual == target:
                return True
        return False

    def test(record: dict[str, Any]) -> bool:
        values = _values_of(record, name)
        if operator == "exists":
            return bool(values)
        if operator == "does_not_exist":
            return not values
        if operator == "equals":
            return any(equal(v) for v in values)
        if operator == "not_equals":
            return bool(values) and not any(equal(v) for v in values)
        if operator == "contains":
            return any(str(t) in str(v) for v in values for t in wanted)
        if operator == "does_not_contain":
            return bool(values) and not any(str(t) in str(v) for v in values for t in wanted)
        bound = _number(wanted[0])
        for value in values:
            number = _number(value)
            if number is None or bound is None:
                continue
            if (
                (operator == "greater_than" and number > bound)
                or (operator == "greater_than_equals" and number >= bound)
                or (operator == "less_than" and number < bound)
                or (operator == "less_than_equals" and number <= bound)
            ):
                return True
        return False

    return test


def compile_filters(raw: object, key: str = "event_properties") -> Predicate | None:
    """A predicate over one property object (all filters must hold), or None without filters."""
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list):
        raise QueryError(f"{key} must be a list of filters")
    tests = [_one(item) for item in raw]
    return lambda record: all(test(record) for test in tests)


@dataclass(frozen=True)
class ExportQuery:
    """The filters of one export query; a record is kept when every one of them holds."""

    event: Predicate | None = None
    session: Predicate | None = None
    profile: Predicate | None = None

    def keeps_event(self, props: dict[str, Any], session_props: dict[str, Any]) -> bool:
        """Whether the event and session property filters hold for one event."""
        return (self.event is None or self.event(props)) and (
            self.session is None or self.session(session_props)
        )

    def keeps_profile(self, fields: Callable[[], dict[str, Any]]) -> bool:
        """Whether the profile-field filters hold (``fields`` is only called when needed)."""
        return self.profile is None or self.profile(fields())


#: The filter lists of a query, by where they sit in its body.
QUERY_PARTS = (
    ("event_properties", "event_properties"),
    ("session_properties", "session_properties"),
    ("profile_fields", "common_profile_properties.profile_fields"),
)


def query_filters(query: dict[str, Any]) -> dict[str, Any]:
    """The query's filter lists by part (only the non-empty ones), validated for shape."""
    common = query.get("common_profile_properties")
    if common is not None and not isinstance(common, dict):
        raise QueryError("common_profile_properties must be an object")
    unsupported = sorted(set(common or {}) - {"profile_fields"})
    if unsupported:
        raise QueryError(
            f"common_profile_properties.{unsupported[0]} is not emulated by the sandbox "
            "(only profile_fields is)"
        )
    parts = {
        "event_properties": query.get("event_properties"),
        "session_properties": query.get("session_properties"),
        "profile_fields": (common or {}).get("profile_fields"),
    }
    return {name: raw for name, raw in parts.items() if raw is not None and raw != []}


def compile_query(parts: dict[str, Any]) -> ExportQuery | None:
    """The ExportQuery of ``query_filters``' result, or None when there is nothing to filter."""
    if not parts:
        return None
    where = dict(QUERY_PARTS)
    predicates = {name: compile_filters(raw, where[name]) for name, raw in parts.items()}
    return ExportQuery(
        event=predicates.get("event_properties"),
        session=predicates.get("session_properties"),
        profile=predicates.get("profile_fields"),
    )
