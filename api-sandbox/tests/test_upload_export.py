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
