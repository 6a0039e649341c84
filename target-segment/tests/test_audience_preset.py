"""clevertap_audiences on real tap-clevertap audience_members output (captured from the tap).

The expected calls follow Segment's documented format for computed audiences ("Using Engage
Data"): an identify with the audience key as a boolean trait and a track "Audience Entered" /
"Audience Exited" with properties audience_key and the same boolean.
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t

import pytest
from segment_testkit import CLEVERTAP_AUDIENCE_OUTPUT, WRITE_KEY, record, run_target, schema
from target_segment.mapping import MappingConfigError
from target_segment.target import TargetSegment

LINES = CLEVERTAP_AUDIENCE_OUTPUT.read_text().splitlines()
RECORDS = [m["record"] for m in map(json.loads, LINES) if m["type"] == "RECORD"]


def ms(text: str) -> str:
    moment = dt.datetime.fromisoformat(text)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_each_change_becomes_an_identify_and_a_track(segment_config, sandbox_client) -> None:
    result = run_target({**segment_config, "mapping_preset": "clevertap"}, LINES)
    changed = [r for r in RECORDS if r["change"] != "member"]
    unchanged = [r for r in RECORDS if r["change"] == "member"]
    assert {r["change"] for r in changed} == {"entered", "exited"}
    assert unchanged, "the capture has members who stayed in"
    messages = sandbox_client.segment_messages()
    identifies = {m["anonymousId"]: m for m in messages if m["type"] == "identify"}
    tracks = {m["anonymousId"]: m for m in messages if m["type"] == "track"}
    assert len(identifies) == len(tracks) == len(changed)
    assert len(messages) == 2 * len(changed)
    for change in changed:
        key, inside = change["audience_key"], change["change"] == "entered"
        identify, track = identifies[change["objectId"]], tracks[change["objectId"]]
        assert identify["traits"] == {key: inside}
        assert track["event"] == ("Audience Entered" if inside else "Audience Exited")
        assert track["properties"] == {"audience_key": key, key: inside}
        for message in (identify, track):
            assert message.get("userId") == change["identity"]
            assert message["timestamp"] == ms(change["computed_at"])
            assert message["messageId"].startswith("ts1-")
    assert any(r["identity"] is None for r in changed), "anonymous members are covered"
    summary = result.summary
    assert summary["received"] == len(RECORDS)
    assert summary["delivered"] == len(changed)
    assert summary["skipped_by_reason"] == {"no_call_for_record": len(unchanged)}
    assert summary["rejected"] == 0
    assert summary["delivered_by_type"] == {"identify": len(changed), "track": len(changed)}
    assert len({m["messageId"] for m in messages}) == len(messages)

    run_target({**segment_config, "mapping_preset": "clevertap"}, LINES)  # a re-run
    stats = sandbox_client.segment_stats()
    assert stats["accepted"] == len(messages)
    assert stats["duplicates"] == len(messages), "same record, same messageIds: nothing doubled"


def test_dry_run_counts_both_calls_of_a_record(segment_config, sandbox_client) -> None:
    result = run_target({**segment_config, "mapping_preset": "clevertap", "dry_run": True}, LINES)
    changed = sum(1 for r in RECORDS if r["change"] != "member")
    assert result.summary["dry_run_by_type"] == {"identify": changed, "track": changed}
    assert result.summary["skipped_by_reason"]["dry_run"] == changed
    assert sandbox_client.segment_messages() == []


def target(**config: t.Any) -> TargetSegment:
    return TargetSegment(
        config={"write_key": WRITE_KEY, "verify_write_key": False, **config},
        validate_config=True,
    )


def test_a_batch_never_holds_more_than_segments_2500_messages() -> None:
    assert target().build_transport().max_items == 2500
    two_calls = target(mapping_preset="clevertap").build_transport()
    assert two_calls.max_items == 1250


def test_overrides_next_to_a_preset_of_several_calls_apply_to_each_call(
    segment_config, sandbox_client
) -> None:
    config = {
        **segment_config,
        "stream_mappings": {
            "audience_members": {"preset": "clevertap_audiences", "user_id": "objectId"}
        },
    }
    run_target(config, LINES)
    messages = sandbox_client.segment_messages()
    assert messages
    assert all(m["userId"] == m["anonymousId"] for m in messages)


def test_one_rejected_call_rejects_the_whole_record(segment_config, sandbox_client) -> None:
    lines = [
        schema(
            "audience_members",
            {"objectId": {"type": "string"}, "change": {"type": "string"}},
            ["objectId"],
        ),
        record("audience_members", {"objectId": "d1", "change": "entered"}),  # no audience_key
    ]
    result = run_target({**segment_config, "mapping_preset": "clevertap"}, lines)
    assert result.rules() == ["key_not_string"]
    assert sandbox_client.segment_messages() == []


@pytest.mark.parametrize(
    ("mapping", "fragment"),
    [
        ({"calls": []}, "at least one mapping"),
        ({"calls": [{"type": "ignore"}]}, "cannot be"),
        ({"calls": [{"type": "track", "event": "x", "user_id": "u"}], "type": "x"}, "no other key"),
        ({"type": "track", "user_id": "u", "event": {"field": "c", "map": []}}, '"map"'),
        ({"type": "identify", "user_id": "u", "when": ["entered"]}, "values that make the call"),
        ({"type": "identify", "user_id": "u", "traits": {"keyed": ["a"]}}, "keyed must map"),
    ],
)
def test_malformed_call_mappings_fail_at_start_up(mapping: dict[str, t.Any], fragment: str) -> None:
    from target_segment.presets import MappingSet

    with pytest.raises(MappingConfigError, match=fragment):
        MappingSet({"s": mapping}, None)
