"""Profiles and events exports honour every query condition, checked against the raw records.

Expected members are computed here from `seed_event_records` (the raw seeded records) with the
test's own reading of each condition, never through the sandbox's filter code.
"""

from __future__ import annotations

from typing import Any

FIRST_DAY, YESTERDAY = 20261106, 20261119


def _profiles(clevertap: Any, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = clevertap.post("/1/profiles.json?events=false", body)
    assert response.status_code == 200, response.text
    pages = clevertap.walk(response.json()["cursor"], "profiles")
    return [r for page in pages for r in page.get("records", [])]


def _object_id(record: dict[str, Any]) -> str:
    return str(record.get("objectId") or record["platformInfo"][0]["objectId"])


def test_profiles_export_applies_event_session_and_profile_conditions(
    clevertap: Any, sandbox_client: Any
) -> None:
    raw = sandbox_client.seed_event_records("Charged", FIRST_DAY, YESTERDAY)
    expected = {
        r["objectId"]
        for r in raw
        if any(item["Category"] == "Coffee" for item in r["event_props"]["Items"])
        and r["event_props"]["Amount"] > 200
        and r["session_source"] != "Direct"
        and r["profileData"].get("Loyalty Tier") in ("Gold", "Silver")
    }
    everyone = {r["objectId"] for r in raw}
    assert 0 < len(expected) < len(everyone)
    body = {
        "event_name": "Charged",
        "from": FIRST_DAY,
        "to": YESTERDAY,
        "event_properties": [
            {"name": "Category", "operator": "equals", "value": "Coffee"},
            {"name": "Amount", "operator": "greater_than", "value": 200},
        ],
        "session_properties": [
            {"name": "session_source", "operator": "not_equals", "value": "Direct"}
        ],
        "common_profile_properties": {
            "profile_fields": [
                {"name": "Loyalty Tier", "operator": "equals", "value": ["Gold", "Silver"]}
            ]
        },
    }
    records = _profiles(clevertap, body)
    assert len(records) == len(expected)
    assert {_object_id(r) for r in records} == expected


def test_events_export_applies_session_and_profile_conditions(
    clevertap: Any, sandbox_client: Any
) -> None:
    raw = sandbox_client.seed_event_records("Search", YESTERDAY, YESTERDAY)
    expected = sorted(
        r["event_props"]["CT Session Id"]
        for r in raw
        if r["session_source"] == "Organic" and r["profileData"].get("region") == "ID"
    )
    assert expected
    response = clevertap.post(
        "/1/events.json?events=false",
        {
            "event_name": "Search",
            "from": YESTERDAY,
            "to": YESTERDAY,
            "session_properties": [
                {"name": "session_source", "operator": "equals", "value": "Organic"}
            ],
            "common_profile_properties": {
                "profile_fields": [{"name": "region", "operator": "equals", "value": "ID"}]
            },
        },
    )
    pages = clevertap.walk(response.json()["cursor"])
    records = [r for page in pages for r in page.get("records", [])]
    assert sorted(r["event_props"]["CT Session Id"] for r in records) == expected


def test_conditions_the_sandbox_cannot_honour_are_refused(clevertap: Any) -> None:
    for common, fragment in (
        ({"demographics": [{"name": "Gender", "operator": "equals", "value": "M"}]}, "demogr"),
        ({"profile_fields": {"name": "x"}}, "profile_fields must be a list"),
        ("Gold", "common_profile_properties must be an object"),
    ):
        response = clevertap.post(
            "/1/profiles.json",
            {
                "event_name": "Charged",
                "from": FIRST_DAY,
                "to": YESTERDAY,
                "common_profile_properties": common,
            },
        )
        assert response.status_code == 400
        assert fragment in response.json()["error"]
