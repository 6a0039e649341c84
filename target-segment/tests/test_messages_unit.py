"""Time values and CleverTap dates as Segment timestamps (pure functions)."""

from __future__ import annotations

import datetime as dt
import json
import random
from decimal import Decimal

import pytest
from target_segment.messages import iso_timestamp, json_default, library_size, utc_text


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (dt.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.UTC), "2024-05-01T12:00:00.123Z"),
        (dt.datetime(2024, 5, 1, 12, 0, 0), "2024-05-01T12:00:00.000Z"),  # naive = UTC
        (
            dt.datetime(2024, 5, 1, 17, 30, tzinfo=dt.timezone(dt.timedelta(hours=5, minutes=30))),
            "2024-05-01T12:00:00.000Z",
        ),
        (dt.date(2024, 5, 1), "2024-05-01T00:00:00.000Z"),
        ("2024-05-01T12:00:00Z", "2024-05-01T12:00:00.000Z"),
        ("2024-05-01T14:00:00+02:00", "2024-05-01T12:00:00.000Z"),
        ("2024-05-01", "2024-05-01T00:00:00.000Z"),
        (1714564800, "2024-05-01T12:00:00.000Z"),  # epoch seconds
        (1714564800123, "2024-05-01T12:00:00.123Z"),  # epoch milliseconds
        (Decimal("1714564800.5"), "2024-05-01T12:00:00.500Z"),
        ("$D_1714564800", "2024-05-01T12:00:00.000Z"),  # CleverTap date value
    ],
)
def test_time_values_become_iso_8601_utc(value: object, expected: str) -> None:
    assert iso_timestamp(value) == expected


class _Subclass(dt.datetime):
    """Like pendulum's DateTime: a datetime subclass orjson does not serialize."""


def test_utc_text_is_isoformat_with_milliseconds_and_z() -> None:
    rng = random.Random(7)
    moments = [
        dt.datetime(1, 1, 1, tzinfo=dt.UTC),
        dt.datetime(999, 12, 31, 23, 59, 59, 999, tzinfo=dt.UTC),  # under 1 ms: truncated
        dt.datetime(2024, 5, 1, 12, 0, 0, 1000, tzinfo=dt.UTC),
        dt.datetime(9999, 12, 31, 23, 59, 59, 999999, tzinfo=dt.UTC),
        _Subclass(2024, 5, 1, 12, 0, 0, 123456, tzinfo=dt.UTC),
    ]
    india = dt.timezone(dt.timedelta(hours=5, minutes=30))
    assert utc_text(dt.datetime(2024, 5, 1, 17, 30, 0, 999999, india)) == "2024-05-01T12:00:00.999Z"
    for _ in range(20_000):
        micro = rng.choice([0, rng.randrange(1_000_000), rng.randrange(1000) * 1000])
        moments.append(
            dt.datetime(
                rng.randint(1, 9999), rng.randint(1, 12), rng.randint(1, 28), rng.randint(0, 23),
                rng.randint(0, 59), rng.randint(0, 59), micro, tzinfo=dt.UTC,
            )
        )  # fmt: skip
    for moment in moments:
        expected = moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        assert utc_text(moment) == expected, moment


@pytest.mark.parametrize("value", ["yesterday", "$D_soon", True, {"at": 1}, "", 10**20])
def test_values_that_are_not_times(value: object) -> None:
    assert iso_timestamp(value) is None


def test_library_size_is_json_dumps_of_the_message() -> None:
    message = {"type": "track", "event": "Café ☕", "properties": {"n": 1.5, "l": [1, 2]}}
    compact = json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode()
    assert library_size(compact) == len(json.dumps(message).encode())
    assert library_size(compact) > len(compact)


@pytest.mark.parametrize(
    ("value", "expected"),
    [(Decimal(2), 2), (Decimal("2.50"), 2.5), (Decimal("Infinity"), None), ({3, 1}, [1, 3])],
)
def test_values_orjson_does_not_know(value: object, expected: object) -> None:
    assert json_default(value) == expected
