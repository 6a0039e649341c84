"""Everything Segment would silently drop is rejected locally, with the rule and a reason."""

from __future__ import annotations

import json

import pytest
from segment_testkit import DATETIME, INTEGER, OBJECT, STRING, record, run_target, schema

ANY = {}
# stream -> (mapping, schema properties, bad record, expected rule, expected field, reason words)
CASES: dict[str, tuple[dict, dict, dict, str, str | None, str]] = {
    "no_ids": (
        {"type": "track", "event": "e", "user_id": "uid", "anonymous_id": "aid"},
        {"e": STRING, "uid": STRING, "aid": STRING},
        {"e": "Clicked", "uid": "", "aid": None},
        "no_user_anon_id",
        "user_id",
        "no userId and no anonymousId",
    ),
    "object_id": (
        {"type": "identify", "user_id": "uid"},
        {"uid": ANY},
        {"uid": {"nested": 1}},
        "id_not_string",
        "user_id",
        "must be a string or an integer",
    ),
    "no_event": (
        {"type": "track", "event": "e", "user_id": "uid"},
        {"e": STRING, "uid": STRING},
        {"e": None, "uid": "u"},
        "event_not_defined",
        "event",
        "needs an event name",
    ),
    "number_event": (
        {"type": "track", "event": "e", "user_id": "uid"},
        {"e": {"type": ["string", "integer"]}, "uid": STRING},
        {"e": 42, "uid": "u"},
        "event_not_string",
        "event",
        "must be a string",
    ),
    "empty_page_name": (
        {"type": "page", "name": "n", "user_id": "uid"},
        {"n": STRING, "uid": STRING},
        {"n": "", "uid": "u"},
        "name_not_string",
        "name",
        "empty string",
    ),
    "empty_screen_category": (
        {"type": "screen", "name": "n", "category": "c", "user_id": "uid"},
        {"n": STRING, "c": STRING, "uid": STRING},
        {"n": "Home", "c": " ", "uid": "u"},
        "category_not_string",
        "category",
        "not a non-empty string",
    ),
    "string_traits": (
        {"type": "identify", "user_id": "uid", "traits": "t"},
        {"uid": STRING, "t": ANY},
        {"uid": "u", "t": "gold"},
        "traits_not_object",
        "traits",
        "not an object",
    ),
    "list_properties": (
        {"type": "track", "event": {"value": "E"}, "user_id": "uid", "properties": "p"},
        {"uid": STRING, "p": ANY},
        {"uid": "u", "p": [1, 2]},
        "properties_not_object",
        "properties",
        "not an object",
    ),
    "alias_without_previous": (
        {"type": "alias", "previous_id": "old", "user_id": "new"},
        {"old": STRING, "new": STRING},
        {"old": None, "new": "u"},
        "previous_id_required",
        "previous_id",
        "needs `previousId`",
    ),
    "alias_without_user": (
        {"type": "alias", "previous_id": "old", "user_id": "new"},
        {"old": STRING, "new": STRING},
        {"old": "a", "new": ""},
        "user_id_required",
        "user_id",
        "needs `userId`",
    ),
    "group_without_id": (
        {"type": "group", "group_id": "g", "user_id": "uid"},
        {"g": STRING, "uid": STRING},
        {"g": None, "uid": "u"},
        "group_id_required",
        "group_id",
        "needs `groupId`",
    ),
    "no_time": (
        {"type": "track", "event": {"value": "E"}, "user_id": "uid", "timestamp": "at"},
        {"uid": STRING, "at": DATETIME},
        {"uid": "u", "at": None},
        "timestamp_missing",
        "timestamp",
        "send time",
    ),
    "bad_time": (
        {"type": "track", "event": {"value": "E"}, "user_id": "uid", "timestamp": "at"},
        {"uid": STRING, "at": STRING},
        {"uid": "u", "at": "yesterday-ish"},
        "timestamp_invalid",
        "timestamp",
        "not a date-time",
    ),
    "context_string": (
        {"type": "identify", "user_id": "uid", "context": "ctx"},
        {"uid": STRING, "ctx": ANY},
        {"uid": "u", "ctx": "web"},
        "context_not_object",
        "context",
        "not an object",
    ),
    "huge": (
        {"type": "identify", "user_id": "uid"},
        {"uid": STRING, "blob": STRING},
        {"uid": "u", "blob": "x" * 40_000},
        "message_too_large",
        None,
        "32,768 bytes",
    ),
    "wide": (
        {"type": "track", "event": {"value": "E"}, "user_id": "uid", "properties": "p"},
        {"uid": STRING, "p": OBJECT},
        {"uid": "u", "p": {f"k{i}": 1 for i in range(10_001)}},
        "too_many_properties",
        "properties",
        "at most 10,000",
    ),
    "collide": (
        {"type": "identify", "user_id": "uid", "traits": "t"},
        {"uid": STRING, "t": OBJECT},
        {"uid": "u", "t": {"First Name": "A", "first_name": "B"}},
        "property_name_collision",
        "traits",
        "'First Name' and 'first_name'",
    ),
    "typed": (
        {"type": "identify", "user_id": "uid"},
        {"uid": STRING, "n": INTEGER},
        {"uid": "u", "n": "not a number"},
        "schema",
        None,
        "does not match its stream schema",
    ),
}


