"""Events received through /1/upload are exported by Get Events like any other (round trip)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

SLIM = "?app=false&events=false&profile=false"
KOLKATA = ZoneInfo("Asia/Kolkata")


def epoch(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=KOLKATA).timestamp())


def test_uploaded_events_are_exported_on_their_local_day(
    clevertap: Any, sandbox_client: Any
) -> None:
    seeded = sandbox_client.seed_summary(event_profiles=False)["events"]["Charged"]["days"]
    uploads = [
        {
            "type": "event",
            "identity": "round-trip-1",
            "ts": epoch("2026-11-15T23:30:00"),  # 18:00 UTC: still the 15th in Kolkata
            "evtName": "Shipment Tracked",
            "evtData": {"Carrier": "DHL", "Parcels": 2},
        },
        {
            "type": "event",
            "identity": "round-trip-1",
            "ts": epoch("2026-11-15T10:00:00"),
            "evtName": "Charged",
            "evtData": {"Amount": 12.5},
        },
        {
            "type": "profile",
            "identity": "round-trip-1",
            "profileData": {"Plan": "gold"},
        },
    ]
    assert clevertap.upload(uploads).json()["status"] == "success"

    schema = clevertap.get("/getSchema?type=events").json()
    assert "Shipment Tracked" in str(schema)
    shipments = clevertap.export("Shipment Tracked", 20261110, 20261119)
    assert len(shipments) == 1
    assert shipments[0]["ts"] == 20261115233000
    assert shipments[0]["event_props"] == {"Carrier": "DHL", "Parcels": 2}
    assert shipments[0]["profile"]["identity"] == "round-trip-1"
    assert shipments[0]["profile"]["profileData"] == {"Plan": "gold"}
    assert clevertap.export("Shipment Tracked", 20261116, 20261119) == []

    charged = clevertap.export("Charged", 20261115, 20261115, query=SLIM)
    assert len(charged) == seeded["20261115"] + 1
    assert charged[-1]["event_props"] == {"Amount": 12.5}
    assert (
        clevertap.export("Charged", 20261116, 20261116, query=SLIM).__len__() == seeded["20261116"]
    )


def test_dry_run_uploads_are_not_exported(clevertap: Any) -> None:
    record = {
        "type": "event",
        "identity": "dry-1",
        "ts": epoch("2026-11-12T12:00:00"),
        "evtName": "Parcel Returned",
        "evtData": {"Reason": "size"},
    }
    assert clevertap.upload([record], "?dryRun=1").json()["status"] == "success"
    response = clevertap.post(
        "/1/events.json", {"event_name": "Parcel Returned", "from": 20261112, "to": 20261112}
    )
    assert response.status_code == 400
    assert "Invalid event" in response.text


def _result(clevertap: Any, path: str, body: dict[str, Any]) -> Any:
    """Submit a counts-family query and poll its req_id until the answer is ready."""
    first = clevertap.post(path, body)
    assert first.status_code == 200, first.text
    req_id = first.json()["req_id"]
    for _ in range(10):
        answer = clevertap.get(f"{path}?req_id={req_id}").json()
        if answer["status"] != "partial":
            return answer
    raise AssertionError("never finished")


def order(identity: str, when: str, amount: float, channel: str) -> dict[str, Any]:
    return {
        "type": "event",
        "identity": identity,
        "ts": epoch(when),
        "evtName": "Order Placed",
        "evtData": {"Amount": amount, "Channel": channel},
    }


def test_counts_trends_and_top_see_uploaded_events(clevertap: Any, sandbox_client: Any) -> None:
    seeded = sandbox_client.seed_summary(event_profiles=False)["events"]["Charged"]["days"]
    uploads = [
        order("op-1", "2026-11-14T09:00:00", 10, "web"),
        order("op-1", "2026-11-15T09:00:00", 5.5, "app"),
        order("op-2", "2026-11-15T23:59:00", 20, "web"),
        {"type": "profile", "identity": "op-1", "profileData": {"Tier": "gold"}},
        {"type": "profile", "identity": "op-2", "profileData": {"Tier": "silver"}},
        {
            "type": "event",
            "identity": "op-2",
            "ts": epoch("2026-11-15T12:00:00"),
            "evtName": "Charged",
            "evtData": {"Amount": 1},
        },
    ]
    assert clevertap.upload(uploads).json()["status"] == "success"
    window = {"event_name": "Order Placed", "from": 20261114, "to": 20261115}
    assert len(clevertap.export("Order Placed", 20261114, 20261115)) == 3

    assert _result(clevertap, "/1/counts/events.json", window) == {"status": "success", "count": 3}
    web = {"event_properties": [{"name": "Channel", "operator": "equals", "value": "web"}]}
    assert _result(clevertap, "/1/counts/events.json", {**window, **web})["count"] == 2
    assert _result(clevertap, "/1/counts/profiles.json", window)["count"] == 2
    charged = {"event_name": "Charged", "from": 20261115, "to": 20261115}
    assert _result(clevertap, "/1/counts/events.json", charged)["count"] == seeded["20261115"] + 1

    trends = _result(
        clevertap,
        "/1/counts/trends.json",
        {**window, "groups": {"days": {"trend_type": "daily"}}},
    )
    assert trends == {"status": "success", "days": {"20261114": 1, "20261115": 2}}
    people = {**window, "unique": True, "groups": {"days": {"trend_type": "daily"}}}
    assert _result(clevertap, "/1/counts/trends.json", people)["days"] == {
        "20261114": 1,
        "20261115": 2,
    }
    revenue = {**window, "sum_event_prop": "Amount", "groups": {"d": {"trend_type": "daily"}}}
    assert _result(clevertap, "/1/counts/trends.json", revenue)["d"] == {
        "20261114": 10,
        "20261115": 25.5,
    }

    groups = {
        "channels": {"property_type": "event_properties", "name": "Channel"},
        "tiers": {"property_type": "profile_fields", "name": "Tier"},
        "sources": {"property_type": "session_properties", "name": "session_source"},
    }
    top = _result(clevertap, "/1/counts/top.json", {**window, "groups": groups})
    assert top == {
        "status": "success",
        "channels": {"web": 2, "app": 1},
        "tiers": {"gold": 2, "silver": 1},
        "sources": {},
    }
