"""Per-record validation of CleverTap's /1/upload (docs/clevertap-api.md §4.3-4.4).

Messages follow the observed texts ("Profile data is incorrect. Email is not valid.") and end
with "Skipped record number : N", N being the 1-based position in `d`.

Length limits are measured the way §4.4 states them: event property names in characters,
event values in UTF-8 bytes, profile keys and scalar values in UTF-8 bytes (the docs say
"bytes/characters": bytes is the stricter reading), multi-value items in characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from clevertap_segment_sandbox.catalog import RESTRICTED_UPLOAD_EVENTS

IDENTITY_KEYS = ("identity", "objectId", "FBID", "GPID")
OPERATIONS = ("$add", "$remove", "$incr", "$decr")
MAX_KEY_LENGTH = 120
MAX_VALUE_BYTES = 512
MAX_MULTI_VALUE_ITEM_LENGTH = 512
MAX_PROFILE_KEYS = 256
MAX_MULTI_VALUES = 100
# Anything above this is not epoch seconds (it is year 5138): milliseconds sent by mistake.
MAX_EPOCH_SECONDS = 100_000_000_000

EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[A-Za-z]{2,}$")
PHONE = re.compile(r"^\+[1-9]\d{6,14}$")
OBJECT_ID = re.compile(r"^[A-Za-z0-9_\-:]{1,64}$")
DATE_VALUE = re.compile(r"^\$D_(-?\d+)$")

PROFILE_ENUMS = {
    "Gender": (514, ("M", "F"), "Gender needs to be M/F."),
    "Employed": (517, ("Y", "N"), "Employed needs to be Y/N."),
    "Education": (
        518,
        ("School", "College", "Graduate"),
        "Education needs to be School/College/Graduate.",
    ),
    "Married": (519, ("Y", "N"), "Married needs to be Y/N."),
}


@dataclass(frozen=True)
class RecordError:
    """Why one record was skipped."""

    code: int
    message: str

    def text(self, position: int) -> str:
        """The `error` string CleverTap returns for the record at `position` (1-based)."""
        return f"{self.message}Skipped record number : {position}"


@dataclass(frozen=True)
class UploadLimits:
    """Account settings that change validation."""

    max_event_properties: int = 100
    allow_nested_objects: bool = False


SCALARS = frozenset({str, int, float, bool, type(None)})


def _is_scalar(value: object) -> bool:
    return value.__class__ in SCALARS


def _utf8_length(text: str) -> int:
    return len(text.encode("utf-8", "surrogatepass"))


def _too_many_bytes(value: object) -> bool:
    return isinstance(value, str) and _utf8_length(value) > MAX_VALUE_BYTES


def _identity_error(record: dict[str, Any]) -> RecordError | None:
    present = [key for key in IDENTITY_KEYS if key in record and record[key] not in ("", None)]
    if not present:
        return RecordError(523, "Identity, objectId, FBID or GPID is mandatory. ")
    if len(present) > 1:
        return RecordError(
            523, f"Only one of identity, objectId, FBID or GPID may be given, got {present}. "
        )
    key = present[0]
    value = record[key]
    if key == "objectId":
        if not isinstance(value, str) or not OBJECT_ID.match(value):
            return RecordError(526, "objectId is invalid. ")
    elif isinstance(value, bool) or not isinstance(value, str | int):
        return RecordError(523, f"{key} must be a string or a number. ")
    return None


def _ts_error(record: dict[str, Any]) -> RecordError | None:
    if "ts" not in record:
        return None
    ts = record["ts"]
    if isinstance(ts, bool) or not isinstance(ts, int) or not 0 < ts < MAX_EPOCH_SECONDS:
        return RecordError(525, "Timestamp should be present in the Unix Epoch format. ")
    return None


def _event_error(record: dict[str, Any], limits: UploadLimits) -> RecordError | None:
    name = record.get("evtName")
    if not isinstance(name, str) or not name.strip():
        return RecordError(509, "Event name is mandatory. ")
    if name.strip().lower() in RESTRICTED_UPLOAD_EVENTS:
        return RecordError(513, f"Raised a restricted system event : {name}. ")
    data = record.get("evtData", {})
    if not isinstance(data, dict):
        return RecordError(512, "Event data is incorrect. evtData must be an object. ")
    if len(data) > limits.max_event_properties:
        return RecordError(
            522,
            f"Event data is incorrect. Event properties limit exceeded : {len(data)} > "
            f"{limits.max_event_properties}. ",
        )
    for key, value in data.items():
        if len(key) > MAX_KEY_LENGTH:
            return RecordError(
                512, f"Event data is incorrect. Property name longer than 120 characters : {key}."
            )
        if value.__class__ in SCALARS:
            if _too_many_bytes(value):
                return RecordError(
                    512,
                    f"Event data is incorrect. Value longer than 512 bytes for field : {key}.",
                )
            continue
        if key == "Items" and name == "Charged":
            if not isinstance(value, list) or not all(
                isinstance(item, dict) and all(_is_scalar(v) for v in item.values())
                for item in value
            ):
                return RecordError(
                    512,
                    "Event data is incorrect. 512 - Items must be a list of flat objects, "
                    "incorrect nested structure for field : Items.",
                )
            continue
        if not limits.allow_nested_objects:
            return RecordError(
                512,
                "Event data is incorrect. 512 - Only Items can have a nested structure, "
                f"incorrect nested structure for field : {key}.",
            )
    return None


def _standard_field_error(key: str, value: object) -> RecordError | None:
    if key == "Email" and not (isinstance(value, str) and EMAIL.match(value)):
        return RecordError(515, "Profile data is incorrect. Email is not valid.")
    if key == "Phone" and not (isinstance(value, str) and PHONE.match(value)):
        return RecordError(516, "Profile data is incorrect. Phone number is not valid.")
    if key in PROFILE_ENUMS:
        code, allowed, message = PROFILE_ENUMS[key]
        if value not in allowed:
            return RecordError(code, f"Profile data is incorrect. {message}")
    if key == "Age" and (
        isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= 120
    ):
        return RecordError(520, "Profile data is incorrect. Age is invalid.")
    return None


def _profile_value_error(key: str, value: object, limits: UploadLimits) -> RecordError | None:
    if isinstance(value, dict):
        operation = [op for op in OPERATIONS if op in value]
        if len(operation) == 1 and len(value) == 1:
            argument = value[operation[0]]
            if operation[0] in ("$incr", "$decr"):
                if isinstance(argument, bool) or not isinstance(argument, int | float):
                    return RecordError(
                        555, f"Profile data is incorrect. {operation[0]} needs a number : {key}."
                    )
            elif not (
                isinstance(argument, str)
                or (isinstance(argument, list) and all(isinstance(v, str) for v in argument))
            ):
                return RecordError(
                    555,
                    f"Profile data is incorrect. {operation[0]} needs strings for field : {key}.",
                )
            return None
        if limits.allow_nested_objects:
            return None
        return RecordError(
            555, f"Profile data is incorrect. Nested structure not allowed for field : {key}."
        )
    if isinstance(value, list):
        if not all(isinstance(item, str) for item in value) and not limits.allow_nested_objects:
            return RecordError(
                555,
                f"Profile data is incorrect. Multi-value field must be a list of strings : {key}.",
            )
        if any(isinstance(item, str) and len(item) > MAX_MULTI_VALUE_ITEM_LENGTH for item in value):
            return RecordError(
                555,
                f"Profile data is incorrect. Multi-value item longer than 512 characters : {key}.",
            )
        return None
    if _too_many_bytes(value):
        return RecordError(555, f"Profile data is incorrect. Value longer than 512 bytes : {key}.")
    return _standard_field_error(key, value)


def _profile_error(record: dict[str, Any], limits: UploadLimits) -> RecordError | None:
    data = record.get("profileData", {})
    if not isinstance(data, dict):
        return RecordError(555, "Profile data is incorrect. profileData must be an object. ")
    if len(data) > MAX_PROFILE_KEYS:
        return RecordError(
            555, f"Profile data is incorrect. More than {MAX_PROFILE_KEYS} profile properties. "
        )
    for key, value in data.items():
        if _utf8_length(key) > MAX_KEY_LENGTH:
            return RecordError(
                555, f"Profile data is incorrect. Property name longer than 120 bytes : {key}."
            )
        error = _profile_value_error(key, value, limits)
        if error:
            return error
    return None


def validate_record(record: object, limits: UploadLimits) -> RecordError | None:
    """The first rule a record breaks, in CleverTap's order of concern, or None if accepted."""
    if not isinstance(record, dict) or record.get("type") not in ("event", "profile"):
        return RecordError(524, "Data is neither event nor profile. ")
    error = _identity_error(record) or _ts_error(record)
    if error:
        return error
    if record["type"] == "event":
        return _event_error(record, limits)
    return _profile_error(record, limits)


def stored_value(value: object) -> object:
    """`$D_<epoch>` strings become dates ({"$date": epoch}); everything else is kept as sent."""
    if isinstance(value, str) and value.startswith("$D_"):
        match = DATE_VALUE.match(value)
        if match:
            return {"$date": int(match.group(1))}
    return value
