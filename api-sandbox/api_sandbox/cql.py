"""CleverTap query-language property filters (clevertap-api.md §2.2), applied to seeded records."""

from __future__ import annotations

from collections.abc import Callable
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


def compile_filters(raw: object) -> Predicate | None:
    """A predicate over event properties (all filters must hold), or None without filters."""
    if raw is None or raw == []:
        return None
    if not isinstance(raw, list):
        raise QueryError("event_properties must be a list of filters")
    tests = [_one(item) for item in raw]
    return lambda record: all(test(record) for test in tests)
