"""Refusals of the export endpoints: auth, event names, windows, malformed bodies."""

from __future__ import annotations

from typing import Any

import requests

YESTERDAY, TODAY = 20261119, 20261120
UNAUTHORIZED = {"status": "fail", "error": "Account ID is not valid", "code": 401}


def test_bad_or_missing_credentials_answer_401(sandbox: Any, sandbox_client: Any) -> None:
    body = {"event_name": "App Launched", "from": YESTERDAY, "to": YESTERDAY}
    url = sandbox.clevertap_url + "/1/events.json"
    for headers in (
        {},
        {"X-CleverTap-Account-Id": "SANDBOX-ACCOUNT"},
        {"X-CleverTap-Account-Id": "SANDBOX-ACCOUNT", "X-CleverTap-Passcode": "wrong"},
        {"X-CleverTap-Account-Id": "OTHER", "X-CleverTap-Passcode": "sandbox-passcode"},
    ):
        response = requests.post(url, json=body, headers=headers, timeout=30)
        assert response.status_code == 401
        assert response.json() == UNAUTHORIZED
    upload = requests.post(sandbox.clevertap_url + "/1/upload", json={"d": []}, timeout=30)
    assert upload.status_code == 401
    schema = requests.get(sandbox.clevertap_url + "/getSchema?type=events", timeout=30)
    assert schema.status_code == 401


def test_notification_events_cannot_be_exported(clevertap: Any) -> None:
    for name in ("Notification Viewed", "Notification Clicked", "Push Impressions"):
        for stream in ("events", "profiles"):
            response = clevertap.post(
                f"/1/{stream}.json", {"event_name": name, "from": YESTERDAY, "to": YESTERDAY}
            )
            assert response.status_code == 400
            assert response.json() == {
                "status": "fail",
                "error": "Export not allowed for this event",
                "code": 400,
            }


def test_unknown_event_is_invalid_event(clevertap: Any) -> None:
    response = clevertap.post(
        "/1/events.json", {"event_name": "No Such Event", "from": YESTERDAY, "to": YESTERDAY}
    )
    assert response.status_code == 400
    assert response.json() == {"error": '["Invalid event : No Such Event"]'}


def test_event_names_are_case_sensitive(clevertap: Any) -> None:
    response = clevertap.post(
        "/1/events.json", {"event_name": "app launched", "from": YESTERDAY, "to": YESTERDAY}
    )
    assert response.json() == {"error": '["Invalid event : app launched"]'}


def test_to_after_today_is_rejected_but_today_is_allowed(clevertap: Any) -> None:
    future = clevertap.post(
        "/1/events.json", {"event_name": "App Launched", "from": YESTERDAY, "to": 20261121}
    )
    assert future.status_code == 400
    assert future.json()["status"] == "fail"
    assert "future" in future.json()["error"]
    assert clevertap.export("App Launched", TODAY, TODAY) == []


def test_from_after_to_is_rejected(clevertap: Any) -> None:
    response = clevertap.post(
        "/1/events.json", {"event_name": "App Launched", "from": YESTERDAY, "to": 20261110}
    )
    assert response.status_code == 400
    assert response.json()["status"] == "fail"


def test_dates_must_be_yyyymmdd(clevertap: Any) -> None:
    for bad in ("2026-11-19", 1763500000, 20261340, None):
        response = clevertap.post(
            "/1/events.json", {"event_name": "App Launched", "from": bad, "to": YESTERDAY}
        )
        assert response.status_code == 400, bad
        assert response.json()["status"] == "fail"


def test_malformed_and_incomplete_bodies(clevertap: Any) -> None:
    malformed = clevertap.session.post(clevertap.base + "/1/events.json", data=b"{not json")
    assert malformed.status_code == 400
    assert malformed.json() == {"status": "fail", "error": "Malformed request", "code": 400}
    missing = clevertap.post("/1/events.json", {"from": YESTERDAY, "to": YESTERDAY})
    assert missing.status_code == 400
    assert "event_name" in missing.json()["error"]


def test_invalid_batch_size(clevertap: Any) -> None:
    response = clevertap.post(
        "/1/events.json?batch_size=lots",
        {"event_name": "App Launched", "from": YESTERDAY, "to": YESTERDAY},
    )
    assert response.status_code == 400
    assert "batch_size" in response.json()["error"]


def test_invalid_filter_operator(clevertap: Any) -> None:
    response = clevertap.post(
        "/1/events.json",
        {
            "event_name": "Charged",
            "from": YESTERDAY,
            "to": YESTERDAY,
            "event_properties": [{"name": "Amount", "operator": "approximately", "value": 3}],
        },
    )
    assert response.status_code == 400
    assert "approximately" in response.json()["error"]
