"""The clevertap presets on real tap-clevertap output, captured from the tap against the sandbox."""

from __future__ import annotations

import datetime as dt
import json

from segment_testkit import CLEVERTAP_TAP_OUTPUT, run_target


def tap_lines() -> list[str]:
    return CLEVERTAP_TAP_OUTPUT.read_text().splitlines()


def tap_records(stream: str) -> list[dict]:
    messages = [json.loads(line) for line in tap_lines()]
    return [m["record"] for m in messages if m["type"] == "RECORD" and m["stream"] == stream]


def ms(text: str) -> str:
    """An RFC 3339 UTC time as Segment timestamps are written (milliseconds, Z)."""
    moment = dt.datetime.fromisoformat(text).astimezone(dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def test_events_and_profiles_arrive_as_track_and_identify(segment_config, sandbox_client) -> None:
    result = run_target({**segment_config, "mapping_preset": "clevertap"}, tap_lines())
    events, profiles = tap_records("events"), tap_records("profiles")
    assert len(events) == 24
    assert len(profiles) == 10

    messages = sandbox_client.segment_messages()
    tracks = {
        (m["anonymousId"], m["timestamp"], m["event"]): m for m in messages if m["type"] == "track"
    }
    identifies = {m["anonymousId"]: m for m in messages if m["type"] == "identify"}
    assert len(tracks) == len(events)
    assert len(identifies) == len(profiles)
    assert sandbox_client.segment_stats()["dropped"] == 0

    for event in events:
        profile = event["profile"]
        message = tracks[(profile["objectId"], ms(event["event_time"]), event["event_name"])]
        if profile.get("identity"):
            assert message["userId"] == profile["identity"]
        else:
            assert "userId" not in message
        expected_properties = {**(event["session_props"] or {}), **(event["event_props"] or {})}
        assert message["properties"] == expected_properties
        assert message["context"]["os"] == {
            "name": profile["platform"],
            "version": profile["os_version"],
        }
        assert message["context"]["app"] == {"version": profile["app_version"]}
        assert message["context"]["device"] == {
            "manufacturer": profile["make"],
            "model": profile["model"],
            "token": profile["push_token"],
        }
        assert message["context"]["library"]["name"] == "target-segment"
        assert message["messageId"].startswith("ts1-")
        assert len(message["messageId"]) <= 100

    for profile in profiles:
        message = identifies[profile["objectId"]]
        traits = message["traits"]
        if profile["identity"]:
            assert message["userId"] == profile["identity"]
        else:
            assert "userId" not in message
        for field in ("name", "email", "phone"):
            if profile[field]:
                assert traits[field] == profile[field]
        for key, value in profile["profileData"].items():
            if key not in {"Name", "Email", "Phone", "Gender", "DOB", "Photo", "Age"}:
                assert traits[key] == value
        assert "events" not in traits
        assert "sweep_date" not in traits
        assert "timestamp" not in message  # a profile snapshot is "now"

    summary = result.summary
    assert summary["received"] == 34
    assert summary["delivered"] == 34
    assert summary["rejected"] == 0
    assert summary["delivered_by_type"] == {"track": 24, "identify": 10}
    final_state = json.loads(tap_lines()[-1])["value"]
    assert result.states[-1] == final_state


def test_standard_clevertap_fields_become_segment_reserved_traits(
    segment_config, sandbox_client
) -> None:
    run_target({**segment_config, "mapping_preset": "clevertap"}, tap_lines())
    special = next(p for p in tap_records("profiles") if "Gender" in p["profileData"])
    message = next(
        m for m in sandbox_client.segment_messages() if m.get("anonymousId") == special["objectId"]
    )
    traits = message["traits"]
    # top-level export fields win over the same field inside profileData
    assert traits["name"] == special["name"]
    assert traits["email"] == special["email"]
    assert traits["gender"] == "F"
    assert traits["avatar"] == "https://example.com/a.png"
    assert traits["birthday"] == "1992-03-07T20:26:40.000Z"  # $D_700000000
    assert traits["Customer Type"] == "Gold"  # no Segment equivalent: kept as is
    for clevertap_name in ("Name", "Email", "Gender", "DOB", "Photo"):
        assert clevertap_name not in traits


def test_rerun_of_the_same_input_is_deduplicated(segment_config, sandbox_client) -> None:
    config = {**segment_config, "mapping_preset": "clevertap"}
    run_target(config, tap_lines())
    run_target(config, tap_lines())
    stats = sandbox_client.segment_stats()
    assert stats["accepted"] == 34
    assert stats["duplicates"] == 34


def test_preset_keys_can_be_overridden(segment_config, sandbox_client) -> None:
    config = {
        **segment_config,
        "stream_mappings": {
            "events": {"preset": "clevertap_events", "user_id": "profile.email"},
            "profiles": {"type": "ignore"},
        },
    }
    result = run_target(config, tap_lines())
    by_anonymous = {m["anonymousId"]: m for m in sandbox_client.segment_messages()}
    for event in tap_records("events"):
        message = by_anonymous[event["profile"]["objectId"]]
        assert message.get("userId") == (event["profile"]["email"] or None)
    assert result.summary["skipped_by_reason"] == {"ignored_stream": 10}
    summary = result.summary
    assert summary["received"] == summary["delivered"] + summary["rejected"] + summary["skipped"]


def test_preset_clevertap_picks_the_preset_by_stream_name(segment_config, sandbox_client) -> None:
    """The form meltano.yml uses: {"preset": "clevertap"} on both streams."""
    mappings = {"events": {"preset": "clevertap"}, "profiles": {"preset": "clevertap"}}
    result = run_target({**segment_config, "stream_mappings": mappings}, tap_lines())
    assert result.summary["delivered_by_type"] == {"track": 24, "identify": 10}
