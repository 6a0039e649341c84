"""Event names and property types from GET /getSchema."""

from __future__ import annotations

import logging

from tap_clevertap.tap import TapCleverTap
from tap_clevertap_testkit import counts_by_day, expected_days, run_tap, tap_config


def test_event_names_come_from_get_schema_when_not_configured(sandbox, sandbox_client, caplog):
    caplog.set_level(logging.WARNING)
    summary = sandbox_client.seed_summary()
    config = tap_config(sandbox, event_names=None, start_date="2026-11-19", profile_events=[])
    run = run_tap(config)
    partitions = run.state["bookmarks"]["events"]["partitions"]
    assert [p["context"]["event_name"] for p in partitions] == summary["event_names"]
    exportable = [n for n in summary["event_names"] if n not in summary["not_exportable_events"]]
    for name in exportable:
        expected = {
            d: n for d, n in expected_days(summary, name).items() if d == "2026-11-19" and n
        }
        assert counts_by_day(run.records(), name) == expected, name
    for name in summary["not_exportable_events"]:
        assert f"Skipping event {name!r}" in caplog.text


def test_known_properties_are_typed_and_objects_stay_open(sandbox, sandbox_client):
    tap = TapCleverTap(config=tap_config(sandbox, type_properties_from_schema=True))
    events = tap.streams["events"].schema["properties"]
    props = events["event_props"]
    assert props["additionalProperties"] is True
    assert props["properties"]["CT Session Id"]["type"] == ["number", "null"]
    assert props["properties"]["CT Source"]["type"] == ["string", "null"]
    profile_data = tap.streams["profiles"].schema["properties"]["profileData"]
    assert profile_data["additionalProperties"] is True
    assert profile_data["properties"]["Interests"]["type"] == ["array", "null"]
    assert "Signup Date" not in profile_data["properties"]  # "date": no safe JSON type
    assert events["profile"]["properties"]["profileData"] == profile_data


def test_typed_schema_validates_the_records(sandbox, sandbox_client):
    from singer_sdk.typing import DEFAULT_JSONSCHEMA_VALIDATOR

    config = tap_config(sandbox, type_properties_from_schema=True, start_date="2026-11-18")
    tap = TapCleverTap(config=config)
    run = run_tap(config)
    for stream in ("events", "profiles"):
        validator = DEFAULT_JSONSCHEMA_VALIDATOR(tap.streams[stream].schema)
        for record in run.records(stream):
            errors = [e.message for e in validator.iter_errors(record)]
            assert not errors, (stream, errors[:3])
