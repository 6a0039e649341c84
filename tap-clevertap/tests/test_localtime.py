"""Packed local `ts` values to UTC, in a fixed-offset zone and across DST changes."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from tap_clevertap.localtime import day_range, local_today, ts_to_utc

KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")


def test_kolkata_is_utc_plus_0530_and_crosses_midnight_backwards():
    assert ts_to_utc(20261119003232, KOLKATA) == ("2026-11-18T19:02:32Z", "2026-11-19")
    assert ts_to_utc(20261119235959, KOLKATA) == ("2026-11-19T18:29:59Z", "2026-11-19")


def test_new_york_standard_and_daylight_time():
    assert ts_to_utc(20260115120000, NEW_YORK) == ("2026-01-15T17:00:00Z", "2026-01-15")
    assert ts_to_utc(20260715120000, NEW_YORK) == ("2026-07-15T16:00:00Z", "2026-07-15")


def test_new_york_fall_back_hour_takes_the_first_occurrence():
    # 2026-11-01 01:30 happens twice in New York; the first one is still EDT (UTC-4).
    assert ts_to_utc(20261101013000, NEW_YORK) == ("2026-11-01T05:30:00Z", "2026-11-01")


def test_new_york_spring_forward_gap_uses_the_offset_before_the_gap():
    # 2026-03-08 02:30 does not exist in New York; read with EST (UTC-5).
    assert ts_to_utc(20260308023000, NEW_YORK) == ("2026-03-08T07:30:00Z", "2026-03-08")


@pytest.mark.parametrize(
    "bad", [None, 0, True, 2026111900, 20261332000000, 20260230120000, "x", 1.5]
)
def test_unusable_values_give_none(bad):
    assert ts_to_utc(bad, KOLKATA) is None


def test_string_ts_is_read_as_a_number():
    assert ts_to_utc("20261119003232", KOLKATA) == ("2026-11-18T19:02:32Z", "2026-11-19")


def test_local_today_follows_the_zone():
    now = dt.datetime(2026, 11, 19, 19, 0, tzinfo=dt.UTC)
    assert local_today(KOLKATA, now) == dt.date(2026, 11, 20)
    assert local_today(NEW_YORK, now) == dt.date(2026, 11, 19)


def test_day_range_is_inclusive():
    assert day_range(dt.date(2026, 2, 27), dt.date(2026, 3, 1)) == [
        dt.date(2026, 2, 27),
        dt.date(2026, 2, 28),
        dt.date(2026, 3, 1),
    ]
    assert day_range(dt.date(2026, 3, 2), dt.date(2026, 3, 1)) == []


ZONES = [KOLKATA, NEW_YORK, zoneinfo.ZoneInfo("Australia/Lord_Howe"), zoneinfo.ZoneInfo("UTC")]


@settings(max_examples=400, deadline=None)
@given(
    moment=st.datetimes(min_value=dt.datetime(1850, 1, 1), max_value=dt.datetime(2100, 12, 31)),
    zone=st.sampled_from(ZONES),
)
@example(moment=dt.datetime(2026, 10, 4, 2, 45, 10), zone=ZONES[2])  # after Lord Howe's gap
@example(moment=dt.datetime(2026, 4, 5, 1, 45, 10), zone=ZONES[2])  # Lord Howe's fall-back
@example(moment=dt.datetime(2026, 11, 1, 1, 59, 59), zone=NEW_YORK)
def test_remembered_hours_give_what_zoneinfo_gives(moment, zone):
    # Lord Howe moves by 30 minutes, inside an hour; 1850 is before every zone's standard time
    # (offsets in seconds). The second call is answered from the remembered hour, if any.
    packed = int(moment.strftime("%Y%m%d%H%M%S"))
    utc = moment.replace(tzinfo=zone).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    expected = (utc, moment.date().isoformat())
    assert ts_to_utc(packed, zone) == expected
    assert ts_to_utc(packed, zone) == expected
    neighbour = moment.replace(second=(moment.second + 17) % 60)
    packed = int(neighbour.strftime("%Y%m%d%H%M%S"))
    utc = neighbour.replace(tzinfo=zone).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert ts_to_utc(packed, zone) == (utc, neighbour.date().isoformat())


def test_seconds_or_minutes_past_59_are_not_a_time():
    assert ts_to_utc(20261119003260, KOLKATA) is None
    assert ts_to_utc(20261119003259, KOLKATA) is not None
    assert ts_to_utc(20261119003260, KOLKATA) is None  # also once the hour is remembered
    assert ts_to_utc(20261119006000, KOLKATA) is None  # minute 60
