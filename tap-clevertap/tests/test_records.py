"""Record building: the documented event_id recipe, timestamps, extra fields, profile ids."""

from __future__ import annotations

import hashlib
import json
import zoneinfo

from tap_clevertap.records import build_event, build_profile, event_id, profile_object_id

KOLKATA = zoneinfo.ZoneInfo("Asia/Kolkata")


def reference_event_id(object_id, ts, name, props):
    """The README recipe, written with the standard library only."""
    canonical = json.dumps(
        [object_id, ts, name, props], sort_keys=True, separators=(",", ":"), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def test_event_id_matches_the_documented_recipe():
    props = {"b": 1, "a": {"z": "é", "y": [1, 2]}, "CT Source": "Mobile"}
    assert event_id("__abc", 20261119003232, "Charged", props) == reference_event_id(
        "__abc", 20261119003232, "Charged", props
    )


def test_event_id_ignores_key_order_and_defaults_missing_parts():
    assert event_id("o", 1, "E", {"a": 1, "b": 2}) == event_id("o", 1, "E", {"b": 2, "a": 1})
    assert event_id(None, 1, "E", None) == reference_event_id("", 1, "E", {})


def test_event_id_separates_fields_unambiguously():
    assert event_id("a|b", 1, "E", {}) != event_id("a", 1, "b|E", {})


def test_build_event_fields():
    raw = {
        "profile": {"objectId": "__o1", "identity": "u1"},
        "ts": 20261119003232,
        "event_props": {"Amount": 5},
        "session_props": {"session_source": "Direct"},
        "session_source": "Direct",
    }
    record = build_event(raw, "Charged", KOLKATA)
    assert record == {
        "event_id": reference_event_id("__o1", 20261119003232, "Charged", {"Amount": 5}),
        "event_name": "Charged",
        "event_time": "2026-11-18T19:02:32Z",
        "event_date": "2026-11-19",
        "ts": 20261119003232,
        "profile": {"objectId": "__o1", "identity": "u1"},
        "event_props": {"Amount": 5},
        "session_props": {"session_source": "Direct"},
        "extra_fields": {"session_source": "Direct"},
    }


def test_profile_object_id_falls_back_to_platform_info():
    both = {"objectId": "__top", "platformInfo": [{"objectId": "__d"}]}
    assert profile_object_id(both) == "__top"
    device_only = {"platformInfo": [{"platform": "iOS"}, {"objectId": "__d2"}]}
    assert profile_object_id(device_only) == "__d2"
    assert profile_object_id({"objectId": "", "platformInfo": []}) is None


def test_build_profile_keeps_unknown_keys_in_extra_fields():
    record = build_profile({"identity": "u", "custom": 1}, "__d", "2026-11-19")
    assert record["objectId"] == "__d"
    assert record["sweep_date"] == "2026-11-19"
    assert record["extra_fields"] == {"custom": 1}
