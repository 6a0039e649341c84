"""The segment preset sends CleverTap what Segment itself would have sent, and nothing more.

Messages whose ``integrations`` keep them from CleverTap are skipped; one field CleverTap cannot
take costs only that field; values are trimmed as in CleverTap's own example of the destination;
and, when asked, an identify links the anonymous device profile to the user.
"""

from __future__ import annotations

import typing as t

import pytest
from clevertap_testkit import SEGMENT_SCHEMA, build, record, run_target, state
from target_clevertap.presets.segment import opted_out

SEGMENT = {"preset": "segment"}
PRODUCTS = [
    {"product_id": f"sku-{n}", "name": f"Camping Thing {n}", "price": 10.5 + n, "quantity": 1}
    for n in range(12)
]


def track(n: int, **changes: t.Any) -> dict[str, t.Any]:
    message = {
        "type": "track",
        "messageId": f"m-{n}",
        "userId": "u-1",
        "event": "Webinar Registered",
        "timestamp": "2026-11-02T08:00:00Z",
        "properties": {"n": n},
    }
    return {**message, **changes}


def segment_stream(*messages: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    schema = {"type": "SCHEMA", "stream": "segment", "schema": SEGMENT_SCHEMA, "key_properties": []}
    return [schema, *(record("segment", m) for m in messages)]


@pytest.mark.parametrize(
    ("integrations", "skipped"),
    [
        ({"All": False}, True),
        ({"CleverTap": False}, True),
        ({"All": False, "CleverTap": True}, False),
        ({"All": True, "Mixpanel": False}, False),
        ({"all": False, "clevertap": {"some": "option"}}, False),  # an object counts as true
        ({"CLEVERTAP": False, "All": True}, True),  # names compared case-insensitively
        ({"All": False, "CleverTap (Actions)": True}, False),
        ({"CleverTap": True, "CleverTap (Actions)": False}, True),  # any CleverTap off: skipped
        ({"All": False, "Mixpanel": True}, True),
        ({}, False),
        ({"All": "no"}, False),  # only booleans and objects mean anything
    ],
)
def test_which_integrations_keep_a_message_from_clevertap(integrations, skipped) -> None:
    assert opted_out(integrations) is skipped


def test_the_four_integrations_cases_give_two_skipped_and_two_uploaded(
    config, sandbox_client
) -> None:
    config["stream_mappings"] = {"segment": SEGMENT}
    messages = [
        track(1, integrations={"All": False}),
        track(2, integrations={"CleverTap": False}),
        track(3, integrations={"All": False, "CleverTap": True}),
        track(4, integrations={"All": True, "Mixpanel": False}),
    ]
    run = run_target(config, [*segment_stream(*messages), state({"bookmarks": {"segment": 4}})])
    stored = sorted(e["evtData"]["n"] for e in sandbox_client.clevertap_uploaded_events())
    assert stored == [3, 4]
    assert run.summary["skipped_by_reason"] == {"integrations_opt_out": 2}
    assert (run.summary["received"], run.summary["delivered"], run.summary["skipped"]) == (4, 2, 2)
    assert run.rejects == []
    assert run.states == [{"bookmarks": {"segment": 4}}]  # STATE passes the skipped messages


def test_honor_integrations_false_uploads_every_message(config, sandbox_client) -> None:
    config["stream_mappings"] = {"segment": {**SEGMENT, "honor_integrations": False}}
    run_target(config, segment_stream(track(1, integrations={"All": False})))
    assert len(sandbox_client.clevertap_uploaded_events()) == 1


def test_a_cart_viewed_with_a_long_products_list_is_delivered_without_products(
    config, sandbox_client
) -> None:
    config["stream_mappings"] = {"segment": SEGMENT}
    cart = track(
        1,
        messageId="m-cart",
        event="Cart Viewed",
        properties={"cart_id": "c-9", "Cart Value": 774.6, "products": PRODUCTS},
    )
    run = run_target(config, segment_stream(cart))

    (stored,) = sandbox_client.clevertap_uploaded_events()
    assert stored["evtName"] == "Cart Viewed"
    assert stored["evtData"] == {"cart_id": "c-9", "Cart Value": 774.6}
    (dropped,) = run.rejects
    assert dropped["kind"] == "dropped_field"
    assert (dropped["rule"], dropped["field"], dropped["record_key"]) == (
        "value_too_long",
        "products",
        "m-cart",
    )
    assert "CleverTap keeps at most 512" in dropped["reason"]
    assert dropped["value"] == PRODUCTS  # nothing lost: the value is in the file
    assert "record" not in dropped
    assert run.summary["delivered"] == 1
    assert run.summary["rejected"] == 0
    assert run.summary["dropped_fields_by_rule"] == {"value_too_long": 1}


def test_reject_record_keeps_the_old_behaviour_for_a_long_products_list(
    config, sandbox_client
) -> None:
    config.update(stream_mappings={"segment": SEGMENT}, on_invalid_field="reject_record")
    run = run_target(config, segment_stream(track(1, properties={"products": PRODUCTS})))
    assert sandbox_client.clevertap_uploaded_events() == []
    (rejected,) = run.rejects
    assert (rejected["kind"], rejected["rule"], rejected["field"]) == (
        "rejected_record",
        "value_too_long",
        "products",
    )


def test_order_completed_keeps_its_items() -> None:
    order = track(1, event="Order Completed", properties={"order_id": "o-1", "products": PRODUCTS})
    upload, dropped = build(order, SEGMENT)
    assert upload["evtName"] == "Charged"
    assert len(upload["evtData"]["Items"]) == 12
    assert dropped == []


IDENTIFY = {
    "type": "identify",
    "userId": "u-1",
    "anonymousId": "4f1d7c52-94a0-4c6e-b1e4-2d6f0c6f7a11",
    "traits": {"plan": "pro"},
}


def test_identity_linking_is_off_by_default() -> None:
    upload, _ = build(IDENTIFY, SEGMENT)
    assert upload == {"type": "profile", "identity": "u-1", "profileData": {"plan": "pro"}}


def test_link_anonymous_id_addresses_the_device_profile_and_sets_the_identity(
    config, sandbox_client
) -> None:
    upload, _ = build(IDENTIFY, {**SEGMENT, "link_anonymous_id": True})
    assert upload == {
        "type": "profile",
        "objectId": "4f1d7c52-94a0-4c6e-b1e4-2d6f0c6f7a11",
        "profileData": {"plan": "pro", "identity": "u-1"},
    }
    anonymous_event = track(1, userId=None, anonymousId=IDENTIFY["anonymousId"])
    config["stream_mappings"] = {"segment": {**SEGMENT, "link_anonymous_id": True}}
    config["max_concurrency"] = 1
    run_target(config, segment_stream(anonymous_event, {**IDENTIFY, "messageId": "m-id"}))
    (stored,) = sandbox_client.clevertap_profiles()
    assert (stored["objectId"], stored["identity"]) == (IDENTIFY["anonymousId"], "u-1")
    assert sandbox_client.clevertap_uploaded_events()[0]["objectId"] == IDENTIFY["anonymousId"]
