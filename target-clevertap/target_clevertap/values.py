"""Reading record fields and turning times into what CleverTap accepts (epoch seconds, $D_)."""

from __future__ import annotations

import datetime as dt
import re
import typing as t

if t.TYPE_CHECKING:
    import zoneinfo

#: Anything larger cannot be epoch seconds (year 5138): milliseconds or a packed date.
MAX_EPOCH_SECONDS = 100_000_000_000
_ISO_DATETIME = re.compile(
    r"^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$"
)
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_MISSING = object()


def lookup(record: t.Mapping[str, t.Any], path: str) -> t.Any:
    """The value at ``path``: a literal key first, else a dotted path into nested objects."""
    value = record.get(path, _MISSING)
    if value is not _MISSING:
        return value
    current: t.Any = record
    for part in path.split("."):
        if not isinstance(current, dict) or part not in current:
            return None
        current = current[part]
    return current


def _aware(moment: dt.datetime, tz: zoneinfo.ZoneInfo) -> dt.datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=tz)


def parse_datetime_text(text: str, tz: zoneinfo.ZoneInfo) -> dt.datetime | None:
    """An ISO-8601 date-time or date string as an aware datetime; None if it is neither."""
    text = text.strip()
    if _ISO_DATETIME.match(text):
        try:
            return _aware(dt.datetime.fromisoformat(text.replace("Z", "+00:00")), tz)
        except ValueError:
            return None
    if _ISO_DATE.match(text):
        try:
            return dt.datetime.combine(dt.date.fromisoformat(text), dt.time(), tzinfo=tz)
        except ValueError:
            return None
    return None


def looks_like_datetime(text: str) -> bool:
    """True for strings shaped like an ISO-8601 date-time (with a time part)."""
    return bool(_ISO_DATETIME.match(text.strip()))


def epoch_seconds(value: t.Any, tz: zoneinfo.ZoneInfo, *, unit: str = "s") -> int:
    """Epoch seconds for a datetime, date, number or ISO string; ValueError says why not."""
    if type(value) is dt.datetime and value.tzinfo is not None:
        return int(value.timestamp())
    if isinstance(value, bool):
        msg = "a boolean is not a time"
        raise ValueError(msg)
    if isinstance(value, dt.datetime):
        return int(_aware(value, tz).timestamp())
    if isinstance(value, dt.date):
        return int(dt.datetime.combine(value, dt.time(), tzinfo=tz).timestamp())
    if isinstance(value, int | float):
        seconds = value / 1000 if unit == "ms" else value
        if seconds >= MAX_EPOCH_SECONDS:
            msg = (
                "the number is too large for epoch seconds (milliseconds? set the mapping's "
                "timestamp_unit to 'ms')"
            )
            raise ValueError(msg)
        if seconds <= 0:
            msg = "epoch seconds must be positive"
            raise ValueError(msg)
        return int(seconds)
    if isinstance(value, str):
        parsed = parse_datetime_text(value, tz)
        if parsed is not None:
            return int(parsed.timestamp())
        if value.strip().isdigit():
            return epoch_seconds(int(value.strip()), tz, unit=unit)
        msg = "the text is not an ISO-8601 date-time or epoch number"
        raise ValueError(msg)
    msg = f"a {type(value).__name__} is not a time"
    raise ValueError(msg)


def packed_local_time(value: t.Any, tz: zoneinfo.ZoneInfo) -> int:
    """Epoch seconds of CleverTap's export ``ts`` (yyyyMMddHHmmss in the project timezone)."""
    text = str(value)
    if isinstance(value, bool) or not text.isdigit() or len(text) != 14:
        msg = "expected a yyyyMMddHHmmss number"
        raise ValueError(msg)
    moment = dt.datetime.strptime(text, "%Y%m%d%H%M%S").replace(tzinfo=tz)
    return int(moment.timestamp())


def clevertap_date(value: dt.datetime | dt.date, tz: zoneinfo.ZoneInfo) -> str:
    """CleverTap's date value: ``$D_<epoch seconds>``."""
    return f"$D_{epoch_seconds(value, tz)}"
