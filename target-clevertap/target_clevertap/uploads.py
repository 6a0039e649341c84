"""From a mapped record to the exact upload record, checking CleverTap's rules on the way.

Everything CleverTap would refuse (codes 509-525) or silently truncate (names over 120 bytes,
values over 512) is caught here instead of costing an API call. Rules about one property (its
name, its value's length, an object nested where CleverTap takes none, a DOB that is no date)
cost only that property: it is left out and listed in ``dropped``, and the rest of the record is
delivered, as CleverTap's own SDKs do (they skip such a property and send the event). Rules about
the record (identity, event name, standard profile fields CleverTap refuses the whole record for,
the property count) reject it, naming the rule and the field. Values are converted as CleverTap
wants them: dates as ``$D_<epoch>``, standard profile fields in their canonical spelling (Gender
M/F, Employed Y/N, ...).
"""

from __future__ import annotations

import datetime as dt
import decimal
import re
import typing as t
from dataclasses import dataclass

import orjson
from clevertap_segment_common.delivery import Rejection
from clevertap_segment_common.property_names import PropertyNameCollisionError
from clevertap_segment_common.property_names.reserved import CLEVERTAP_SUBSCRIPTION_KEYS

from target_clevertap.presets.base import rejected
from target_clevertap.rules import (
    COLLISION,
    EMPTY_KEY,
    EVENT_NAME_MISSING,
    INVALID_AGE,
    INVALID_DOB,
    INVALID_EDUCATION,
    INVALID_EMAIL,
    INVALID_EMPLOYED,
    INVALID_GENDER,
    INVALID_MARRIED,
    INVALID_PHONE,
    INVALID_SUBSCRIPTION,
    KEY_TOO_LONG,
    NESTED_VALUE,
    RESTRICTED_EVENT,
    TOO_MANY_PROPERTIES,
    VALUE_TOO_LONG,
)
from target_clevertap.values import clevertap_date, looks_like_datetime, parse_datetime_text

if t.TYPE_CHECKING:
    import zoneinfo

    from clevertap_segment_common.property_names import PropertyNameNormalizer

    from target_clevertap.presets import Mapped
    from target_clevertap.rules import Rule

MAX_KEY_BYTES = 120
MAX_VALUE_BYTES = 512
MAX_PROFILE_CUSTOM_KEYS = 256
MAX_NESTING = 3
_GOOD_KEYS_LIMIT = 100_000
_SHORT_TEXT = MAX_VALUE_BYTES // 4  # no string this short can exceed the byte limit
OPERATORS = frozenset({"$add", "$remove", "$incr", "$decr"})
STANDARD_PROFILE_KEYS = frozenset(
    {
        "Name", "Email", "Phone", "Gender", "DOB", "Photo", "Identity", "Employed", "Education",
        "Married", "Age", "Customer Type", "identity",
    }
)  # fmt: skip
#: CleverTap system events an upload may not raise (513), compared case-insensitively. The full
#: list is not published: these are the system events CleverTap exports (docs/segment-api.md §4),
#: the SDK lifecycle and identity events, and the AB-experiment events.
RESTRICTED_EVENTS = (
    "App Launched", "App Installed", "App Uninstalled", "App Version Changed",
    "Notification Sent", "Notification Viewed", "Notification Clicked", "Notification Replied",
    "Push Impressions", "Push Unregistered", "Control Group", "Channel Subscribed",
    "Channel Unsubscribed", "Reply Sent", "Webhook Delivered", "UTM Visited",
    "AB Experiment Stopped", "AB Experiment Rolled Out", "AB Experiment Disqualified",
    "Geocluster Entered", "Geocluster Exited", "Session Concluded", "Stayed", "Identity Set",
    "Reachable By", "State Transitioned",
)  # fmt: skip

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
_PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
_PHONE_SEPARATORS = re.compile(r"[\s\-().]")
_GENDER = {"m": "M", "male": "M", "f": "F", "female": "F"}
_YES_NO = {"y": "Y", "yes": "Y", "true": "Y", "n": "N", "no": "N", "false": "N"}
_EDUCATION = {"school": "School", "college": "College", "graduate": "Graduate"}
_CLEVERTAP_DATE = re.compile(r"^\$D_-?\d+$")


def _fail(rule: Rule, reason: str, field: str) -> t.NoReturn:
    raise rejected(rule, reason, field=field)


class InvalidField(Exception):
    """A property CleverTap cannot take, while it takes the rest of the record."""

    def __init__(self, rule: Rule, reason: str, field: str) -> None:
        super().__init__(reason)
        self.rule, self.reason, self.field = rule, reason, field


def _invalid(rule: Rule, reason: str, field: str) -> t.NoReturn:
    raise InvalidField(rule, reason, field)


