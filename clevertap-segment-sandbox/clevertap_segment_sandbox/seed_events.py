"""Seeded event history, derived on demand: nothing per record is ever stored.

Each (event, day) partition has a size drawn from the seed; record i of a partition is drawn
from a hash of (seed, event, day, i). A partition is spread over CleverTap's 23 storage buckets
with slightly uneven sizes; an export page drains up to batch_size/23 records from every bucket,
so the last pages of a big partition shrink (4991, ..., 4523, 2437, 150 in the live capture).
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import orjson

from clevertap_segment_sandbox.catalog import EVENTS
from clevertap_segment_sandbox.clock import AccountClock, packed_ts
from clevertap_segment_sandbox.prng import MASK64, Stream, key64, mix64

if TYPE_CHECKING:
    from collections.abc import Iterator

    from clevertap_segment_sandbox.cql import ExportQuery
    from clevertap_segment_sandbox.seed_profiles import ProfileFactory

BUCKETS = 23
SESSION_SOURCES = ("Direct", "Direct", "Organic", "Referral", "Social", "Notification")
SESSION_JSON = {
    source: b',"session_props":' + orjson.dumps({"session_source": source})
    for source in SESSION_SOURCES
}
RECORD_STRIDE = 0xD1B54A32D192ED03


class EventHistory:
    """The seeded events of the account, as an export would see them on a given day."""

    def __init__(
        self,
        seed: int,
        clock: AccountClock,
        profiles: ProfileFactory,
        events_per_day: int,
        late_fraction: float,
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.profiles = profiles
        self.events_per_day = events_per_day
        self.late_fraction = late_fraction
        active = [event for event in EVENTS if event.weight > 0]
        mean_weight = sum(event.weight for event in active) / len(active)
        self._scale = [event.weight / mean_weight for event in EVENTS]
        order = list(range(profiles.count))
        shuffle = Stream(key64(seed, "profile-order"))
        for i in range(len(order) - 1, 0, -1):
            j = shuffle.below(i + 1)
            order[i], order[j] = order[j], order[i]
        self._profile_order = order
        self.partition_key = lru_cache(maxsize=100_000)(self._partition_key_uncached)
        self.partition_size = lru_cache(maxsize=100_000)(self._partition_size_uncached)
        self.layout = lru_cache(maxsize=4096)(bucket_layout)

    def _partition_key_uncached(self, event_index: int, day_ordinal: int) -> int:
        return key64(self.seed, EVENTS[event_index].name, day_ordinal)

    def _partition_size_uncached(self, event_index: int, day_ordinal: int) -> int:
        """Total records of one event on one day (late ones included)."""
        event = EVENTS[event_index]
        if event.weight <= 0 or self.events_per_day == 0:
            return 0
        stream = Stream(self.partition_key(event_index, day_ordinal) ^ 0x5EED)
        if stream.chance(event.sparse):
            return 0
        mean = self.events_per_day * self._scale[event_index] / (1.0 - event.sparse)
        return round(mean * (0.7 + 0.6 * stream.unit()))

    def late_count(self, size: int) -> int:
        """Records of a partition that arrive late (only visible once the day is older)."""
        return round(size * self.late_fraction)

    def visible_count(self, event_index: int, day: date, today: date) -> int:
        """How many records an export opened on `today` returns for this event and day."""
        if not self.clock.has_data(day, today):
            return 0
        size = self.partition_size(event_index, day.toordinal())
        if day == today - timedelta(days=1):
            return size - self.late_count(size)
        return size

    def _record_key(self, event_index: int, day_ordinal: int, index: int) -> int:
        key = self.partition_key(event_index, day_ordinal)
        return mix64(key ^ ((index + 1) * RECORD_STRIDE & MASK64))

    def _profile_from(self, record_key: int) -> int:
        """Skewed choice: a few heavy users raise most events."""
        u = (record_key >> 11) * (1.0 / (1 << 53))
        return self._profile_order[int(self.profiles.count * u * u)]

    def profile_of(self, event_index: int, day_ordinal: int, index: int) -> int:
        """Only the profile of record `index` (cheap: no generator needed)."""
        return self._profile_from(self._record_key(event_index, day_ordinal, index))

    def draw(
        self, event_index: int, day_ordinal: int, index: int
    ) -> tuple[int, int, str, dict[str, Any]]:
        """Record `index`: (profile, second of the local day, session source, event_props)."""
        record_key = self._record_key(event_index, day_ordinal, index)
        profile = self._profile_from(record_key)
        stream = Stream(record_key)
        second = stream.below(86_400)
        source = stream.choice(SESSION_SOURCES)
        props: dict[str, Any] = {}
        for prop in EVENTS[event_index].props:
            if prop.presence >= 1.0 or stream.unit() < prop.presence:
                props[prop.name] = prop.make(stream)
        return profile, second, source, props

    def keeps(self, keep: ExportQuery, profile: int, source: str, props: dict[str, Any]) -> bool:
        """Whether one drawn record passes every filter of an export query."""
        return keep.keeps_event(props, {"session_source": source}) and keep.keeps_profile(
            lambda: self.profiles.filter_fields(profile)
        )

    def record_json(
        self, event_index: int, day: date, index: int, flags: int, keep: ExportQuery | None
    ) -> bytes | None:
        """One events-export record as JSON bytes, or None when `keep` filters it out."""
        profile, second, source, props = self.draw(event_index, day.toordinal(), index)
        if keep is not None and not self.keeps(keep, profile, source, props):
            return None
        return b"".join(
            (
                b'{"profile":',
                self.profiles.event_profile_json(profile, flags),
                SESSION_JSON[source],
                b',"ts":',
                str(packed_ts(day, second)).encode(),
                b',"event_props":',
                orjson.dumps(props),
                b"}",
            )
        )

    def records_of(
        self, event_index: int, day: date, today: date
    ) -> Iterator[tuple[int, int, str, dict[str, Any]]]:
        """Every visible record of a partition (for counts, trends and filtered profile sets)."""
        ordinal = day.toordinal()
        for index in range(self.visible_count(event_index, day, today)):
            yield self.draw(event_index, ordinal, index)

    def window_days(self, first: date, last: date) -> list[date]:
        """The days of an inclusive window."""
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def profile_set(
        self, event_index: int, first: date, last: date, today: date, keep: ExportQuery | None
    ) -> list[int]:
        """Profiles who did the event in the window (what a profiles export returns)."""
        found: set[int] = set()
        for day in self.window_days(first, last):
            ordinal = day.toordinal()
            if keep is None:
                for index in range(self.visible_count(event_index, day, today)):
                    found.add(self.profile_of(event_index, ordinal, index))
            else:
                for profile, _, source, props in self.records_of(event_index, day, today):
                    if profile not in found and self.keeps(keep, profile, source, props):
                        found.add(profile)
        return sorted(found)


def bucket_layout(size: int, key: int) -> tuple[tuple[int, int], ...]:
    """(start, length) of each of the 23 buckets; lengths within about ±5 % of each other."""
    stream = Stream(key)
    weights = [0.95 + 0.1 * stream.unit() for _ in range(BUCKETS)]
    total = sum(weights)
    exact = [size * weight / total for weight in weights]
    lengths = [int(value) for value in exact]
    by_remainder = sorted(range(BUCKETS), key=lambda b: exact[b] - lengths[b], reverse=True)
    for bucket in by_remainder[: size - sum(lengths)]:
        lengths[bucket] += 1
    layout = []
    start = 0
    for length in lengths:
        layout.append((start, length))
        start += length
    return tuple(layout)


def page_indices(layout: tuple[tuple[int, int], ...], page: int, per_bucket: int) -> list[range]:
    """Record index ranges of one page: up to `per_bucket` from every non-empty bucket."""
    ranges = []
    for start, length in layout:
        low = page * per_bucket
        if low < length:
            ranges.append(range(start + low, start + min(length, low + per_bucket)))
    return ranges


def page_count(layout: tuple[tuple[int, int], ...], per_bucket: int) -> int:
    """Pages needed to drain the fullest bucket."""
    longest = max((length for _, length in layout), default=0)
    return -(-longest // per_bucket)
