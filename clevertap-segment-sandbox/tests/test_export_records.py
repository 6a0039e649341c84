"""Record shapes of the exports (docs/clevertap-api.md §2.3 [O] and §2.4 [C])."""

from __future__ import annotations

import re
from typing import Any

FIRST_DAY, YESTERDAY = 20261106, 20261119
PROFILE_KEYS = {
    "df",
    "name",
    "push_token",
    "email",
    "phone",
    "all_identities",
    "identity",
    "profileData",
    "events",
    "os_version",
    "app_version",
    "make",
    "model",
    "platform",
    "objectId",
}


def test_event_record_shape_as_captured(clevertap: Any) -> None:
    records = clevertap.export("App Launched", YESTERDAY, YESTERDAY)
    for record in records:
        assert list(record) == ["profile", "session_props", "ts", "event_props"]
        assert set(record["profile"]) == PROFILE_KEYS
        assert record["profile"]["df"] == {}
        assert "event_name" not in record
        assert "evtName" not in record
        assert set(record["session_props"]) == {"session_source"}
    sample = records[0]
    assert {
        "CT App Version",
        "CT Source",
        "CT Session Id",
        "CT SDK Version",
        "CT OS Version",
    } <= set(sample["event_props"])
    summary = sample["profile"]["events"]
    assert len(summary) >= 80, "the per-user event summary lists ~110 event names"
    assert set(summary["App Launched"]) == {"count", "first_seen", "last_seen"}
    assert summary["App Launched"]["first_seen"] > 1_500_000_000, "epoch seconds"
    assert len(sample["profile"]["profileData"]) >= 20


def test_ts_is_packed_local_time_inside_the_requested_day(clevertap: Any) -> None:
    for record in clevertap.export("Search", 20261110, 20261111):
        ts = record["ts"]
        assert isinstance(ts, int)
        assert 20261110000000 <= ts <= 20261111235959
        text = str(ts)
        assert 0 <= int(text[8:10]) <= 23
        assert 0 <= int(text[10:12]) <= 59
        assert 0 <= int(text[12:14]) <= 59


def test_anonymous_users_have_an_empty_identity(clevertap: Any) -> None:
    profiles = [r["profile"] for r in clevertap.export("App Launched", FIRST_DAY, YESTERDAY)]
    anonymous = [p for p in profiles if p["identity"] == ""]
    identified = [p for p in profiles if p["identity"]]
    assert anonymous
    assert identified
    assert all(p["objectId"] for p in anonymous)
    assert all(p["identity"] in p["all_identities"] for p in identified)


def test_flags_remove_device_fields_summary_and_profile_data(clevertap: Any) -> None:
    slim = clevertap.export(
        "Charged", YESTERDAY, YESTERDAY, query="?app=false&events=false&profile=false"
    )
    full = clevertap.export("Charged", YESTERDAY, YESTERDAY)
    assert len(slim) == len(full)
    for record in slim:
        profile = record["profile"]
        assert not {"profileData", "events", "os_version", "app_version", "make", "model"} & set(
            profile
        )
        assert profile["objectId"]
        assert "identity" in profile
    assert [r["event_props"] for r in slim] == [r["event_props"] for r in full]
    only_events = clevertap.export("Charged", YESTERDAY, YESTERDAY, query="?profile=false")
    assert "events" in only_events[0]["profile"]
    assert "profileData" not in only_events[0]["profile"]


def test_charged_carries_items_amount_and_charged_id(clevertap: Any) -> None:
    for record in clevertap.export("Charged", YESTERDAY, YESTERDAY):
        props = record["event_props"]
        assert isinstance(props["Amount"], float)
        assert props["Charged ID"].startswith("CH-")
        assert props["Items"]
        for item in props["Items"]:
            assert set(item) == {"Product Name", "Category", "Quantity", "Price"}


def test_event_property_filters(clevertap: Any) -> None:
    everything = clevertap.export("Charged", FIRST_DAY, YESTERDAY, query="?events=false")
    upi = [r for r in everything if r["event_props"]["Payment Mode"] == "UPI"]
    response = clevertap.post(
        "/1/events.json?events=false",
        {
            "event_name": "Charged",
            "from": FIRST_DAY,
            "to": YESTERDAY,
            "event_properties": [{"name": "Payment Mode", "operator": "equals", "value": "UPI"}],
        },
    )
    pages = clevertap.walk(response.json()["cursor"])
    filtered = [r for page in pages for r in page.get("records", [])]
    assert 0 < len(filtered) < len(everything)
    assert filtered == upi


def test_profiles_export_one_record_per_profile(clevertap: Any) -> None:
    cursor = clevertap.open("Search", FIRST_DAY, YESTERDAY, stream="profiles")
    records = [r for page in clevertap.walk(cursor, "profiles") for r in page.get("records", [])]
    keys = set()
    for record in records:
        assert {
            "identity",
            "email",
            "name",
            "phone",
            "profileData",
            "events",
            "platformInfo",
        } <= set(record)
        assert record["platformInfo"]
        key = record.get("objectId") or record["platformInfo"][0]["objectId"]
        keys.add(key)
    assert len(keys) == len(records), "no profile twice"
    lifted = [r for r in records if "objectId" not in r]
    assert lifted, "some profiles carry their objectId only inside platformInfo"
    searchers = {r["profile"]["objectId"] for r in clevertap.export("Search", FIRST_DAY, YESTERDAY)}
    device_ids = {d["objectId"] for r in records for d in r["platformInfo"]}
    assert searchers <= device_ids


def test_object_ids_look_like_clevertap_ids(clevertap: Any) -> None:
    for record in clevertap.export("Search", YESTERDAY, YESTERDAY):
        assert re.fullmatch(r"__[0-9a-f]{32}", record["profile"]["objectId"])
