"""The segment preset: Segment-spec messages become the uploads Segment's destination would make."""

from __future__ import annotations

import datetime as dt

import pytest
from clevertap_testkit import build_upload, rejection_of
from target_clevertap.presets import MappingConfigError

SEGMENT = {"preset": "segment"}
T0 = "2026-11-02T08:05:00.000Z"
T0_EPOCH = 1793606700


def test_identify_maps_special_traits_and_keeps_the_rest() -> None:
    upload = build_upload(
        {
            "type": "identify",
            "userId": "u-1",
            "anonymousId": "anon-1",
            "messageId": "m-1",
            "timestamp": T0,
            "traits": {
                "name": "Asha Verma",
                "email": "asha@example.com",
                "phone": "+91 98765-43210",
                "gender": "female",
                "birthday": "1991-04-17",
                "avatar": "https://cdn.example.com/a.png",
                "Industry Of Traits": "Retail",
                "accountTier": "gold",
                "id": "u-1",
                "removed": None,
            },
        },
        SEGMENT,
    )
    assert upload == {
        "type": "profile",
        "identity": "u-1",
        "ts": T0_EPOCH,
        "profileData": {
            "Name": "Asha Verma",
            "Email": "asha@example.com",
            "Phone": "+919876543210",
            "Gender": "F",
            "DOB": "$D_671846400",
            "Photo": "https://cdn.example.com/a.png",
            "Industry Of Traits": "Retail",
            "accountTier": "gold",
        },
    }


def test_identify_with_segment_names_snake_cases_custom_traits_only() -> None:
    upload = build_upload(
        {
            "type": "identify",
            "userId": "u-1",
            "traits": {"name": "A", "Industry Of Traits": "Retail", "firstName": "A"},
        },
        SEGMENT,
        property_names="segment",
    )
    assert upload["profileData"] == {
        "Name": "A",
        "industry_of_traits": "Retail",
        "first_name": "A",
    }


def test_track_becomes_an_event_with_properties() -> None:
    upload = build_upload(
        {
            "type": "track",
            "userId": "u-2",
            "event": "Product Viewed",
            "timestamp": T0,
            "properties": {"product_id": "sku-1", "price": 89.9, "coupon": None},
        },
        SEGMENT,
    )
    assert upload == {
        "type": "event",
        "identity": "u-2",
        "ts": T0_EPOCH,
        "evtName": "Product Viewed",
        "evtData": {"product_id": "sku-1", "price": 89.9},
    }


def test_order_completed_becomes_charged_with_items() -> None:
    upload = build_upload(
        {
            "type": "track",
            "userId": "u-3",
            "event": "Order Completed",
            "timestamp": T0,
            "properties": {
                "order_id": "ord-1",
                "total": 179.8,
                "revenue": 164.0,
                "currency": "EUR",
                "products": [
                    {"product_id": "sku-1", "price": 89.9, "quantity": 2, "variant": None},
                    {"product_id": "sku-2", "attributes": {"size": "M"}},
                ],
            },
        },
        SEGMENT,
    )
    assert upload["evtName"] == "Charged"
    assert upload["evtData"] == {
        "Charged ID": "ord-1",
        "Amount": 179.8,
        "revenue": 164.0,
        "currency": "EUR",
        "Items": [
            {"product_id": "sku-1", "price": 89.9, "quantity": 2},
            {"product_id": "sku-2", "attributes": '{"size":"M"}'},
        ],
    }


def test_order_completed_falls_back_to_order_id_and_revenue_spellings() -> None:
    upload = build_upload(
        {
            "type": "track",
            "userId": "u-3",
            "event": "order completed",
            "properties": {"orderId": "ord-2", "revenue": 10},
        },
        SEGMENT,
    )
    assert upload["evtData"] == {"Charged ID": "ord-2", "Amount": 10}


def test_page_and_screen_names_go_into_the_name_property() -> None:
    page = build_upload(
        {
            "type": "page",
            "anonymousId": "anon-9",
            "name": "Pricing",
            "category": "Docs",
            "properties": {"path": "/pricing"},
        },
        SEGMENT,
    )
    screen = build_upload(
        {"type": "screen", "userId": "u-4", "name": "Cart", "properties": {"items": 3}}, SEGMENT
    )
    assert page == {
        "type": "event",
        "objectId": "anon-9",
        "evtName": "Web Page Viewed",
        "evtData": {"path": "/pricing", "name": "Pricing", "category": "Docs"},
    }
    assert screen["evtName"] == "App Screen Viewed"
    assert screen["evtData"] == {"items": 3, "name": "Cart"}


def test_alias_links_the_new_identity_to_the_old_profile() -> None:
    upload = build_upload(
        {"type": "alias", "userId": "u-new", "previousId": "legacy-7", "timestamp": T0},
        SEGMENT,
        property_names="segment",
    )
    assert upload == {
        "type": "profile",
        "identity": "legacy-7",
        "ts": T0_EPOCH,
        "profileData": {"identity": "u-new"},
    }


def test_anonymous_only_message_is_rejected_when_configured() -> None:
    rejection = rejection_of(
        {"type": "track", "anonymousId": "anon-1", "event": "Viewed"},
        {"preset": "segment", "anonymous": "reject"},
    )
    assert rejection.rule == "missing_identity"
    assert "anonymousId" in rejection.reason


def test_message_without_any_id_is_rejected() -> None:
    rejection = rejection_of({"type": "identify", "traits": {"a": 1}}, SEGMENT)
    assert (rejection.rule, rejection.field) == ("missing_identity", None)


def test_group_and_unknown_types_are_rejected_with_the_type() -> None:
    rejection = rejection_of({"type": "group", "userId": "u", "groupId": "g"}, SEGMENT)
    assert rejection.rule == "unsupported_message_type"
    assert "'group'" in rejection.reason


def test_track_without_event_is_rejected() -> None:
    rejection = rejection_of({"type": "track", "userId": "u"}, SEGMENT)
    assert (rejection.rule, rejection.field) == ("event_name_missing", "event")


def test_special_trait_and_same_named_custom_trait_collide() -> None:
    rejection = rejection_of(
        {"type": "identify", "userId": "u", "traits": {"email": "a@b.io", "Email": "c@d.io"}},
        SEGMENT,
    )
    assert rejection.rule == "property_name_collision"
    assert "'email'" in rejection.reason
    assert "'Email'" in rejection.reason


def test_warehouse_table_uses_message_type_and_its_columns_as_traits() -> None:
    upload = build_upload(
        {
            "id": "msg-1",
            "user_id": "u-5",
            "anonymous_id": "a-5",
            "timestamp": dt.datetime(2026, 11, 2, 8, 5, tzinfo=dt.UTC),
            "context_ip": "203.0.113.1",
            "email": "x@example.com",
            "plan": "pro",
        },
        {"preset": "segment", "message_type": "identify"},
    )
    assert upload == {
        "type": "profile",
        "identity": "u-5",
        "ts": T0_EPOCH,
        "profileData": {"Email": "x@example.com", "plan": "pro"},
    }


def test_unknown_preset_option_is_a_configuration_error() -> None:
    with pytest.raises(MappingConfigError, match="identity"):
        build_upload({"type": "track"}, {"preset": "segment", "identity": "userId"})
