"""Per-stream record checks prepared once from the SCHEMA: schema validation and date-like fields.

The SDK interprets the JSON schema for every record (jsonschema) and looks up every field's type
to find the date-times to parse: together half of a target's CPU time. Here the schema is compiled
to Python code once (fastjsonschema) and the date-like fields are listed once. Both report what is
wrong instead of raising, so a record that breaks its SCHEMA (including a date-time that does not
parse, which crashes the SDK's own parsing) becomes a rejection with a reason, not the end of the
run.
"""

from __future__ import annotations

import datetime as dt
import typing as t

import fastjsonschema
import jsonschema
from singer_sdk.exceptions import InvalidJSONSchema, InvalidRecord
from singer_sdk.helpers._typing import get_datelike_property_type
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR

if t.TYPE_CHECKING:
    from collections.abc import Callable

    ReportInvalid = Callable[[str], None]

#: What the SDK parses each date-like JSON-schema format into.
PARSERS: t.Final[dict[str, Callable[[str], t.Any]]] = {
    "date-time": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
}


class CompiledRecordValidator(BaseJSONSchemaValidator):
    """Validates with code generated from the schema; reports violations instead of raising."""

    def __init__(
        self, schema: dict[str, t.Any], report: ReportInvalid, *, validate_formats: bool = False
    ) -> None:
        super().__init__(schema)
        try:
            DEFAULT_JSONSCHEMA_VALIDATOR.check_schema(schema)
        except jsonschema.SchemaError as exc:
            msg = f"Schema Validation Error: {exc}"
            raise InvalidJSONSchema(msg) from exc
        # use_default=False: never write schema defaults into the record.
        self._check = fastjsonschema.compile(
            schema, use_default=False, use_formats=validate_formats
        )
        self._report = report

    def validate(self, record: dict[str, t.Any]) -> None:
        """Report why the record breaks its schema (it is then rejected, not sent)."""
        try:
            self._check(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            self._report(exc.message)


def compiled_validator(
    schema: dict[str, t.Any], report: ReportInvalid, *, validate_formats: bool = False
) -> CompiledRecordValidator | None:
    """The compiled validator, or None for a schema fastjsonschema cannot compile."""
    try:
        return CompiledRecordValidator(schema, report, validate_formats=validate_formats)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None


class ReportingValidator(BaseJSONSchemaValidator):
    """The SDK's validator for schemas fastjsonschema cannot compile; reports, never raises."""

    def __init__(self, inner: BaseJSONSchemaValidator, report: ReportInvalid) -> None:
        super().__init__(inner.schema)
        self._inner = inner
        self._report = report

    def validate(self, record: dict[str, t.Any]) -> None:
        """Report the SDK validator's message."""
        try:
            self._inner.validate(record)
        except InvalidRecord as exc:
            self._report(exc.error_message)


class DateLikeFields:
    """The top-level fields a schema types as date-time, date or time, parsed as the SDK does."""

    def __init__(self, schema: dict[str, t.Any]) -> None:
        properties: dict[str, t.Any] = schema.get("properties") or {}
        fields = []
        for name, definition in properties.items():
            # The SDK's own rule for which fields it parses (string type with a date-like format).
            kind = get_datelike_property_type(definition) if isinstance(definition, dict) else None
            if kind in PARSERS:
                fields.append((name, kind, PARSERS[kind]))
        self.fields: tuple[tuple[str, str, Callable[[str], t.Any]], ...] = tuple(fields)

    def parse(self, record: dict[str, t.Any], report: ReportInvalid) -> None:
        """Replace date-like text with date/time objects; report text that is not one.

        Values that are not text (null, or a type the schema validation already reported) are
        left as they are.
        """
        for name, kind, parse in self.fields:
            value = record.get(name)
            if value.__class__ is not str:
                continue
            try:
                record[name] = parse(value)
            except ValueError:
                report(
                    f"field '{name}' is typed {kind} in the stream's SCHEMA but its value is not "
                    f"an ISO 8601 {kind}"
                )