@dataclass(frozen=True, slots=True)
class DroppedField:
    """A property left out of a delivered record: its name, its value and why."""

    key: str
    value: t.Any
    rejection: Rejection


def collision_rejection(exc: PropertyNameCollisionError) -> Exception:
    """Two names written as one key, as a rejection of the record."""
    return rejected(COLLISION, str(exc), field=exc.normalized_key)


def _utf8_len(text: str) -> int:
    return len(text) if text.isascii() else len(text.encode())


def _too_long(text: str, limit: int) -> bool:
    # A code point is at most 4 bytes in UTF-8: short strings need no encoding to check.
    return len(text) * 4 > limit and _utf8_len(text) > limit


def _maybe_datetime(text: str) -> bool:
    # Cheap pre-check before the regex: "YYYY-MM-DDTHH:MM..." (T or space).
    return (
        16 <= len(text) <= 40 and text[4] == "-" and text[10] in "T " and looks_like_datetime(text)
    )


@dataclass(frozen=True)
class UploadRules:
    """The configurable part of the rules."""

    timezone: zoneinfo.ZoneInfo
    nested_values: str = "stringify"
    max_event_properties: int = 100
    convert_date_strings: bool = True
    #: Strip whitespace around text values at the top level of the data.
    trim_values: bool = False
    #: on_invalid_field: drop_field (True) or reject_record (False).
    drop_invalid_fields: bool = True
    restricted_events: frozenset[str] = frozenset(name.lower() for name in RESTRICTED_EVENTS)


