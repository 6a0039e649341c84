"""event_schema and user_property_schema: everything GET /getSchema lists, every run."""

from __future__ import annotations

import requests
from tap_clevertap_testkit import run_tap, tap_config

SCHEMAS = ("event_schema", "user_property_schema")


def _get_schema(sandbox, kind):
    settings = sandbox.settings
    response = requests.get(
        f"{sandbox.clevertap_url}/getSchema",
        params={"type": kind},
        headers={
            "X-CleverTap-Account-Id": settings.account_id,
            "X-CleverTap-Passcode": settings.passcode,
        },
        timeout=30,
    )
    response.raise_for_status()
    return response.json()


def test_every_event_and_property_with_its_type(sandbox, sandbox_client):
    run = run_tap(tap_config(sandbox), streams=SCHEMAS)
    events = run.records("event_schema")
    summary = sandbox_client.seed_summary()
    assert [e["event_name"] for e in events] == summary["event_names"]
    listed = {e["name"]: e for e in _get_schema(sandbox, "events")["events"]}
    for event in events:
        assert event["event_type"] == listed[event["event_name"]]["type"]
        assert event["properties"] == listed[event["event_name"]]["properties"]
    charged = next(e for e in events if e["event_name"] == "Charged")
    assert {"name": "Items", "type": "object_array"} in charged["properties"]

    properties = run.records("user_property_schema")
    expected = _get_schema(sandbox, "userProperties")["userProperties"]
    assert [(p["name"], p["type"]) for p in properties] == [
        (p["name"], p["type"]) for p in expected
    ]
    assert {"Industry Of Traits", "industry_of_traits", "Signup Date"} <= {
        p["name"] for p in properties
    }


def test_full_refresh_reads_the_schema_again(sandbox, sandbox_client):
    config = tap_config(sandbox)
    first = run_tap(config, streams=SCHEMAS)
    second = run_tap(config, state=first.state, streams=SCHEMAS)
    for stream in SCHEMAS:
        assert second.records(stream) == first.records(stream)
        assert first.state["bookmarks"].get(stream, {}) == {}
    # One call per kind per run (discovery and the streams share it).
    requests_ = sandbox_client.clevertap_stats()["requests"]["GET /getSchema"]["200"]
    assert requests_ == 4
