"""Per-stream record checks prepared once from the SCHEMA: schema validation and date-like fields.

The SDK interprets the JSON schema for every record (jsonschema) and looks up every field's type
to find the date-times to parse: together half of a target's CPU time. Here the schema is compiled
once: a flat schema (typed top-level fields, the usual tap output) to a table of allowed classes,
anything else to Python code (fastjsonschema); the date-like fields are listed once. All of them
report what is wrong instead of raising, so a record that breaks its SCHEMA (including a date-time
that does not parse, which crashes the SDK's own parsing) becomes a rejection with a reason, not
the end of the run.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from decimal import Decimal

import fastjsonschema
import jsonschema
from singer_sdk.exceptions import InvalidJSONSchema, InvalidRecord
from singer_sdk.sinks.core import BaseJSONSchemaValidator
from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR

from clevertap_segment_common.sdk_compat import get_datelike_property_type

if t.TYPE_CHECKING:
    from collections.abc import Callable

    ReportInvalid = Callable[[str], None]

#: What the SDK parses each date-like JSON-schema format into.
PARSERS: t.Final[dict[str, Callable[[str], t.Any]]] = {
    "date-time": dt.datetime.fromisoformat,
    "date": dt.date.fromisoformat,
    "time": dt.time.fromisoformat,
}


def check_schema(schema: dict[str, t.Any]) -> None:
    """Refuse an invalid JSON schema the way the SDK's validator does."""
    try:
        DEFAULT_JSONSCHEMA_VALIDATOR.check_schema(schema)
    except jsonschema.SchemaError as exc:
        msg = f"Schema Validation Error: {exc}"
        raise InvalidJSONSchema(msg) from exc


class CompiledRecordValidator(BaseJSONSchemaValidator):
    """Validates with code generated from the schema; reports violations instead of raising."""

    def __init__(
        self, schema: dict[str, t.Any], report: ReportInvalid, *, validate_formats: bool = False
    ) -> None:
        super().__init__(schema)
        check_schema(schema)
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


#: The classes each JSON type accepts at first sight; other values get the full check.
_EXACT: t.Final[dict[str, tuple[type, ...]]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float, Decimal),
    "boolean": (bool,),
    "null": (type(None),),
    "object": (dict,),
    "array": (list, tuple),
}
_ABSENT: t.Final = object()
#: Keywords that do not constrain a value (annotations).
_ANNOTATIONS: t.Final = frozenset(
    {"title", "description", "$comment", "examples", "default", "$schema", "$id"}
)


def _is_json_type(value: t.Any, json_type: str) -> bool:
    """Each type as fastjsonschema reads it: an integral float is an integer, a bool no number."""
    if json_type in ("integer", "number") and isinstance(value, bool):
        return False
    if json_type == "integer":
        return isinstance(value, int) or (isinstance(value, float) and value.is_integer())
    return isinstance(value, _EXACT[json_type])


class FlatRecordValidator(BaseJSONSchemaValidator):
    """Validates typed top-level fields by class lookups, four times as fast as fastjsonschema.

    Only for schemas whose fields say nothing but their JSON types (see ``flat_types``); messages
    are fastjsonschema's. A generated function answers "every field has one of the usual classes
    of its types" (almost every record); anything else gets the full check, field by field.
    """

    def __init__(
        self,
        schema: dict[str, t.Any],
        types: dict[str, tuple[str, ...]],
        report: ReportInvalid,
    ) -> None:
        super().__init__(schema)
        self._required = tuple(schema.get("required") or ())
        self._required_set = frozenset(self._required)
        self._checks = tuple(
            (
                name,
                frozenset(cls for json_type in allowed for cls in _EXACT[json_type]),
                allowed,
                f"data.{name} must be {' or '.join(allowed)}",
            )
            for name, allowed in types.items()
        )
        self._report = report
        self._usual = _usual_classes_check(self._checks)

    def validate(self, record: dict[str, t.Any]) -> None:
        """Report a missing required field, else the first field of none of its allowed types."""
        if self._required and not record.keys() >= self._required_set:
            missing = [name for name in self._required if name not in record]
            self._report(f"data must contain {missing} properties")
            return
        if self._usual(record):
            return
        get = record.get
        for name, classes, allowed, message in self._checks:
            value = get(name, _ABSENT)
            if value.__class__ in classes or value is _ABSENT:
                continue
            if not any(_is_json_type(value, json_type) for json_type in allowed):
                self._report(message)
                return


def _usual_classes_check(
    checks: tuple[tuple[str, frozenset[type], tuple[str, ...], str], ...],
) -> Callable[[dict[str, t.Any]], bool]:
    """Whether every present field has a usual class: one test per field, written out.

    Field names enter the generated source only through ``repr``, as string literals.
    """
    lines = ["def usual(record):", "    get = record.get"]
    namespace: dict[str, t.Any] = {"ABSENT": _ABSENT}
    for number, (name, classes, _, _) in enumerate(checks):
        namespace[f"CLASSES_{number}"] = classes
        lines += [
            f"    value = get({name!r}, ABSENT)",
            f"    if value.__class__ not in CLASSES_{number} and value is not ABSENT:",
            "        return False",
        ]
    lines.append("    return True")
    exec(compile("\n".join(lines), "<flat record check>", "exec"), namespace)  # noqa: S102
    return t.cast("Callable[[dict[str, t.Any]], bool]", namespace["usual"])


def flat_types(schema: dict[str, t.Any]) -> dict[str, tuple[str, ...]] | None:
    """Each field's JSON types when the schema constrains nothing else, else None."""
    if set(schema) - _ANNOTATIONS - {"type", "properties", "required", "additionalProperties"}:
        return None
    declared = schema.get("type", "object")
    if "object" not in ([declared] if isinstance(declared, str) else declared):
        return None
    if schema.get("additionalProperties", True) not in (True, {}):
        return None
    required = schema.get("required", [])
    if not isinstance(required, list) or not all(isinstance(r, str) for r in required):
        return None
    types: dict[str, tuple[str, ...]] = {}
    for name, definition in (schema.get("properties") or {}).items():
        if not isinstance(definition, dict) or set(definition) - _ANNOTATIONS - {"type"}:
            return None
        allowed = definition.get("type")
        if allowed is None:
            continue
        allowed = (allowed,) if isinstance(allowed, str) else tuple(allowed)
        if not allowed or not all(a in _EXACT for a in allowed):
            return None
        types[name] = allowed
    return types


def compiled_validator(
    schema: dict[str, t.Any], report: ReportInvalid, *, validate_formats: bool = False
) -> BaseJSONSchemaValidator | None:
    """The fastest validator for the schema, or None when none compiles it (use the SDK's)."""
    types = None if validate_formats else flat_types(_without_formats(schema))
    if types is not None:
        check_schema(schema)
        return FlatRecordValidator(schema, types, report)
    try:
        return CompiledRecordValidator(schema, report, validate_formats=validate_formats)
    except fastjsonschema.JsonSchemaDefinitionException:
        return None


def _without_formats(schema: dict[str, t.Any]) -> dict[str, t.Any]:
    """The schema without ``format`` on its fields (formats are not validated unless asked)."""
    properties = schema.get("properties")
    if not isinstance(properties, dict):
        return schema
    return {
        **schema,
        "properties": {
            name: {k: v for k, v in definition.items() if k != "format"}
            if isinstance(definition, dict)
            else definition
            for name, definition in properties.items()
        },
    }


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
