"""The generic mapping (any table) and the clevertap preset (tap-clevertap output)."""

from __future__ import annotations

import datetime as dt
import zoneinfo

import pytest
from clevertap_testkit import build_upload, rejection_of
from target_clevertap.presets import MappingConfigError, StreamContext, mapping_for

USERS = ("id", "email", "plan", "updated_at", "secret_note")


def test_generic_profile_defaults_to_the_key_property_as_identity() -> None:
    upload = build_upload(
        {"id": 42, "email": "a@example.com", "plan": "pro", "note": None},
        {},
        keys=("id",),
    )
    assert upload == {
        "type": "profile",
        "identity": "42",
        "profileData": {"email": "a@example.com", "plan": "pro"},
    }


def test_generic_fields_exclude_rename_and_timestamp() -> None:
    upload = build_upload(
        {
            "id": 1,
            "email": "a@example.com",
            "plan": "pro",
            "updated_at": dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
            "secret_note": "x",
        },
        {
            "identity": "id",
            "timestamp": "updated_at",
            "exclude": ["secret_note"],
            "rename": {"email": "Email", "plan": "Plan Type"},
        },
        properties=USERS,
    )
    assert upload == {
        "type": "profile",
        "identity": "1",
        "ts": 1767225600,
        "profileData": {"Email": "a@example.com", "Plan Type": "pro"},
    }


def test_generic_event_with_constant_name_and_chosen_fields() -> None:
    upload = build_upload(
        {"order_id": "o-1", "user": {"id": "u-9"}, "amount": 12.5, "created": 1767225600000},
        {
            "kind": "event",
            "identity": "user.id",
            "event_name": "Order Placed",
            "timestamp": "created",
            "timestamp_unit": "ms",
            "fields": ["order_id", "amount"],
        },
    )
    assert upload == {
        "type": "event",
        "identity": "u-9",
        "ts": 1767225600,
        "evtName": "Order Placed",
        "evtData": {"order_id": "o-1", "amount": 12.5},
    }


def test_generic_event_name_from_a_field_and_object_id() -> None:
    upload = build_upload(
        {"device": "dev-1", "action": "Button Clicked", "label": "buy"},
        {"kind": "event", "object_id": "device", "event_name_field": "action"},
    )
    assert upload == {
        "type": "event",
        "objectId": "dev-1",
        "evtName": "Button Clicked",
        "evtData": {"label": "buy"},
    }


def test_generic_rename_onto_an_existing_field_is_a_collision() -> None:
    rejection = rejection_of(
        {"id": 1, "email": "a@b.io", "Email": "c@d.io"},
        {"rename": {"email": "Email"}},
        keys=("id",),
    )
    assert rejection.rule == "property_name_collision"
    assert "'email'" in rejection.reason
    assert "'Email'" in rejection.reason


def test_generic_milliseconds_without_the_unit_are_rejected() -> None:
    rejection = rejection_of({"id": 1, "at": 1767225600000}, {"identity": "id", "timestamp": "at"})
    assert (rejection.rule, rejection.field) == ("invalid_timestamp", "at")
    assert "timestamp_unit" in rejection.reason


@pytest.mark.parametrize(
    ("options", "keys", "message"),
    [
        ({}, (), "say which field identifies the user"),
        ({"identity": "a", "object_id": "b"}, (), "either identity or object_id"),
        ({"kind": "event", "identity": "id"}, (), "exactly one of event_name"),
        ({"identity": "id", "event_name": "X"}, (), "only apply to kind 'event'"),
        ({"identity": "user_id"}, (), "user_id"),
        ({"identity": "id", "colour": "red"}, (), "colour"),
    ],
)
def test_generic_mapping_errors_name_the_fix(options, keys, message) -> None:
    with pytest.raises(MappingConfigError, match=message):
        build_upload({"id": 1}, options, keys=keys, properties=USERS)


def test_unmapped_stream_error_names_the_stream_and_examples() -> None:
    context = StreamContext("orders", ("id",), frozenset(), zoneinfo.ZoneInfo("UTC"))
    with pytest.raises(MappingConfigError, match="stream 'orders' has no entry in stream_mappings"):
        mapping_for({"users": {}}, context)


TAP_EVENT = {
    "event_id": "e3b0c442",
    "event_name": "Product Viewed",
    "event_time": "2026-08-30T00:32:32Z",
    "ts": 20260830060232,
    "profile": {"objectId": "-2ce3a1", "identity": "4271050", "platform": "iOS"},
    "event_props": {"CT Source": "Mobile", "Product": "Trail Runner", "missing": None},
    "session_props": {"session_source": "Direct"},
}


def test_clevertap_event_uses_identity_and_event_time() -> None:
    assert build_upload(TAP_EVENT, {"preset": "clevertap"}) == {
        "type": "event",
        "identity": "4271050",
        "ts": 1788049952,
        "evtName": "Product Viewed",
        "evtData": {"CT Source": "Mobile", "Product": "Trail Runner"},
    }


def test_clevertap_event_without_event_time_reads_packed_ts_in_the_timezone() -> None:
    event = {**TAP_EVENT, "event_time": None, "profile": {"objectId": "-2ce3a1"}}
    upload = build_upload(
        event, {"preset": "clevertap"}, timezone=zoneinfo.ZoneInfo("Asia/Kolkata")
    )
    assert upload["objectId"] == "-2ce3a1"
    assert "identity" not in upload
    assert upload["ts"] == 1788049952  # 06:02:32 IST = 00:32:32 UTC


def test_clevertap_system_event_is_restricted() -> None:
    rejection = rejection_of({**TAP_EVENT, "event_name": "App Launched"}, {"preset": "clevertap"})
    assert (rejection.rule, rejection.field) == ("restricted_event", "evtName")


def test_clevertap_profile_sends_profile_data_and_contact_fields() -> None:
    upload = build_upload(
        {
            "objectId": "-9f1",
            "identity": "u-1",
            "email": "a@example.com",
            "name": "Asha",
            "phone": None,
            "profileData": {"points": 51, "userdob": "2003-07-14", "Name": "Asha V"},
            "events": {"App Launched": {"count": 3}},
            "sweep_date": "2026-08-30",
        },
        {"preset": "clevertap"},
    )
    assert upload == {
        "type": "profile",
        "identity": "u-1",
        "profileData": {
            "points": 51,
            "userdob": "2003-07-14",
            "Name": "Asha V",
            "Email": "a@example.com",
        },
    }