class UploadBuilder:
    """Builds upload records; shared by all sinks, safe to call from one thread at a time."""

    def __init__(self, normalizer: PropertyNameNormalizer, rules: UploadRules) -> None:
        self.normalizer = normalizer
        self.rules = rules
        self._pass_through = rules.nested_values == "pass_through"
        self._trim = rules.trim_values
        #: Properties the last ``build`` left out (empty unless a property broke a field rule).
        self.dropped: list[DroppedField] = []
        # Names already checked: property and event names repeat record after record.
        self._good_keys: set[str] = set()
        self._good_event_names: set[str] = set()

    def build(self, mapped: Mapped) -> tuple[dict[str, t.Any], bool]:
        """The upload record, and whether re-sending it would change CleverTap's data."""
        if self.dropped:
            self.dropped = []
        try:
            data = self.normalizer.normalize(mapped.data)
        except PropertyNameCollisionError as exc:
            raise collision_rejection(exc) from None
        record: dict[str, t.Any] = {"type": mapped.kind}
        if mapped.identity is not None:
            record["identity"] = mapped.identity
        else:
            record["objectId"] = mapped.object_id
        if mapped.ts is not None:
            record["ts"] = mapped.ts
        if mapped.kind == "profile":
            profile, has_operations = self._profile_data(data)
            profile.update(mapped.verbatim)
            record["profileData"] = profile
            return record, has_operations
        name = mapped.event_name or ""
        if name not in self._good_event_names:
            self._check_event_name(name)
        record["evtName"] = name
        record["evtData"] = self._event_data(data, charged=mapped.charged)
        return record, True

    def _check_event_name(self, name: str) -> None:
        if not name.strip():
            _fail(EVENT_NAME_MISSING, "the event has no name", "evtName")
        if name.strip().lower() in self.rules.restricted_events:
            _fail(
                RESTRICTED_EVENT,
                f"'{name}' is a CleverTap system event; uploads may not raise it",
                "evtName",
            )
        if _too_long(name, MAX_VALUE_BYTES):
            _fail(VALUE_TOO_LONG, f"the event name is over {MAX_VALUE_BYTES} bytes", "evtName")
        if len(self._good_event_names) >= _GOOD_KEYS_LIMIT:
            self._good_event_names.clear()
        self._good_event_names.add(name)

    # -- profiles --------------------------------------------------------------------------------

    def _profile_data(self, data: dict[str, t.Any]) -> tuple[dict[str, t.Any], bool]:
        out: dict[str, t.Any] = {}
        has_operations = False
        custom = 0
        for key, value in data.items():
            try:
                self._check_key(key)
                if value is None:
                    continue
                if key in STANDARD_PROFILE_KEYS:
                    out[key] = self._standard(key, value)
                    continue
                if key in CLEVERTAP_SUBSCRIPTION_KEYS:
                    out[key] = _subscription_flag(key, value)
                    continue
                if isinstance(value, dict) and len(value) == 1 and next(iter(value)) in OPERATORS:
                    out[key] = self._operation(key, value)
                    has_operations = True
                elif isinstance(value, list | tuple) and all(_is_scalar(v) for v in value):
                    out[key] = [self._multi_value_item(key, v) for v in value if v is not None]
                else:
                    out[key] = self._value(key, value, depth=0)
            except InvalidField as invalid:
                self._drop(key, value, invalid)
                continue
            if not key.startswith("MSG-"):
                custom += 1
        if custom > MAX_PROFILE_CUSTOM_KEYS:
            _fail(
                TOO_MANY_PROPERTIES,
                f"the profile has {custom} custom properties; CleverTap keeps at most "
                f"{MAX_PROFILE_CUSTOM_KEYS}",
                "profileData",
            )
        return out, has_operations

    def _standard(self, key: str, value: t.Any) -> t.Any:
        text = value.strip() if isinstance(value, str) else value
        if key == "Email":
            if not isinstance(text, str) or not _EMAIL.match(text):
                _fail(INVALID_EMAIL, "Email is not an email address", key)
            return self._text(key, text)
        if key == "Phone":
            phone = _PHONE_SEPARATORS.sub("", text) if isinstance(text, str) else None
            if phone is None or not _PHONE.match(phone):
                _fail(
                    INVALID_PHONE,
                    "Phone is not E.164 (a + then country code and number, 7-15 digits)",
                    key,
                )
            return phone
        if key == "Gender":
            gender = _GENDER.get(text.lower()) if isinstance(text, str) else None
            if gender is None:
                _fail(INVALID_GENDER, "Gender is not M/F (or male/female)", key)
            return gender
        if key in ("Employed", "Married"):
            rule = INVALID_EMPLOYED if key == "Employed" else INVALID_MARRIED
            if isinstance(text, bool):
                return "Y" if text else "N"
            answer = _YES_NO.get(text.lower()) if isinstance(text, str) else None
            if answer is None:
                _fail(rule, f"{key} is not Y/N (or yes/no, true/false)", key)
            return answer
        if key == "Education":
            education = _EDUCATION.get(text.lower()) if isinstance(text, str) else None
            if education is None:
                _fail(INVALID_EDUCATION, "Education is not School, College or Graduate", key)
            return education
        if key == "Age":
            return _age(text)
        if key == "DOB":
            return self._dob(text)
        return self._value(key, value, depth=0)

    def _dob(self, value: t.Any) -> str:
        tz = self.rules.timezone
        if isinstance(value, dt.date):
            return clevertap_date(value, tz)
        if isinstance(value, str):
            if _CLEVERTAP_DATE.match(value):
                return value
            parsed = parse_datetime_text(value, tz)
            if parsed is not None:
                return clevertap_date(parsed, tz)
        _invalid(
            INVALID_DOB,
            "DOB is not a date; send an ISO 8601 date (YYYY-MM-DD), a date-time or "
            "$D_<epoch seconds> (CleverTap would keep other values as text, not as a birth date)",
            "DOB",
        )

    def _operation(self, key: str, value: dict[str, t.Any]) -> dict[str, t.Any]:
        operator, operand = next(iter(value.items()))
        if operator in ("$incr", "$decr"):
            if isinstance(operand, bool) or not isinstance(operand, int | float | decimal.Decimal):
                _invalid(NESTED_VALUE, f"'{key}': {operator} needs a number", key)
            return {operator: _number(operand)}
        items = operand if isinstance(operand, list | tuple) else [operand]
        if not all(_is_scalar(v) and v is not None for v in items):
            _invalid(NESTED_VALUE, f"'{key}': {operator} needs text values", key)
        return {operator: [self._multi_value_item(key, v) for v in items]}

    def _multi_value_item(self, key: str, value: t.Any) -> str:
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, dt.date):
            text = value.isoformat()
        else:
            text = str(value)
        return self._text(key, text)

    # -- events ----------------------------------------------------------------------------------

    def _event_data(self, data: dict[str, t.Any], *, charged: bool) -> dict[str, t.Any]:
        out: dict[str, t.Any] = {}
        good_keys, dates, trim = self._good_keys, self.rules.convert_date_strings, self._trim
        for key, value in data.items():
            try:
                if key not in good_keys:
                    self._check_key(key)
                if charged and key == "Items" and value is not None:
                    out[key] = self._items(value)
                    continue
                kind = type(value)
                # Fast path, inlined for speed: numbers, booleans, short non-date text as sent.
                if kind is str:
                    text = value.strip() if trim else value
                    if len(text) <= _SHORT_TEXT and not (
                        dates and len(text) >= 16 and text[4] == "-" and _maybe_datetime(text)
                    ):
                        out[key] = text
                        continue
                elif kind is int or kind is float or kind is bool:
                    out[key] = value
                    continue
                if value is not None:
                    out[key] = self._value(key, value, depth=0)
            except InvalidField as invalid:
                self._drop(key, value, invalid)
        if len(out) > self.rules.max_event_properties:
            _fail(
                TOO_MANY_PROPERTIES,
                f"the event has {len(out)} properties; the limit is "
                f"{self.rules.max_event_properties} (setting max_event_properties)",
                "evtData",
            )
        return out

    def _drop(self, key: str, value: t.Any, invalid: InvalidField) -> None:
        """Leave one property out (on_invalid_field: drop_field), or reject the record."""
        if not self.rules.drop_invalid_fields:
            raise rejected(invalid.rule, invalid.reason, field=invalid.field) from None
        code = invalid.rule.code
        whole = f" (CleverTap would refuse the whole record, code {code})" if code else ""
        reason = f"{invalid.reason}{whole}; the record was delivered without '{key}'"
        rejection = Rejection(reason=reason, rule=invalid.rule.name, field=invalid.field)
        self.dropped.append(DroppedField(key, value, rejection))

    def _items(self, value: t.Any) -> list[dict[str, t.Any]]:
        if not isinstance(value, list | tuple) or not all(isinstance(i, dict) for i in value):
            _invalid(NESTED_VALUE, "Charged 'Items' must be a list of objects", "Items")
        items = []
        for item in value:
            flat: dict[str, t.Any] = {}
            for key, inner in item.items():
                self._check_key(key)
                if inner is not None:
                    flat[key] = self._value(f"Items.{key}", inner, depth=1)
            items.append(flat)
        return items

    # -- values ----------------------------------------------------------------------------------

    def _check_key(self, key: str) -> None:
        if key in self._good_keys:
            return
        if not key.strip():
            _invalid(EMPTY_KEY, "a property name is empty (after name normalization)", key)
        if _utf8_len(key) > MAX_KEY_BYTES:
            _invalid(
                KEY_TOO_LONG,
                f"property name '{key[:40]}...' is over {MAX_KEY_BYTES} bytes",
                key[:MAX_KEY_BYTES],
            )
        if len(self._good_keys) >= _GOOD_KEYS_LIMIT:
            self._good_keys.clear()
        self._good_keys.add(key)

    def _text(self, key: str, text: str) -> str:
        if _too_long(text, MAX_VALUE_BYTES):
            size = _utf8_len(text)
            _invalid(
                VALUE_TOO_LONG,
                f"the value of '{key}' is {size} bytes (as text); CleverTap keeps at most "
                f"{MAX_VALUE_BYTES}",
                key,
            )
        return text

    def _value(self, key: str, value: t.Any, *, depth: int) -> t.Any:
        if isinstance(value, str):
            if self._trim and not depth:
                value = value.strip()
            if self.rules.convert_date_strings and _maybe_datetime(value):
                parsed = parse_datetime_text(value, self.rules.timezone)
                if parsed is not None:
                    return clevertap_date(parsed, self.rules.timezone)
            return self._text(key, value)
        if isinstance(value, bool | int | float):
            return value
        if isinstance(value, decimal.Decimal):
            return _number(value)
        if isinstance(value, dt.date):
            return clevertap_date(value, self.rules.timezone)
        if isinstance(value, dt.time):
            return value.isoformat()
        if isinstance(value, dict | list | tuple):
            return self._nested(key, value, depth)
        return self._text(key, str(value))

    def _nested(self, key: str, value: t.Any, depth: int) -> t.Any:
        if not self._pass_through:
            text = orjson.dumps(value, default=str, option=orjson.OPT_NON_STR_KEYS).decode()
            return self._text(key, text)
        if depth + 1 > MAX_NESTING:
            _invalid(
                NESTED_VALUE,
                f"'{key}' nests deeper than {MAX_NESTING} levels (CleverTap's nested-object limit)",
                key,
            )
        if isinstance(value, dict):
            out = {}
            for inner_key, inner in value.items():
                self._check_key(inner_key)
                if inner is not None:
                    out[inner_key] = self._value(f"{key}.{inner_key}", inner, depth=depth + 1)
            return out
        return [self._value(key, inner, depth=depth + 1) for inner in value if inner is not None]


def _is_scalar(value: t.Any) -> bool:
    return not isinstance(value, dict | list | tuple)


def _number(value: t.Any) -> int | float:
    if isinstance(value, decimal.Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return t.cast("int | float", value)


def _whole_number(value: t.Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value) if value.isdigit() else None
    whole = isinstance(value, float) and value.is_integer()
    whole = whole or (isinstance(value, decimal.Decimal) and value.is_finite() and value % 1 == 0)
    return int(value) if whole else None


def _subscription_flag(key: str, value: t.Any) -> bool:
    if not isinstance(value, bool):
        _fail(
            INVALID_SUBSCRIPTION,
            f"{key} is a subscription flag and must be a boolean (true/false), not text or a "
            "number; map it from a boolean field",
            key,
        )
    return value


def _age(value: t.Any) -> int:
    age = _whole_number(value)
    if age is None or not 0 <= age <= 150:
        _fail(INVALID_AGE, "Age is not a whole number from 0 to 150", "Age")
    return age
