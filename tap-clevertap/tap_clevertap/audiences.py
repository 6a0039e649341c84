"""Audience definitions: the ``audiences`` setting checked and turned into profiles-export queries.

An audience is everyone who did one event in the last N days, optionally narrowed by event,
session and profile-field conditions: exactly the filters CleverTap's query language documents
for ``/1/profiles.json`` (see the README, "Audiences"). Anything else is refused with a message
saying why, rather than sent to CleverTap to be ignored or guessed at.
"""

from __future__ import annotations

import datetime as dt
import decimal
import hashlib
import typing as t
from dataclasses import dataclass

import orjson
from clevertap_segment_common.property_names import normalize_name

from tap_clevertap.errors import SettingsError
from tap_clevertap.localtime import day_int

STRING_OPERATORS: t.Final = (
    "equals",
    "not_equals",
    "contains",
    "does_not_contain",
    "exists",
    "does_not_exist",
)
NUMBER_OPERATORS: t.Final = (
    "equals",
    "greater_than",
    "greater_than_equals",
    "less_than",
    "less_than_equals",
)
OPERATORS: t.Final = tuple(dict.fromkeys(STRING_OPERATORS + NUMBER_OPERATORS))
#: CleverTap's profiles export accepts a window of at most the past 365 days.
MAX_LAST_DAYS: t.Final = 365
#: Where each condition list goes in the CQL body.
CONDITIONS: t.Final = ("event_properties", "session_properties", "profile_properties")
KEYS: t.Final = ("name", "key", "event_name", "last_days", *CONDITIONS)

# Keys people reach for that the profiles export has no documented (or no usable) form for.
_NOT_SUPPORTED: t.Final = {
    "demographics": "CleverTap names common_profile_properties.demographics but documents no "
    "shape for its filters; use profile_properties on the profile field instead",
    "technographics": "CleverTap names common_profile_properties.technographics but documents "
    "no shape for its filters; use profile_properties on the profile field instead",
    "advanced_query": "advanced event filters (did_all / did_any / did_none) appear only in "
    "community code, not in a documented shape for the profiles export",
}
_FREQUENCY_WORDS: t.Final = ("count", "times", "frequency", "at_least", "min_", "max_", "occurr")


@dataclass(frozen=True, slots=True)
class Condition:
    """One (name, operator, value) filter as CleverTap's query language takes it."""

    name: str
    operator: str
    value: t.Any

    def as_cql(self) -> dict[str, t.Any]:
        """The filter object of the query body."""
        body: dict[str, t.Any] = {"name": self.name, "operator": self.operator}
        if self.value is not None:
            body["value"] = self.value
        return body


@dataclass(frozen=True, slots=True)
class Audience:
    """One audience: who did ``event_name`` in the last ``last_days`` days, with conditions."""

    name: str
    key: str
    event_name: str
    last_days: int
    event_properties: tuple[Condition, ...] = ()
    session_properties: tuple[Condition, ...] = ()
    profile_properties: tuple[Condition, ...] = ()

    def window(self, today: dt.date, *, include_today: bool) -> tuple[dt.date, dt.date]:
        """The run's window: the last ``last_days`` complete days (ending today if asked)."""
        last = today if include_today else today - dt.timedelta(days=1)
        return last - dt.timedelta(days=self.last_days - 1), last

    def conditions(self) -> dict[str, t.Any]:
        """The filter part of the profiles-export query body (no event or window)."""
        body: dict[str, t.Any] = {}
        if self.event_properties:
            body["event_properties"] = [c.as_cql() for c in self.event_properties]
        if self.session_properties:
            body["session_properties"] = [c.as_cql() for c in self.session_properties]
        if self.profile_properties:
            body["common_profile_properties"] = {
                "profile_fields": [c.as_cql() for c in self.profile_properties]
            }
        return body

    def definition(self) -> str:
        """A short fingerprint of what decides membership (event, window length, conditions)."""
        body = {"event_name": self.event_name, "last_days": self.last_days, **self.conditions()}
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()[:16]

    def describe(self, first: dt.date, last: dt.date) -> str:
        """How the audience reads in logs and errors."""
        return f"audience {self.name!r} ({self.event_name!r}, {day_int(first)}..{day_int(last)})"


def parse_audiences(raw: t.Any) -> tuple[Audience, ...]:
    """Check the ``audiences`` setting; raise SettingsError naming the audience, key and rule."""
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        msg = "Setting 'audiences' must be a list of audience definitions (objects)."
        raise SettingsError(msg)
    audiences = [_audience(item, i) for i, item in enumerate(raw)]
    for attribute in ("name", "key"):
        seen: set[str] = set()
        for audience in audiences:
            value = getattr(audience, attribute)
            if value in seen:
                msg = (
                    f"Setting 'audiences': two audiences have the {attribute} {value!r}; each "
                    "audience needs its own name and key (the key names its membership)."
                )
                raise SettingsError(msg)
            seen.add(value)
    return tuple(audiences)


