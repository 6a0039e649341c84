"""The generic mapping: any table to each Segment call type, as the sandbox receives it."""

from __future__ import annotations

import json

from segment_testkit import DATETIME, INTEGER, OBJECT, STRING, record, run_target, schema


def by_type(messages: list[dict], kind: str) -> list[dict]:
    return [m for m in messages if m["type"] == kind]


def test_identify_from_a_users_table(segment_config, sandbox_client) -> None:
    config = {
        **segment_config,
        "stream_mappings": {
            "users": {
                "type": "identify",
                "user_id": "id",
                "traits": {"from": "*", "exclude": ["internal"], "rename": {"mail": "email"}},
            }
        },
    }
    lines = [
        schema(
            "users",
            {
                "id": INTEGER,
                "mail": STRING,
                "plan": STRING,
                "internal": STRING,
                "created": DATETIME,
            },
            ["id"],
        ),
        record(
            "users",
            {
                "id": 7,
                "mail": "a@example.com",
                "plan": "pro",
                "internal": "x",
                "created": "2024-02-03T04:05:06.789+02:00",
            },
        ),
    ]
    run_target(config, lines)
    (message,) = sandbox_client.segment_messages()
    assert message["type"] == "identify"
    assert message["userId"] == "7"
    assert message["traits"] == {
        "email": "a@example.com",
        "plan": "pro",
        "created": "2024-02-03T04:05:06.789000+02:00",  # RFC 3339, offset kept
    }


def test_track_with_a_constant_event_name_and_picked_properties(
    segment_config, sandbox_client
) -> None:
    config = {
        **segment_config,
        "stream_mappings": {
            "orders": {
                "type": "track",
                "event": {"value": "Order Completed"},
                "user_id": ["customer_id", "guest_id"],
                "anonymous_id": "device",
                "timestamp": "placed_at",
                "properties": ["order_id", "total", "shipping.city"],
                "context": {"fields": {"ip": "ip", "device.type": "device_kind"}},
            }
        },
        "integrations": {"All": False, "CleverTap": True},
    }
    lines = [
        schema(
            "orders",
            {
                "order_id": STRING,
                "customer_id": STRING,
                "guest_id": STRING,
                "device": STRING,
                "total": {"type": ["number"]},
                "placed_at": DATETIME,
                "shipping": OBJECT,
                "ip": STRING,
                "device_kind": STRING,
                "secret_notes": STRING,
            },
            ["order_id"],
        ),
        record(
            "orders",
            {
                "order_id": "o-1",
                "customer_id": "",
                "guest_id": "g-9",
                "device": "d-1",
                "total": 12.5,
                "placed_at": "2024-05-01T10:00:00Z",
                "shipping": {"city": "Pune", "zip": "411001"},
                "ip": "10.0.0.1",
                "device_kind": "mobile",
                "secret_notes": "not sent",
            },
        ),
    ]
    run_target(config, lines)
    (message,) = sandbox_client.segment_messages()
    assert message["event"] == "Order Completed"
    assert message["userId"] == "g-9"  # customer_id is empty: the next field wins
    assert message["anonymousId"] == "d-1"
    assert message["timestamp"] == "2024-05-01T10:00:00.000Z"
    assert message["properties"] == {"order_id": "o-1", "total": 12.5, "city": "Pune"}
    assert message["context"]["ip"] == "10.0.0.1"
    assert message["context"]["device"] == {"type": "mobile"}
    assert message["integrations"] == {"All": False, "CleverTap": True}


def test_integrations_reach_segment_untouched(segment_config, sandbox_client) -> None:
    """Names keep their case and destination options objects pass as they are."""
    integrations = {"All": False, "CleverTap": {"region": "in1."}, "mixpanel": False}
    config = {
        **segment_config,
        "stream_mappings": {"s": {"type": "track", "event": "e", "user_id": "uid"}},
        "integrations": integrations,
    }
    run_target(
        config, [schema("s", {"e": STRING, "uid": STRING}), record("s", {"e": "X", "uid": "u"})]
    )
    (message,) = sandbox_client.segment_messages()
    assert message["integrations"] == integrations
    (request,) = sandbox_client.segment_requests()
    body = json.loads(sandbox_client.logged_bytes(request) or b"{}")
    assert [item["integrations"] for item in body["batch"]] == [integrations]


