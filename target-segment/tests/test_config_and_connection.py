"""Regions, URL rules, mapping errors at start-up, the write-key check, `--test`, dry runs."""

from __future__ import annotations

import pytest
from segment_testkit import STRING, record, run_cli, run_target, schema
from singer_sdk.exceptions import ConfigValidationError
from target_segment.target import TargetSegment

BASE = {"write_key": "some-write-key-123", "verify_write_key": False}
MAPPING = {"s": {"type": "track", "event": "e", "user_id": "uid"}}
LINES = [schema("s", {"e": STRING, "uid": STRING}), record("s", {"e": "Clicked", "uid": "u1"})]


@pytest.mark.parametrize(
    ("region", "host"),
    [("us", "https://api.segment.io"), ("eu", "https://events.eu1.segmentapis.com")],
)
def test_region_selects_the_tracking_host(region: str, host: str) -> None:
    assert TargetSegment(config={**BASE, "region": region}).api_url == host


def test_eu_region_with_an_api_url_override_delivers_there(segment_config, sandbox_client) -> None:
    result = run_target({**segment_config, "region": "eu", "stream_mappings": MAPPING}, LINES)
    assert result.summary["api_url"] == segment_config["api_url"]
    assert len(sandbox_client.segment_messages()) == 1


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"api_url": "http://segment.example.com"}, "plain http://"),
        ({"settings_url": "ftp://cdn.example.com"}, "`settings_url` must be an absolute https://"),
        ({"write_key": "k9x2z"}, "write_key is empty or shorter than 8"),
        ({"stream_mappings": {"s": {"type": "track", "user_id": "u"}}}, "needs `event`"),
        ({"stream_mappings": {"s": {"type": "shout", "user_id": "u"}}}, ".type must be one of"),
        (
            {"stream_mappings": {"s": {"type": "identify", "user_id": "u", "event": "e"}}},
            "that a identify call does not take",
        ),
        ({"stream_mappings": {"s": {"type": "identify"}}}, "map `user_id` or `anonymous_id`"),
        ({"stream_mappings": {"s": {"preset": "mixpanel"}}}, ".preset must be one of"),
        ({"stream_mappings": {"s": {"preset": "clevertap"}}}, "(or clevertap for the streams"),
        (
            {"stream_mappings": {"s": {"type": "identify", "user_id": 5}}},
            "stream_mappings['s'].user_id must be a field name",
        ),
        (
            {"stream_mappings": {"s": {"type": "identify", "user_id": "u", "traits": {"x": 1}}}},
            "has unknown key(s) ['x']",
        ),
        ({"integrations": {"All": "yes"}}, "integrations must map destination names"),
        ({"max_concurrency": 33}, "max_concurrency must be 1-32"),
        ({"state_interval_seconds": 0}, "state_interval_seconds must be positive"),
    ],
)
def test_bad_settings_fail_at_start_naming_the_setting(overrides: dict, words: str) -> None:
    with pytest.raises(ConfigValidationError) as info:
        TargetSegment(config={**BASE, **overrides})
    assert words in str(info.value)


def test_test_flag_confirms_a_known_key(segment_config, tmp_path) -> None:
    done = run_cli(segment_config, tmp_path, "", "--test")
    assert done.returncode == 0, done.stderr
    assert "Segment knows this write key" in done.stdout


def test_test_flag_reports_an_unknown_key(segment_config, tmp_path) -> None:
    done = run_cli({**segment_config, "write_key": "not-the-right-key"}, tmp_path, "", "--test")
    assert done.returncode == 1
    assert "Segment does not know this write key" in done.stderr
    assert "Invalid path or write key provided." in done.stderr


def test_a_run_with_an_unknown_key_stops_before_sending(
    segment_config, sandbox_client, tmp_path
) -> None:
    config = {
        **segment_config,
        "write_key": "not-the-right-key",
        "verify_write_key": True,
        "stream_mappings": MAPPING,
    }
    done = run_cli(config, tmp_path, "\n".join(LINES) + "\n")
    assert done.returncode == 1
    assert "Segment does not know this write key" in done.stderr
    assert sandbox_client.segment_stats()["received"] == 0


def test_meltano_config_test_record_is_ignored(segment_config, sandbox_client, tmp_path) -> None:
    lines = [
        schema("meltano_test_stream", {"id": STRING}),
        record("meltano_test_stream", {"id": "1"}),
    ]
    done = run_cli({**segment_config, "verify_write_key": True}, tmp_path, "\n".join(lines) + "\n")
    assert done.returncode == 0, done.stderr
    assert "Segment knows this write key" in done.stderr
    stats = sandbox_client.segment_stats()
    assert stats["received"] == 0
    assert stats["requests"]["GET /v1/projects/{writeKey}/settings"] == {"200": 1}


def test_unreachable_settings_cdn_only_warns(segment_config, sandbox_client, tmp_path) -> None:
    config = {
        **segment_config,
        "verify_write_key": True,
        "settings_url": "http://127.0.0.1:9",  # discard port: nothing listens
        "stream_mappings": MAPPING,
    }
    done = run_cli(config, tmp_path, "\n".join(LINES) + "\n")
    assert done.returncode == 0, done.stderr
    assert "Could not verify the write key" in done.stderr
    assert len(sandbox_client.segment_messages()) == 1


@pytest.mark.parametrize("verify_write_key", [False, True])
def test_dry_run_maps_and_validates_but_sends_nothing(
    segment_config, sandbox_client, verify_write_key
) -> None:
    lines = [*LINES, record("s", {"e": None, "uid": "u1"})]
    config = {**segment_config, "dry_run": True, "stream_mappings": MAPPING}
    result = run_target({**config, "verify_write_key": verify_write_key}, lines)
    assert result.summary["skipped_by_reason"] == {"dry_run": 1}
    assert result.summary["dry_run_by_type"] == {"track": 1}
    assert result.rules() == ["event_not_defined"]
    assert sandbox_client.segment_requests() == []  # the request log: no call at all
    assert sandbox_client.segment_stats()["received"] == 0


def test_property_names_rewrite_traits_and_properties(segment_config, sandbox_client) -> None:
    config = {
        **segment_config,
        "property_names": "segment",
        "stream_mappings": {"p": {"type": "identify", "user_id": "uid"}},
    }
    lines = [
        schema("p", {"uid": STRING, "Industry Of Traits": STRING, "planType": STRING}),
        record("p", {"uid": "u1", "Industry Of Traits": "Retail", "planType": "pro"}),
    ]
    result = run_target(config, lines)
    (message,) = sandbox_client.segment_messages()
    assert message["traits"] == {"industry_of_traits": "Retail", "plan_type": "pro"}
    assert result.summary["property_names"]["keys_renamed"] == 2