def _audience(raw: t.Any, position: int) -> Audience:
    where = f"audiences[{position}]"
    if not isinstance(raw, dict):
        msg = f"Setting '{where}' must be an object with name, event_name and last_days."
        raise SettingsError(msg)
    name = raw.get("name")
    if isinstance(name, str) and name.strip():
        where = f"audience {name!r}"
    else:
        msg = f"Setting '{where}' needs a non-empty `name`."
        raise SettingsError(msg)
    _check_keys(raw, where)
    event_name = raw.get("event_name")
    if not isinstance(event_name, str) or not event_name:
        msg = (
            f"{where}: `event_name` is required (the exact, case-sensitive CleverTap event whose "
            "actors form the audience)."
        )
        raise SettingsError(msg)
    last_days = raw.get("last_days")
    if (
        not isinstance(last_days, int)
        or isinstance(last_days, bool)
        or not 1 <= last_days <= MAX_LAST_DAYS
    ):
        msg = (
            f"{where}: `last_days` is {last_days!r}; it must be a whole number of days from 1 to "
            f"{MAX_LAST_DAYS} (the window ends with the last complete day of each run)."
        )
        raise SettingsError(msg)
    key = raw.get("key")
    if key is None:
        key = normalize_name(name, "lodash")
    if not isinstance(key, str) or not key or key != key.strip():
        msg = (
            f"{where}: `key` is {key!r}; it must be a non-empty string without surrounding "
            "spaces (by default the snake_case form of the name)."
        )
        raise SettingsError(msg)
    return Audience(
        name=name,
        key=key,
        event_name=event_name,
        last_days=last_days,
        **{part: _conditions(raw.get(part), f"{where}: `{part}`") for part in CONDITIONS},
    )


def _check_keys(raw: dict[str, t.Any], where: str) -> None:
    for key in raw:
        if key in KEYS:
            continue
        lowered = key.lower()
        if lowered in _NOT_SUPPORTED or lowered in ("did_all", "did_any", "did_none"):
            reason = _NOT_SUPPORTED.get(lowered, _NOT_SUPPORTED["advanced_query"])
            msg = f"{where}: `{key}` is not supported: {reason}."
        elif any(word in lowered for word in _FREQUENCY_WORDS):
            msg = (
                f'{where}: `{key}` looks like a frequency condition ("at least N times"). '
                "CleverTap's query language documents no count condition for the profiles "
                "export, so the tap cannot ask for one and does not count events itself. "
                "Remove it; the audience is everyone who did the event at least once."
            )
        else:
            msg = f"{where}: unknown key `{key}`; an audience takes {', '.join(KEYS)}."
        raise SettingsError(msg)


def _conditions(raw: t.Any, where: str) -> tuple[Condition, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list | tuple):
        msg = f"{where} must be a list of {{name, operator, value}} conditions."
        raise SettingsError(msg)
    return tuple(_condition(item, f"{where}[{i}]") for i, item in enumerate(raw))


def _condition(raw: t.Any, where: str) -> Condition:
    if not isinstance(raw, dict) or set(raw) - {"name", "operator", "value"}:
        msg = f"{where} must be an object with exactly name, operator and value; got {raw!r}."
        raise SettingsError(msg)
    name, operator = raw.get("name"), raw.get("operator", "equals")
    if not isinstance(name, str) or not name:
        msg = f"{where} needs the property `name`."
        raise SettingsError(msg)
    if operator not in OPERATORS:
        msg = (
            f"{where} ({name!r}): operator {operator!r} is not one CleverTap's query language "
            f"documents; use one of {', '.join(OPERATORS)}."
        )
        raise SettingsError(msg)
    value = _value(raw.get("value"), f"{where} ({name!r})")
    values = value if isinstance(value, list) else [value]
    if operator in ("exists", "does_not_exist"):
        return Condition(name, operator, value)
    if value is None or value == []:
        msg = f"{where} ({name!r}): operator {operator} needs a `value`."
        raise SettingsError(msg)
    numbers = all(isinstance(v, int | float) for v in values)
    if operator not in STRING_OPERATORS and not numbers:
        msg = (
            f"{where} ({name!r}): {operator} compares numbers, but the value is {value!r}. "
            "Give a number (strings take equals, not_equals, contains, does_not_contain)."
        )
        raise SettingsError(msg)
    if operator not in NUMBER_OPERATORS and not all(isinstance(v, str) for v in values):
        msg = f"{where} ({name!r}): {operator} compares text, but the value is {value!r}."
        raise SettingsError(msg)
    if operator.startswith(("greater", "less")) and isinstance(value, list):
        msg = f"{where} ({name!r}): {operator} takes one number, not a list."
        raise SettingsError(msg)
    return Condition(name, operator, value)


def _value(raw: t.Any, where: str) -> t.Any:
    """A primitive or a list of primitives; booleans become "True"/"False" as CQL requires."""
    if isinstance(raw, list | tuple):
        return [_primitive(v, where) for v in raw]
    return None if raw is None else _primitive(raw, where)


def _primitive(value: t.Any, where: str) -> t.Any:
    if isinstance(value, bool):
        return "True" if value else "False"
    if isinstance(value, decimal.Decimal):  # config files are read with floats as Decimal
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, str | int | float):
        return value
    msg = (
        f"{where}: values must be strings, numbers or booleans (or a list of them), got "
        f"{type(value).__name__} {value!r:.60}."
    )
    raise SettingsError(msg)
