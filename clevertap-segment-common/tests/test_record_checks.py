"""Record checks: the flat-schema validator agrees with fastjsonschema, value by value."""

from __future__ import annotations

import datetime as dt
import itertools
import typing as t
from decimal import Decimal

import pytest
from clevertap_segment_common.record_checks import (
    CompiledRecordValidator,
    DateLikeFields,
    FlatRecordValidator,
    compiled_validator,
    flat_types,
)
from singer_sdk.exceptions import InvalidJSONSchema

VALUES: list[t.Any] = [
    None, True, False, 0, 7, -3, 2.0, 2.5, Decimal("4"), Decimal("4.5"), "", "text",
    "2024-05-01T12:00:00Z", {}, {"a": 1}, [], [1, "x"], (1, 2),
]  # fmt: skip
TYPES = ["string", "integer", "number", "boolean", "null", "object", "array"]
TYPE_SETS = [
    *TYPES,
    *(list(pair) for pair in itertools.combinations(TYPES, 2)),
    ["string", "integer", "null"],
]


def verdict(validator_class: type, schema: dict[str, t.Any], record: dict[str, t.Any]) -> t.Any:
    reports: list[str] = []
    if validator_class is FlatRecordValidator:
        types = flat_types(schema)
        assert types is not None
        validator = FlatRecordValidator(schema, types, reports.append)
    else:
        validator = CompiledRecordValidator(schema, reports.append)
    validator.validate(record)
    return reports


@pytest.mark.parametrize("allowed", TYPE_SETS, ids=str)
def test_flat_validator_says_what_fastjsonschema_says(allowed: t.Any) -> None:
    schema = {
        "type": "object",
        "properties": {"f": {"type": allowed, "description": "a field"}, "free": {}},
    }
    for value in VALUES:
        record = {"f": value, "free": value}
        expected = verdict(CompiledRecordValidator, schema, record)
        assert verdict(FlatRecordValidator, schema, record) == expected, (allowed, value)


def test_flat_validator_reports_missing_required_fields_first() -> None:
    schema = {
        "type": ["object", "null"],
        "required": ["id", "name"],
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
    }
    for record in ({"id": "x"}, {"name": 3}, {"id": 1, "name": "n"}, {"id": 1, "name": None}):
        expected = verdict(CompiledRecordValidator, schema, record)
        assert verdict(FlatRecordValidator, schema, record) == expected, record


@pytest.mark.parametrize(
    ("schema", "flat"),
    [
        ({"type": "object", "properties": {"a": {"type": "string", "format": "date-time"}}}, True),
        ({"type": "object", "properties": {"a": {"type": "string", "maxLength": 3}}}, False),
        ({"type": "object", "properties": {"a": {"type": "object", "properties": {}}}}, False),
        ({"type": "object", "properties": {"a": {"anyOf": [{"type": "string"}]}}}, False),
        ({"type": "object", "additionalProperties": False, "properties": {}}, False),
        ({"type": "object", "properties": {"a": {"type": "string", "enum": ["x"]}}}, False),
    ],
)
def test_only_schemas_of_plain_types_take_the_flat_path(schema: dict, flat: bool) -> None:
    validator = compiled_validator(schema, lambda message: None)
    assert isinstance(validator, FlatRecordValidator) is flat


@pytest.mark.parametrize("field", [{"type": "decimal"}, {"type": "string", "maxLength": "3"}])
def test_an_invalid_schema_is_refused_as_the_sdk_refuses_it(field: dict) -> None:
    with pytest.raises(InvalidJSONSchema):
        compiled_validator({"type": "object", "properties": {"a": field}}, lambda message: None)


def test_formats_are_checked_by_compiled_code_when_asked() -> None:
    schema = {"type": "object", "properties": {"a": {"type": "string", "format": "date-time"}}}
    reports: list[str] = []
    validator = compiled_validator(schema, reports.append, validate_formats=True)
    assert isinstance(validator, CompiledRecordValidator)
    validator.validate({"a": "not a date"})
    assert reports == ["data.a must be date-time"]


def test_date_like_fields_are_parsed_and_bad_ones_reported() -> None:
    fields = DateLikeFields(
        {
            "properties": {
                "at": {"type": ["string", "null"], "format": "date-time"},
                "day": {"anyOf": [{"type": "string", "format": "date"}, {"type": "null"}]},
                "clock": {"type": "string", "format": "time"},
                "plain": {"type": "string"},
            }
        }
    )
    reports: list[str] = []
    record = {"at": "2024-05-01T12:00:00Z", "day": "2024-05-02", "clock": "25:00", "plain": "x"}
    fields.parse(record, reports.append)
    assert record["at"] == dt.datetime(2024, 5, 1, 12, tzinfo=dt.UTC)
    assert record["day"] == dt.date(2024, 5, 2)
    assert record["clock"] == "25:00"
    assert record["plain"] == "x"
    assert reports == [
        "field 'clock' is typed time in the stream's SCHEMA but its value is not an ISO 8601 time"
    ]
