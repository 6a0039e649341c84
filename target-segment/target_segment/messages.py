"""One record -> one Segment call that Segment will accept, or a rejection saying why not.

Segment answers 200 to calls it then discards (no user id, track without event, empty page name,
traits that are not an object, ...), so every such rule is checked here, before sending, and the
record goes to the rejects file instead of vanishing. Rule names follow Segment's own discard codes
(Delivery Overview) where one exists.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import typing as t
from decimal import Decimal

import orjson
from clevertap_segment_common import json_text
from clevertap_segment_common.property_names import PropertyNameCollisionError
from clevertap_segment_common.target_errors import RecordRejectedError

from target_segment.mapping import (
    MISSING,
    KeyNotStringError,
    NotAnObjectError,
    ObjectSource,
    StreamMapping,
    ValueSource,
)

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

MAX_MESSAGE_BYTES: t.Final = 32_768  # analytics-python's MAX_MSG_SIZE (32 << 10)
MAX_PROPERTIES: t.Final = 10_000  # Segment "Product Limits": properties per event
MESSAGE_ID_PREFIX: t.Final = "ts1-"  # 4 + 64 hex characters, well under Segment's 100
_JSON_OPTIONS: t.Final = orjson.OPT_NAIVE_UTC | orjson.OPT_UTC_Z  # keys: see json_text
_ID_FIELDS: t.Final = (
    ("user_id", "userId"),
    ("anonymous_id", "anonymousId"),
    ("group_id", "groupId"),
    ("previous_id", "previousId"),
)
_CLEVERTAP_DATE_PREFIX: t.Final = "$D_"
_MILLISECONDS_THRESHOLD: t.Final = 1e11  # epoch numbers this large are milliseconds


def json_default(value: t.Any) -> t.Any:
    """Serialize what orjson does not know natively (Decimal from the SDK, sets)."""
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None  # JSON has no NaN/Infinity; orjson writes float NaN as null too
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, set | frozenset):
        return sorted(value, key=str)
    raise TypeError(type(value).__name__)


def utc_text(moment: dt.datetime) -> str:
    """``2024-05-01T12:00:00.123Z`` for an aware datetime (in UTC, milliseconds truncated).

    The same text as ``isoformat(timespec="milliseconds")`` with ``Z``, written by orjson in a
    third of the time: every track call has a timestamp.
    """
    if moment.tzinfo is not dt.UTC:
        moment = moment.astimezone(dt.UTC)
    if moment.__class__ is not dt.datetime:  # orjson refuses subclasses (pendulum and the like)
        return moment.isoformat(timespec="milliseconds")[:-6] + "Z"
    raw = orjson.dumps(moment, option=orjson.OPT_UTC_Z)  # "YYYY-MM-DDTHH:MM:SS[.ffffff]Z"
    return (raw[1:20] + b".000Z" if len(raw) == 22 else raw[1:24] + b"Z").decode()


def library_size(payload: bytes) -> int:
    """Bytes of a message as analytics-python measures it against the 32 KB limit.

    ``len(json.dumps(msg).encode())``: default separators and ASCII escapes, the largest plausible
    reading of "32 KB" (Segment does not say how its server counts), so nothing we send is refused.
    """
    return len(json.dumps(orjson.loads(payload)).encode())


def iso_timestamp(value: t.Any) -> str | None:
    """ISO 8601 UTC with milliseconds, from a datetime, date, ISO string or epoch number."""
    moment: dt.datetime
    if isinstance(value, dt.datetime):
        moment = value
    elif isinstance(value, dt.date):
        moment = dt.datetime(value.year, value.month, value.day)
    elif isinstance(value, bool):
        return None
    elif isinstance(value, int | float | Decimal):
        seconds = float(value)
        if abs(seconds) >= _MILLISECONDS_THRESHOLD:
            seconds /= 1000
        try:
            moment = dt.datetime.fromtimestamp(seconds, dt.UTC)
        except (OverflowError, OSError, ValueError):
            return None
    elif isinstance(value, str):
        text = value.strip()
        if text.startswith(_CLEVERTAP_DATE_PREFIX):
            return iso_timestamp(int(text[3:])) if text[3:].isdigit() else None
        try:
            moment = dt.datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return utc_text(moment)


def _clevertap_dates(values: dict[str, t.Any]) -> dict[str, t.Any]:
    """CleverTap's ``"$D_<epoch seconds>"`` date values as ISO 8601 (top-level values only)."""
    for key, value in values.items():
        if isinstance(value, str) and value.startswith(_CLEVERTAP_DATE_PREFIX):
            converted = iso_timestamp(value)
            if converted is not None:
                values[key] = converted
    return values


