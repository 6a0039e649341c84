"""Record validation compiled once per stream (fastjsonschema) instead of interpreted per record.

The SDK's jsonschema validator was the largest single cost per record; a record that breaks its
stream schema still becomes a rejection (rule ``schema``) through the sink's ``mark_invalid``.
target-segment carries the same class; it belongs in connector-common once both settle.
"""

from __future__ import annotations

import typing as t

import fastjsonschema
import jsonschema
from singer_sdk.exceptions import InvalidJSONSchema
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR

if t.TYPE_CHECKING:
    from connector_common.singer_target import DeliverySink


class CompiledRecordValidator(BaseJSONSchemaValidator):
    """Validates with code generated from the schema; reports violations to the sink."""

    def __init__(
        self, schema: dict[str, t.Any], sink: DeliverySink, *, validate_formats: bool = False
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
        self._sink = sink

    def validate(self, record: dict[str, t.Any]) -> None:
        """Tell the sink why the record breaks its schema (it is then rejected, not sent)."""
        try:
            self._check(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            self._sink.mark_invalid(record, exc.message)
