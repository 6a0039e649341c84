"""The Segment HTTP Tracking API emulator (docs/segment-api.md §1)."""

from __future__ import annotations

import base64
import gzip
import json
from typing import Any

import pytest
import requests

KEY = "sandbox-write-key"


def track(**changes: Any) -> dict[str, Any]:
    message = {"type": "track", "userId": "u1", "event": "Song Played", "properties": {"a": 1}}
    message.update(changes)
    return {k: v for k, v in message.items() if v is not ...}


def test_batch_success_body_and_storage(segment: Any, sandbox_client: Any) -> None:
    response = segment.batch([track(messageId="m1"), {"type": "identify", "userId": "u1"}])
    assert response.status_code == 200
    assert response.json() == {"success": True}
    messages = sandbox_client.segment_messages()
    assert [m["type"] for m in messages] == ["track", "identify"]
    assert messages[0]["messageId"] == "m1"
    assert messages[1]["messageId"], "a missing messageId gets one assigned"
    assert all(m["receivedAt"].endswith("Z") for m in messages)
    assert sandbox_client.segment_stats()["batches"] == 1


@pytest.mark.parametrize("path", ["identify", "track", "page", "screen", "group", "alias"])
def test_single_calls_take_their_type_from_the_path(
    segment: Any, sandbox_client: Any, path: str
) -> None:
    body = {
        "userId": "u1",
        "event": "Clicked",
        "groupId": "g1",
        "previousId": "old",
        "name": "Home",
    }
    response = segment.post(f"/v1/{path}", body)
    assert response.json() == {"success": True}
    [message] = sandbox_client.segment_messages()
    assert message["type"] == path


def test_import_is_an_alias_of_batch(segment: Any, sandbox_client: Any) -> None:
    segment.post("/v1/import", {"batch": [track()]})
    assert len(sandbox_client.segment_messages()) == 1


def test_write_key_forms(sandbox: Any, segment: Any, sandbox_client: Any) -> None:
    url = sandbox.segment_url + "/v1/track"
    no_colon = base64.b64encode(KEY.encode()).decode()
    requests.post(url, json=track(messageId="basic"), auth=(KEY, ""), timeout=30)
    requests.post(
        url,
        json=track(messageId="nocolon"),
        headers={"Authorization": f"Basic {no_colon}"},
        timeout=30,
    )
    requests.post(url, json={**track(messageId="body"), "writeKey": KEY}, timeout=30)
    ids = {m["messageId"] for m in sandbox_client.segment_messages()}
    assert ids == {"basic", "nocolon", "body"}
    assert all("writeKey" not in m for m in sandbox_client.segment_messages())


def test_missing_or_short_write_key_is_400(sandbox: Any, sandbox_client: Any) -> None:
    url = sandbox.segment_url + "/v1/batch"
    assert requests.post(url, json={"batch": [track()]}, timeout=30).status_code == 400
    assert (
        requests.post(url, json={"batch": [track()]}, auth=("ab", ""), timeout=30).status_code
        == 400
    )
    assert sandbox_client.segment_stats()["bad_requests_by_reason"] == {"invalid_write_key": 2}


def test_unknown_write_key_answers_200_and_drops(segment: Any, sandbox_client: Any) -> None:
    response = segment.post("/v1/batch", {"batch": [track(), track()]}, auth=("some-other-key", ""))
    assert response.json() == {"success": True}
    assert sandbox_client.segment_messages() == []
    dropped = sandbox_client.segment_dropped()
    assert [d["reason"] for d in dropped] == ["unknown_write_key", "unknown_write_key"]


def test_settings_cdn_validates_the_key(sandbox: Any, sandbox_client: Any) -> None:
    good = requests.get(f"{sandbox.segment_url}/v1/projects/{KEY}/settings", timeout=30)
    assert good.status_code == 200
    assert good.json()["integrations"]["Segment.io"]["apiKey"] == KEY
    bad = requests.get(f"{sandbox.segment_url}/v1/projects/wrong-key-123/settings", timeout=30)
    assert bad.status_code == 404
    assert bad.text == "Invalid path or write key provided."
    requests_seen = sandbox_client.segment_stats()["requests"]
    assert "GET /v1/projects/{writeKey}/settings" in requests_seen
    assert not any(KEY in endpoint for endpoint in requests_seen), "no write key in stats"


def test_size_limits(segment: Any, sandbox_client: Any) -> None:
    # 32 KB per message (32,768 bytes as json.dumps measures it).
    padding = "x" * (32_768 - len(json.dumps(track(properties={"p": ""}))) + 1)
    too_big = segment.batch([track(properties={"p": padding})])
    assert too_big.status_code == 400
    fits = segment.batch([track(properties={"p": padding[:-1]})])
    assert fits.status_code == 200
    assert segment.post("/v1/track", track(properties={"p": padding})).status_code == 400
    # 500 KB per request (500,000 bytes).
    items = [track(properties={"p": "y" * 5_000}) for _ in range(101)]
    assert segment.batch(items).status_code == 400
    stats = sandbox_client.segment_stats()
    assert stats["bad_requests_by_reason"] == {"message_too_large": 2, "request_too_large": 1}
    assert stats["accepted"] == 1


def test_invalid_json_is_400(sandbox: Any, sandbox_client: Any) -> None:
    response = requests.post(
        sandbox.segment_url + "/v1/batch", data=b"{nope", auth=(KEY, ""), timeout=30
    )
    assert response.status_code == 400
    assert sandbox_client.segment_stats()["bad_requests_by_reason"] == {"invalid_json": 1}