def test_page_screen_group_and_alias(segment_config, sandbox_client) -> None:
    config = {
        **segment_config,
        "stream_mappings": {
            "pageviews": {
                "type": "page",
                "anonymous_id": "visitor",
                "name": "title",
                "category": "section",
                "timestamp": "at",
            },
            "screens": {"type": "screen", "user_id": "uid", "name": "screen"},
            "accounts": {
                "type": "group",
                "user_id": "owner",
                "group_id": "account_id",
                "traits": {"from": "*", "rename": {"account_name": "name"}},
            },
            "merges": {"type": "alias", "previous_id": "old_id", "user_id": "new_id"},
        },
    }
    lines = [
        schema(
            "pageviews",
            {"visitor": STRING, "title": STRING, "section": STRING, "url": STRING, "at": INTEGER},
        ),
        record(
            "pageviews",
            {
                "visitor": "v1",
                "title": "Pricing",
                "section": "Docs",
                "url": "https://x/p",
                "at": 1714557600,
            },
        ),
        schema("screens", {"uid": STRING, "screen": STRING, "seconds": INTEGER}),
        record("screens", {"uid": "u1", "screen": "Home", "seconds": 12}),
        schema("accounts", {"owner": STRING, "account_id": STRING, "account_name": STRING}),
        record("accounts", {"owner": "u1", "account_id": "acc-1", "account_name": "ACME"}),
        schema("merges", {"old_id": STRING, "new_id": STRING}),
        record("merges", {"old_id": "v1", "new_id": "u1"}),
    ]
    result = run_target(config, lines)
    messages = sandbox_client.segment_messages()
    (page,) = by_type(messages, "page")
    assert page["name"] == "Pricing"
    assert page["category"] == "Docs"
    assert page["properties"] == {"url": "https://x/p"}
    assert page["timestamp"] == "2024-05-01T10:00:00.000Z"  # epoch seconds
    (screen,) = by_type(messages, "screen")
    assert (screen["userId"], screen["name"], screen["properties"]) == (
        "u1",
        "Home",
        {"seconds": 12},
    )
    (group,) = by_type(messages, "group")
    assert (group["groupId"], group["userId"], group["traits"]) == ("acc-1", "u1", {"name": "ACME"})
    (alias,) = by_type(messages, "alias")
    assert (alias["previousId"], alias["userId"]) == ("v1", "u1")
    assert "traits" not in alias
    assert "properties" not in alias
    assert result.summary["delivered_by_type"] == {"page": 1, "screen": 1, "group": 1, "alias": 1}
    assert sandbox_client.segment_stats()["dropped"] == 0


def test_default_mapping_covers_unlisted_streams(segment_config, sandbox_client) -> None:
    config = {
        **segment_config,
        "default_mapping": {
            "type": "track",
            "event": {"value": "Row Loaded"},
            "anonymous_id": ["id", "Id"],
        },
    }
    lines = [
        schema("a", {"id": INTEGER, "v": STRING}, ["id"]),
        record("a", {"id": 1, "v": "x"}),
        schema("b", {"Id": STRING}, ["Id"]),
        record("b", {"Id": "B-1"}),
    ]
    run_target(config, lines)
    got = sorted((m["anonymousId"], m["event"]) for m in sandbox_client.segment_messages())
    assert got == [("1", "Row Loaded"), ("B-1", "Row Loaded")]


def test_message_ids_key_mode_for_events_content_mode_for_identify(
    segment_config, sandbox_client
) -> None:
    config = {
        **segment_config,
        "stream_mappings": {
            "events": {"type": "track", "event": "name", "user_id": "uid"},
            "people": {"type": "identify", "user_id": "uid"},
        },
    }
    first = [
        schema("events", {"id": STRING, "name": STRING, "uid": STRING}, ["id"]),
        record("events", {"id": "e1", "name": "Clicked", "uid": "u1"}),
        schema("people", {"uid": STRING, "plan": STRING}, ["uid"]),
        record("people", {"uid": "u1", "plan": "free"}),
    ]
    second = [
        schema("events", {"id": STRING, "name": STRING, "uid": STRING}, ["id"]),
        # same key, corrected content: still the same event, so Segment must drop it as a duplicate
        record("events", {"id": "e1", "name": "Clicked Twice", "uid": "u1"}),
        schema("people", {"uid": STRING, "plan": STRING}, ["uid"]),
        record("people", {"uid": "u1", "plan": "free"}),  # unchanged profile: duplicate
        record("people", {"uid": "u1", "plan": "pro"}),  # changed profile: a new call
    ]
    run_target(config, first)
    run_target(config, second)
    stats = sandbox_client.segment_stats()
    assert stats["duplicates"] == 2
    assert stats["accepted"] == 3
    plans = sorted(
        m["traits"]["plan"] for m in sandbox_client.segment_messages() if m["type"] == "identify"
    )
    assert plans == ["free", "pro"]


def test_the_salt_separates_deployments(segment_config, sandbox_client) -> None:
    config = {
        **segment_config,
        "stream_mappings": {"events": {"type": "track", "event": "name", "user_id": "uid"}},
    }
    lines = [
        schema("events", {"id": STRING, "name": STRING, "uid": STRING}, ["id"]),
        record("events", {"id": "e1", "name": "Clicked", "uid": "u1"}),
    ]
    run_target({**config, "message_id_salt": "deployment-a"}, lines)
    run_target({**config, "message_id_salt": "deployment-b"}, lines)
    run_target(config, lines)  # default salt: derived from the write key
    ids = {m["messageId"] for m in sandbox_client.segment_messages()}
    assert len(ids) == 3
    assert sandbox_client.segment_stats()["duplicates"] == 0


def test_rows_with_a_null_key_are_told_apart_by_content(segment_config, sandbox_client) -> None:
    config = {
        **segment_config,
        "stream_mappings": {"e": {"type": "track", "event": "name", "user_id": "uid"}},
    }
    lines = [
        schema("e", {"id": STRING, "name": STRING, "uid": STRING}, ["id"]),
        record("e", {"id": None, "name": "Opened", "uid": "u1"}),
        record("e", {"id": None, "name": "Closed", "uid": "u1"}),
    ]
    run_target(config, lines)
    events = sorted(m["event"] for m in sandbox_client.segment_messages())
    assert events == ["Closed", "Opened"]
