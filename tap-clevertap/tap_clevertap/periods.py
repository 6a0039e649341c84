"""Trend periods (daily, weekly, monthly) and the keys CleverTap gives them.

Keys as the sandbox answers them (the live response shape is not documented, docs/clevertap-api.md
§3.4): daily ``YYYYMMDD``, weekly ISO ``YYYYWW``, monthly ``YYYYMM``.
"""

from __future__ import annotations

import datetime as dt

from tap_clevertap.localtime import from_day_int

#: Longest span of one trends query (a secondary source says one year).
MAX_TREND_SPAN_DAYS = 366


def period_start(day: dt.date, trend_type: str) -> dt.date:
    """First day of the period holding ``day``."""
    if trend_type == "weekly":
        return day - dt.timedelta(days=day.weekday())
    if trend_type == "monthly":
        return day.replace(day=1)
    return day


def period_end(start: dt.date, trend_type: str) -> dt.date:
    """Last day of the period starting on ``start``."""
    if trend_type == "weekly":
        return start + dt.timedelta(days=6)
    if trend_type == "monthly":
        following = (start.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
        return following - dt.timedelta(days=1)
    return start


def parse_period(key: str, trend_type: str) -> dt.date | None:
    """The first day of the period CleverTap names ``key``; None when it cannot be read."""
    if not key.isdigit():
        return None
    try:
        if trend_type == "weekly" and len(key) == 6:
            return dt.date.fromisocalendar(int(key[:4]), int(key[4:]), 1)
        if trend_type == "monthly" and len(key) == 6:
            return dt.date(int(key[:4]), int(key[4:]), 1)
    except ValueError:
        return None
    if trend_type == "daily" and len(key) == 8:
        return from_day_int(int(key))
    return None


def chunks(first: dt.date, last: dt.date, trend_type: str) -> list[tuple[dt.date, dt.date]]:
    """Query windows over whole periods from ``first``'s period to ``last``, each within a year.

    A window never splits a period, so each period is counted by exactly one query; the last
    window ends at ``last`` (its last period may be partial).
    """
    out: list[tuple[dt.date, dt.date]] = []
    start = period_start(first, trend_type)
    while start <= last:
        window_start = start
        end = period_end(start, trend_type)
        while True:
            following = end + dt.timedelta(days=1)
            following_end = period_end(following, trend_type)
            if following > last or (following_end - window_start).days + 1 > MAX_TREND_SPAN_DAYS:
                break
            end = following_end
        out.append((window_start, min(end, last)))
        start = end + dt.timedelta(days=1)
    return out