def good_record(stream: str) -> dict:
    """A valid record for the same stream, so every stream also delivers something."""
    mapping = CASES[stream][0]
    values = {
        "uid": "ok",
        "aid": "ok",
        "e": "Fine",
        "n": "Name",
        "c": "Cat",
        "old": "a",
        "new": "b",
    }
    values |= {"g": "grp", "t": {"plan": "x"}, "p": {"a": 1}, "at": "2024-01-01T00:00:00Z"}
    values |= {"ctx": {"ip": "1.1.1.1"}}
    fields = set(CASES[stream][1])
    result = {k: v for k, v in values.items() if k in fields}
    if mapping["type"] == "identify" and "n" in fields:
        result["n"] = 5
    return result


@pytest.fixture
def validation_run(segment_config, sandbox_client):
    config = {
        **segment_config,
        "property_names": "segment",
        "stream_mappings": {stream: case[0] for stream, case in CASES.items()},
    }
    lines = []
    for stream, (_, properties, bad, *_rest) in CASES.items():
        lines += [
            schema(stream, properties),
            record(stream, good_record(stream)),
            record(stream, bad),
        ]
    lines.append(schema("nobody_mapped_me", {"id": INTEGER}))
    lines.append(record("nobody_mapped_me", {"id": 1}))
    lines.append("this is not JSON")
    return run_target(config, lines), sandbox_client


def test_each_rule_lands_in_the_rejects_file_with_its_reason(validation_run) -> None:
    result, _ = validation_run
    by_stream = {r["stream"]: r for r in result.rejects}
    for stream, (_, _, bad, rule, field, words) in CASES.items():
        rejected = by_stream[stream]
        assert rejected["rule"] == rule, stream
        assert rejected["field"] == field, stream
        assert words in rejected["reason"], (stream, rejected["reason"])
        if rule not in ("message_too_large", "too_many_properties"):
            assert rejected["record"] == bad, stream
    unmapped = by_stream["nobody_mapped_me"]
    assert unmapped["rule"] == "unmapped_stream"
    assert "stream_mappings['nobody_mapped_me']" in unmapped["reason"]
    assert "default_mapping" in unmapped["reason"]
    assert by_stream["<unknown>"]["rule"] == "malformed_input_line"


def test_counts_add_up_and_segment_dropped_nothing(validation_run) -> None:
    result, client = validation_run
    summary = result.summary
    assert summary["received"] == 2 * len(CASES) + 2
    assert summary["rejected"] == len(CASES) + 2
    assert summary["delivered"] == len(CASES)
    assert summary["received"] == summary["delivered"] + summary["rejected"] + summary["skipped"]
    assert sum(summary["rejected_by_rule"].values()) == summary["rejected"]
    stats = client.segment_stats()
    assert stats["accepted"] == len(CASES)
    assert stats["dropped"] == 0  # nothing we sent was silently discarded
    assert stats["bad_requests_by_reason"] == {}


def test_huge_message_reason_gives_its_size(validation_run) -> None:
    result, _ = validation_run
    (huge,) = [r for r in result.rejects if r["stream"] == "huge"]
    assert huge["code"] > 40_000


def test_on_rejected_fail_stops_the_run_without_state(segment_config, sandbox_client) -> None:
    config = {
        **segment_config,
        "on_rejected": "fail",
        "stream_mappings": {"s": {"type": "track", "event": "e", "user_id": "uid"}},
    }
    lines = [
        schema("s", {"e": STRING, "uid": STRING}),
        record("s", {"e": "A", "uid": "u"}),
        record("s", {"e": None, "uid": "u"}),
        record("s", {"e": "B", "uid": "u"}),
        json.dumps({"type": "STATE", "value": {"done": True}}),
    ]
    result = run_target(config, lines, expect_error=True)
    assert "on_rejected is 'fail'" in str(result.error)
    assert [r["rule"] for r in result.rejects] == ["event_not_defined"]
    assert result.states == []


def test_a_record_without_its_key_property_is_rejected_not_fatal(segment_config) -> None:
    config = {**segment_config, "stream_mappings": {"k": {"type": "identify", "user_id": "uid"}}}
    lines = [
        schema("k", {"id": INTEGER, "uid": STRING}, ["id"]),
        record("k", {"uid": "u1"}),
        record("k", {"id": 2, "uid": "u2"}),
    ]
    result = run_target(config, lines)
    (rejected,) = result.rejects
    assert rejected["rule"] == "schema"
    assert "missing key property 'id'" in rejected["reason"]
    assert result.summary["delivered"] == 1


def test_a_date_time_that_does_not_parse_is_rejected_not_fatal(segment_config) -> None:
    config = {
        **segment_config,
        "stream_mappings": {
            "t": {"type": "track", "event": "e", "user_id": "uid", "timestamp": "at"}
        },
    }
    lines = [
        schema("t", {"e": STRING, "uid": STRING, "at": DATETIME}),
        record("t", {"e": "A", "uid": "u1", "at": "not a time"}),
        record("t", {"e": "B", "uid": "u2", "at": "2024-05-01T12:00:00Z"}),
        json.dumps({"type": "STATE", "value": {"done": True}}),
    ]
    result = run_target(config, lines)
    (rejected,) = result.rejects
    assert rejected["rule"] == "schema"
    assert "field 'at' is typed date-time" in rejected["reason"]
    assert rejected["record"]["e"] == "A"
    assert result.summary["delivered"] == 1
    assert result.states == [{"done": True}]
