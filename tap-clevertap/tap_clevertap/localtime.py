"""CleverTap's local-time values: packed ``ts`` integers and export days in the account timezone."""

from __future__ import annotations

import datetime as dt
import typing as t

if t.TYPE_CHECKING:
    import zoneinfo

_UTC = dt.UTC


def ts_to_utc(ts: t.Any, tz: zoneinfo.ZoneInfo) -> tuple[str, str] | None:
    """Convert a packed ``yyyyMMddHHmmss`` local timestamp to (UTC RFC 3339, local ISO day).

    Returns None for anything that is not a valid packed timestamp. Local times that occur
    twice (DST fall-back) resolve to the first occurrence (fold=0); local times skipped by a
    DST spring-forward are interpreted with the offset in force before the gap, as zoneinfo does.
    """
    if isinstance(ts, bool) or not isinstance(ts, int | str):
        return None
    try:
        value = int(ts)
    except ValueError:
        return None
    if not 10000101000000 <= value <= 99991231235959:
        return None
    second = value % 100
    minute = value // 100 % 100
    if second > 59 or minute > 59:
        return None
    hour = _UTC_HOURS.get((tz, value // 10000))
    if hour is None:
        hour = _utc_hour(value // 10000, tz)
        if hour is None:
            return _to_utc(value, tz)
    before, after, shift = hour
    minute += shift
    utc = (
        f"{before}{minute:02d}:{second:02d}Z"
        if minute < 60
        else f"{after}{minute - 60:02d}:{second:02d}Z"
    )
    day = value // 1_000_000
    return utc, f"{day // 10000:04d}-{day // 100 % 100:02d}-{day % 100:02d}"


#: Per (timezone, local yyyyMMddHH): the UTC "YYYY-MM-DDTHH:" of the local minutes before and
#: after the UTC hour changes, and the minutes to add. astimezone plus strftime per record cost
#: ~8 us (bench/results/flamegraphs.json).
_UTC_HOURS: dict[tuple[zoneinfo.ZoneInfo, int], tuple[str, str, int]] = {}
_UTC_HOURS_LIMIT = 100_000


def _utc_hour(local_hour: int, tz: zoneinfo.ZoneInfo) -> tuple[str, str, int] | None:
    """The UTC hours of a local hour whose offset is whole minutes and does not change in it.

    None when it does (a DST change inside the hour, local mean time, an invalid date): such
    values are converted one by one.
    """
    day, hour = divmod(local_hour, 100)
    try:
        start = dt.datetime(day // 10000, day // 100 % 100, day % 100, hour, tzinfo=tz)
    except ValueError:
        return None
    offset = start.utcoffset()
    if offset is None or offset.seconds % 60 or offset != start.replace(minute=59).utcoffset():
        return None
    utc = start.astimezone(_UTC)
    shift = utc.minute  # the local minute 0 is this UTC minute
    before = utc.strftime("%Y-%m-%dT%H:")
    after = (utc + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:")
    if len(_UTC_HOURS) >= _UTC_HOURS_LIMIT:
        _UTC_HOURS.clear()
    _UTC_HOURS[(tz, local_hour)] = before, after, shift
    return before, after, shift


def _to_utc(value: int, tz: zoneinfo.ZoneInfo) -> tuple[str, str] | None:
    day, clock = divmod(value, 1_000_000)
    year, month_day = divmod(day, 10000)
    month, mday = divmod(month_day, 100)
    hour, minute_second = divmod(clock, 10000)
    minute, second = divmod(minute_second, 100)
    try:
        local = dt.datetime(year, month, mday, hour, minute, second, tzinfo=tz)
    except ValueError:
        return None
    utc = local.astimezone(_UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{year:04d}-{month:02d}-{mday:02d}"


def local_today(tz: zoneinfo.ZoneInfo, now: dt.datetime | None = None) -> dt.date:
    """Today's date in the account timezone."""
    return (now or dt.datetime.now(_UTC)).astimezone(tz).date()


def day_range(first: dt.date, last: dt.date) -> list[dt.date]:
    """Every day from first to last inclusive (empty when first > last)."""
    return [first + dt.timedelta(days=i) for i in range((last - first).days + 1)]


def parse_day(value: t.Any) -> dt.date | None:
    """Read a bookmark day written as YYYY-MM-DD (or a longer ISO string); None if unusable."""
    if not isinstance(value, str) or len(value) < 10:
        return None
    try:
        return dt.date.fromisoformat(value[:10])
    except ValueError:
        return None


def windows(first: dt.date, last: dt.date, days: int) -> list[tuple[dt.date, dt.date]]:
    """``[first, last]`` cut into consecutive inclusive windows of at most ``days`` days."""
    out = []
    start = first
    while start <= last:
        end = min(last, start + dt.timedelta(days=days - 1))
        out.append((start, end))
        start = end + dt.timedelta(days=1)
    return out


def day_int(day: dt.date) -> int:
    """CleverTap's integer day, e.g. 20261119."""
    return day.year * 10000 + day.month * 100 + day.day


def from_day_int(value: t.Any) -> dt.date | None:
    """Read CleverTap's YYYYMMDD day (an integer or a string of digits); None if unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or not 10000101 <= value <= 99991231:
        return None
    try:
        return dt.date(value // 10000, value // 100 % 100, value % 100)
    except ValueError:
        return None