def _set_nested(target: dict[str, t.Any], dotted: str, value: t.Any) -> None:
    """``target["a"]["b"] = value`` for ``"a.b"``, copying (never mutating) nested input objects."""
    *parents, last = dotted.split(".")
    node = target
    for part in parents:
        child = node.get(part)
        child = dict(child) if isinstance(child, dict) else {}
        node[part] = child
        node = child
    node[last] = value


class MessageBuilder:
    """Builds the calls of one stream; safe to reuse for every record of that stream."""

    def __init__(
        self,
        *,
        stream: str,
        mapping: StreamMapping,
        key_properties: Sequence[str],
        salt: bytes,
        library: Mapping[str, str],
        integrations: Mapping[str, t.Any] | None = None,
        normalize: Callable[[dict[str, t.Any]], dict[str, t.Any]] | None = None,
        call: str | None = None,
    ) -> None:
        """``call`` tells apart the calls one record makes (it goes into their messageIds)."""
        self.stream = stream
        self.mapping = mapping
        self.key_properties = tuple(key_properties)
        self.library = dict(library)
        self.integrations = dict(integrations) if integrations else None
        self.normalize = normalize
        self.key_clashes = 0
        self._hash_prefix = salt + b"\x00" + stream.encode() + b"\x00"
        if call is not None:
            self._hash_prefix += call.encode() + b"\x00"
        self._context_fields = set(mapping.context.fields) if mapping.context else set()
        # Resolved once: what this stream's calls take, in the order they are written.
        scalars = mapping.scalars
        self._ids = [
            (s, name, scalars[s], scalars[s].reader()) for s, name in _ID_FIELDS if s in scalars
        ]
        self._identity_rule = mapping.call_type in ("alias", "group")
        self._texts = [(s, scalars[s]) for s in ("name", "category") if s in scalars]
        self._event = scalars.get("event") if mapping.call_type == "track" else None
        time_source = scalars.get("timestamp")
        self._time = None if time_source is None else (time_source, time_source.reader())
        self._plain_context = {"library": self.library} if mapping.context is None else None
        self._by_key = mapping.message_id == "key" and bool(self.key_properties)

    # -- the call -------------------------------------------------------------------------------

    def build(self, record: dict[str, t.Any]) -> tuple[dict[str, t.Any], bytes]:
        """The message and its serialized bytes; raises RecordRejectedError."""
        mapping = self.mapping
        message: dict[str, t.Any] = {"type": mapping.call_type}
        for setting, name, source, read in self._ids:
            value = read(record)
            if value.__class__ is not str or not value or value.isspace():
                value = self._identifier(source, value, setting, name)
            if value is not None:
                message[name] = value
        if self._identity_rule or ("userId" not in message and "anonymousId" not in message):
            self._check_identity(message)
        if self._event is not None:
            message["event"] = self._event_name(self._event, record)
        for setting, source in self._texts:
            value = self._page_text(source, source.resolve(record), setting)
            if value is not None:
                message[setting] = value
        if mapping.payload is not None:
            name = t.cast("str", mapping.payload_name)
            message[name] = self._payload(mapping.payload, record, name)
        message["context"] = self._plain_context or self._context(record)
        if self.integrations:
            message["integrations"] = self.integrations
        if self._time is not None:
            source, read = self._time
            message["timestamp"] = self._timestamp(source, read(record))
        message["messageId"] = self._message_id(record, message)
        return message, self._serialize(message)

    def _identifier(self, source: ValueSource, value: t.Any, setting: str, name: str) -> str | None:
        if value.__class__ is str:
            return value if value and not value.isspace() else None
        if value is MISSING or value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if isinstance(value, float | Decimal) and value == int(value):
            return str(int(value))
        raise RecordRejectedError(
            "id_not_string",
            f"`{name}` comes from {source.describe()} (mapping key `{setting}`) and must be a "
            f"string or an integer, got {type(value).__name__} {value!r:.60}. Map a field "
            "holding an id, or fix the record.",
            field=setting,
        )

    def _check_identity(self, message: dict[str, t.Any]) -> None:
        mapping = self.mapping
        if mapping.call_type == "alias":
            for setting, name, rule in (
                ("previous_id", "previousId", "previous_id_required"),
                ("user_id", "userId", "user_id_required"),
            ):
                if name not in message:
                    raise RecordRejectedError(
                        rule,
                        f"an alias call needs `{name}`, but {self._describe(setting)} is empty or "
                        "missing in this record; Segment would discard the call.",
                        field=setting,
                    )
            return
        if mapping.call_type == "group" and "groupId" not in message:
            raise RecordRejectedError(
                "group_id_required",
                f"a group call needs `groupId`, but {self._describe('group_id')} is empty or "
                "missing in this record; Segment would discard the call.",
                field="group_id",
            )
        if "userId" not in message and "anonymousId" not in message:
            sources = " and ".join(
                self._describe(s) for s in ("user_id", "anonymous_id") if s in mapping.scalars
            )
            raise RecordRejectedError(
                "no_user_anon_id",
                f"no userId and no anonymousId: {sources} empty or missing in this record. "
                "Segment answers 200 and discards such calls (no_user_anon_id). Map a field that "
                "is always set (a list of fields takes the first non-empty one), or fix the "
                "record.",
                field="user_id",
            )

    def _describe(self, setting: str) -> str:
        source = self.mapping.scalars.get(setting)
        return f"`{setting}` ({source.describe()})" if source else f"`{setting}` (not mapped)"

    def _event_name(self, source: ValueSource, record: dict[str, t.Any]) -> str:
        value = source.resolve(record)
        if value is MISSING or value is None or value == "":
            raise RecordRejectedError(
                "event_not_defined",
                f"a track call needs an event name, but {source.describe()} (mapping key `event`) "
                "is empty or missing in this record. Segment answers 200 and discards track calls "
                "without `event` (event_not_defined).",
                field="event",
            )
        if not isinstance(value, str):
            raise RecordRejectedError(
                "event_not_string",
                f"the event name from {source.describe()} must be a string, got "
                f"{type(value).__name__} {value!r:.60}; Segment discards it (event_not_string).",
                field="event",
            )
        return value

    def _page_text(self, source: ValueSource, value: t.Any, setting: str) -> str | None:
        if value is MISSING or value is None:
            return None
        if isinstance(value, str) and value.strip():
            return value
        detail = "an empty string" if isinstance(value, str) else type(value).__name__
        raise RecordRejectedError(
            f"{setting}_not_string",
            f"the {self.mapping.call_type} `{setting}` from {source.describe()} is {detail}; "
            f"Segment discards {self.mapping.call_type} calls whose `{setting}` is present but "
            f"not a non-empty string ({setting}_not_string). Fix the record, or leave "
            f"`{setting}` unmapped (it is optional).",
            field=setting,
        )

    def _payload(
        self, source: ObjectSource, record: dict[str, t.Any], name: str
    ) -> dict[str, t.Any]:
        try:
            values, clashes = source.build(record, self.mapping.used_fields)
        except NotAnObjectError as exc:
            raise RecordRejectedError(
                f"{name}_not_object",
                f"`{name}` come from field '{exc.path}', which holds a {exc.kind}, not an object; "
                f"Segment discards calls whose {name} are not an object ({name}_not_object).",
                field=name,
            ) from None
        except KeyNotStringError as exc:
            raise RecordRejectedError(
                "key_not_string",
                f"a key of `{name}` comes from {exc.source.describe()}, which is "
                f"{exc.value!r:.60} in this record; a key must be a non-empty string.",
                field=name,
            ) from None
        self.key_clashes += clashes
        if self.mapping.clevertap_dates:
            values = _clevertap_dates(values)
        if self.normalize is not None:
            try:
                values = self.normalize(values)
            except PropertyNameCollisionError as exc:
                raise RecordRejectedError(
                    "property_name_collision",
                    f"{exc} (in `{name}`)",
                    field=name,
                ) from None
        if len(values) > MAX_PROPERTIES:
            raise RecordRejectedError(
                "too_many_properties",
                f"`{name}` has {len(values):,} keys; Segment keeps at most {MAX_PROPERTIES:,} per "
                "call and silently drops the rest. Exclude fields in the mapping.",
                field=name,
            )
        return values

    def _context(self, record: dict[str, t.Any]) -> dict[str, t.Any]:
        context: dict[str, t.Any] = {}
        source = self.mapping.context
        if source is not None:
            try:
                built, _ = source.build(record, self.mapping.used_fields)
            except NotAnObjectError as exc:
                raise RecordRejectedError(
                    "context_not_object",
                    f"`context` comes from field '{exc.path}', which holds a {exc.kind}, not an "
                    "object.",
                    field="context",
                ) from None
            for key, value in built.items():
                if key in self._context_fields and "." in key:
                    _set_nested(context, key, value)
                else:
                    context[key] = value
        context["library"] = self.library
        return context

    def _timestamp(self, source: ValueSource, value: t.Any) -> str:
        if value.__class__ is dt.datetime and value.tzinfo is dt.UTC:  # a typed date-time
            return utc_text(value)
        if value is MISSING or value is None or value == "":
            raise RecordRejectedError(
                "timestamp_missing",
                f"the mapping takes the call's time from {source.describe()}, which is empty or "
                "missing in this record; Segment would record the send time instead of when it "
                "happened. Fix the record, or unmap `timestamp` to accept the send time.",
                field="timestamp",
            )
        text = iso_timestamp(value)
        if text is None:
            raise RecordRejectedError(
                "timestamp_invalid",
                f"the time from {source.describe()} is not a date-time: {value!r:.60}. Use ISO "
                "8601 (2024-05-01T12:00:00Z), epoch seconds or milliseconds.",
                field="timestamp",
            )
        return text

    # -- identity of the call -------------------------------------------------------------------

    def _message_id(self, record: dict[str, t.Any], message: dict[str, t.Any]) -> str:
        """Same record (or same content) -> same messageId, so Segment drops re-sends."""
        keys = [record.get(k) for k in self.key_properties]
        # A key that is entirely null identifies nothing: such rows are told apart by content.
        if self._by_key and keys.count(None) < len(keys):
            basis = json_text.dumps(keys, default=json_default, option=_JSON_OPTIONS)
        else:
            context = {k: v for k, v in message["context"].items() if k != "library"}
            basis = self._canonical({**message, "context": context})
        digest = hashlib.sha256(self._hash_prefix + basis).hexdigest()
        return MESSAGE_ID_PREFIX + digest

    def _canonical(self, message: dict[str, t.Any]) -> bytes:
        try:
            return json_text.dumps(
                message, default=json_default, option=_JSON_OPTIONS | orjson.OPT_SORT_KEYS
            )
        except TypeError as exc:
            raise self._not_serializable(exc) from None

    def _serialize(self, message: dict[str, t.Any]) -> bytes:
        try:
            payload = json_text.dumps(message, default=json_default, option=_JSON_OPTIONS)
        except TypeError as exc:
            raise self._not_serializable(exc) from None
        # Cheap bound first: json.dumps output is at most 3x the compact UTF-8 form.
        if len(payload) * 4 > MAX_MESSAGE_BYTES and (size := library_size(payload)) > (
            MAX_MESSAGE_BYTES
        ):
            raise RecordRejectedError(
                "message_too_large",
                f"the {message['type']} call is {size:,} bytes as Segment's library measures it "
                f"(json.dumps); Segment refuses messages over {MAX_MESSAGE_BYTES:,} bytes (32 KB) "
                "with HTTP 400. Leave large fields out of the mapping (`exclude`) or trim them at "
                "the source.",
                code=size,
            )
        return payload

    @staticmethod
    def _not_serializable(exc: TypeError) -> RecordRejectedError:
        return RecordRejectedError(
            "not_serializable",
            f"a value cannot be written as JSON ({exc}); only JSON types, dates and decimals are "
            "supported.",
        )


class RecordCalls:
    """The calls one record becomes: one per mapping whose ``when`` it passes, all or none.

    A rule broken by any call rejects the whole record, so Segment never receives half of what a
    record means (an identify without its track).
    """

    def __init__(self, builders: Sequence[MessageBuilder]) -> None:
        self.builders = tuple(builders)

    def build(self, record: dict[str, t.Any]) -> list[tuple[dict[str, t.Any], bytes]]:
        """(message, serialized bytes) of every call; raises RecordRejectedError."""
        return [b.build(record) for b in self.builders if b.mapping.applies_to(record)]