DROPS = [
    ("no_user_anon_id", track(userId=...)),
    ("no_user_anon_id", track(userId="")),
    ("no_user_anon_id", track(userId=42)),
    ("event_not_defined", track(event=...)),
    ("event_not_string", track(event=7)),
    ("properties_not_object", track(properties=["a"])),
    ("traits_not_object", {"type": "identify", "userId": "u1", "traits": "vip"}),
    ("name_not_string", {"type": "page", "userId": "u1", "name": ""}),
    ("category_not_string", {"type": "screen", "anonymousId": "a", "category": 3}),
    ("id_required", {"type": "group", "userId": "u1", "traits": {}}),
    ("id_required", {"type": "alias", "userId": "u1"}),
    ("invalid_type", {"type": "purchase", "userId": "u1"}),
    ("invalid_message_id", track(messageId="m" * 101)),
]


@pytest.mark.parametrize(("reason", "message"), DROPS)
def test_invalid_messages_get_200_and_are_dropped(
    segment: Any, sandbox_client: Any, reason: str, message: dict[str, Any]
) -> None:
    response = segment.batch([message, track()])
    assert response.status_code == 200
    assert response.json() == {"success": True}
    [dropped] = sandbox_client.segment_dropped()
    assert dropped["reason"] == reason
    assert dropped["message"]["type"] == message["type"]
    assert len(sandbox_client.segment_messages()) == 1


def test_anonymous_id_alone_is_enough(segment: Any, sandbox_client: Any) -> None:
    segment.batch([track(userId=..., anonymousId="anon-1")])
    assert len(sandbox_client.segment_messages()) == 1


def test_items_past_2500_are_dropped(segment: Any, sandbox_client: Any) -> None:
    items = [
        {"type": "track", "userId": "u", "event": "e", "messageId": f"m{i}"} for i in range(2_503)
    ]
    assert segment.batch(items).status_code == 200
    stats = sandbox_client.segment_stats()
    assert stats["accepted"] == 2_500
    assert stats["dropped_by_reason"] == {"batch_item_limit": 3}
    assert stats["received"] == 2_503


def test_duplicates_by_message_id_are_counted_not_stored(segment: Any, sandbox_client: Any) -> None:
    segment.batch([track(messageId="a"), track(messageId="b")])
    segment.batch([track(messageId="a", event="Changed")])
    messages = sandbox_client.segment_messages()
    assert [m["messageId"] for m in messages] == ["a", "b"]
    assert messages[0]["event"] == "Song Played", "the first one wins"
    stats = sandbox_client.segment_stats()
    assert stats["duplicates"] == 1
    assert stats["accepted"] == 2


def test_a_message_id_is_forgotten_after_the_dedup_window(
    segment: Any, sandbox_client: Any
) -> None:
    """Segment keeps messageIds about 24 hours: a re-send a day later is accepted again."""
    segment.batch([track(messageId="a")])
    sandbox_client.set_today("2026-11-20")  # the same day: still a duplicate
    segment.batch([track(messageId="a", event="Same Day")])
    sandbox_client.set_today("2026-11-21")  # 24 hours later on the sandbox clock
    segment.batch([track(messageId="a", event="Next Day")])
    segment.batch([track(messageId="a", event="Again")])  # within the new window
    messages = sandbox_client.segment_messages()
    assert [(m["messageId"], m["event"]) for m in messages] == [
        ("a", "Song Played"),
        ("a", "Next Day"),
    ]
    stats = sandbox_client.segment_stats()
    assert (stats["accepted"], stats["duplicates"]) == (2, 2)
    assert stats["accepted_again_after_window"] == 1


def test_the_dedup_window_is_a_setting(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(segment_dedup_hours=48)
    url = sandbox.segment_url + "/v1/batch"
    for today in ("2026-11-20", "2026-11-21", "2026-11-22"):
        sandbox.client.set_today(today)
        requests.post(url, json={"batch": [track(messageId="a")]}, auth=(KEY, ""), timeout=30)
    stats = sandbox.client.segment_stats()
    assert (stats["accepted"], stats["duplicates"]) == (2, 1)  # accepted day 0 and day 2


def test_gzip_bodies_are_accepted(sandbox: Any, sandbox_client: Any) -> None:
    body = gzip.compress(json.dumps({"batch": [track(messageId="z")]}).encode())
    response = requests.post(
        sandbox.segment_url + "/v1/batch",
        data=body,
        auth=(KEY, ""),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        timeout=30,
    )
    assert response.status_code == 200
    assert [m["messageId"] for m in sandbox_client.segment_messages()] == ["z"]
    assert sandbox_client.segment_stats()["gzip_requests"] == 1


def test_envelope_context_and_integrations_are_merged(segment: Any, sandbox_client: Any) -> None:
    segment.batch(
        [track(context={"ip": "1.2.3.4"}), track(integrations={"All": True})],
        context={"ip": "9.9.9.9", "library": {"name": "target-segment"}},
        integrations={"All": False, "CleverTap": True},
    )
    first, second = sandbox_client.segment_messages()
    assert first["context"] == {"ip": "1.2.3.4", "library": {"name": "target-segment"}}
    assert first["integrations"] == {"All": False, "CleverTap": True}
    assert second["integrations"] == {"All": True, "CleverTap": True}


def test_rate_limit_answers_429_with_retry_headers(segment: Any, sandbox_client: Any) -> None:
    sandbox_client.set_segment_rate_limit(1)
    responses = [segment.batch([track()]) for _ in range(6)]
    limited = [r for r in responses if r.status_code == 429]
    assert len(limited) >= 4
    for response in limited:
        assert int(response.headers["Retry-After"]) >= 1
        assert int(response.headers["X-RateLimit-Reset"]) >= 1
    assert sandbox_client.segment_stats()["rate_limited"] == len(limited)
