"""Occurrence-numbered event ids: identical export records keep distinct, deterministic ids."""

from __future__ import annotations

import hashlib
import json
import random
import zoneinfo

from routed_api import routed_config
from tap_clevertap.event_ids import DigestSet, OccurrenceIds, event_id
from tap_clevertap.records import build_event
from tap_clevertap_testkit import run_tap

UTC = zoneinfo.ZoneInfo("UTC")


def reference_id(object_id, ts, name, props, occurrence=None):
    """The README recipe, with the standard library only."""
    parts = [object_id, ts, name, props]
    if occurrence is not None:
        parts.append(occurrence)
    canonical = json.dumps(parts, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _record(object_id, ts, props):
    return {"profile": {"objectId": object_id}, "ts": ts, "event_props": props}


def test_repeated_identical_records_are_numbered_from_the_second():
    a = _record("__a", 20261119101010, {"Amount": 5, "Items": [{"x": 1}]})
    b = _record("__b", 20261119101010, {"Amount": 5, "Items": [{"x": 1}]})
    ids = OccurrenceIds()
    day = [a, b, a, a, b]
    got = [build_event(r, "Charged", UTC, ids)["event_id"] for r in day]
    props = {"Amount": 5, "Items": [{"x": 1}]}
    assert got == [
        reference_id("__a", 20261119101010, "Charged", props),
        reference_id("__b", 20261119101010, "Charged", props),
        reference_id("__a", 20261119101010, "Charged", props, 2),
        reference_id("__a", 20261119101010, "Charged", props, 3),
        reference_id("__b", 20261119101010, "Charged", props, 2),
    ]
    assert len(set(got)) == len(got)


def test_the_same_day_read_again_gives_the_same_ids_in_any_order():
    records = [_record(f"__{i % 7}", 20261119000000 + i % 3, {"k": i % 2}) for i in range(60)]
    ids = OccurrenceIds()
    first = [build_event(r, "E", UTC, ids)["event_id"] for r in records]
    ids.reset()  # next day, or the same day re-read after its cursor expired
    shuffled = records[:]
    random.Random(3).shuffle(shuffled)
    again = [build_event(r, "E", UTC, ids)["event_id"] for r in shuffled]
    assert sorted(first) == sorted(again)
    assert len(set(first)) == 60


def test_normal_records_keep_their_ids():
    ids = OccurrenceIds()
    for i in range(200):
        raw = _record(f"__{i}", 20261119000000 + i, {"n": i})
        assert build_event(raw, "E", UTC, ids)["event_id"] == event_id(
            f"__{i}", 20261119000000 + i, "E", {"n": i}
        )
        assert build_event(raw, "E", UTC)["event_id"] == reference_id(
            f"__{i}", 20261119000000 + i, "E", {"n": i}
        )


def test_digest_set_grows_and_remembers_everything():
    digests = DigestSet()
    rng = random.Random(5)
    values = list({rng.getrandbits(64) | 1 for _ in range(5000)})
    assert all(digests.add(v) for v in values)
    assert not any(digests.add(v) for v in values)
    assert digests.count == len(values) == 5000
    # At most half full, 8 bytes a slot: between 16 and 32 bytes per member.
    assert 16 * 5000 <= digests.nbytes <= 32 * 5000


def test_through_the_stream_identical_records_and_a_restarted_day(routed_api):
    """Two identical records get two ids; a day re-read after an expired cursor, the same two."""
    twin = {"profile": {"objectId": "__t"}, "ts": 20261119080000, "event_props": {"a": 1}}
    expired = {"status": "fail", "error": "Incorrect Usage", "code": 3}
    seen_c2: list[int] = []

    def page(query, body):
        if query.get("cursor") == "c1":
            return 200, {"next_cursor": "c2", "records": [twin, twin], "status": "success"}
        seen_c2.append(1)
        return 200, (expired if len(seen_c2) == 1 else {"status": "success"})

    api = routed_api(
        {
            "POST /1/events.json": lambda q, b: (200, {"cursor": "c1", "status": "success"}),
            "GET /1/events.json": page,
        }
    )
    config = routed_config(api, start_date="2026-11-19", end_date="2026-11-19")
    ids = [r["event_id"] for r in run_tap(config, streams=["events"]).records()]
    plain = reference_id("__t", 20261119080000, "Charged", {"a": 1})
    second = reference_id("__t", 20261119080000, "Charged", {"a": 1}, 2)
    assert ids == [plain, second, plain, second]
    assert len(api.calls("POST", "/1/events.json")) == 2  # the day was opened again
