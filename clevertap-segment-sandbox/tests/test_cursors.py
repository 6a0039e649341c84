"""Cursor encoding and lifetime (docs/clevertap-api.md §2.1 [O], §2.6 [U])."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote, unquote

YESTERDAY = 20261119
INCORRECT_USAGE = {"status": "fail", "error": "Incorrect Usage", "code": 3}


def test_cursor_is_long_and_already_percent_encoded(clevertap: Any) -> None:
    cursor = clevertap.open("App Launched", YESTERDAY, YESTERDAY)
    assert len(cursor) > 1000
    assert "%2B" in cursor
    assert "%2F" in cursor
    assert "%3D" in cursor
    assert re.fullmatch(r"[A-Za-z0-9%]+", cursor), "only alphanumerics and %XX escapes"


def test_next_cursor_is_percent_encoded_too(clevertap: Any) -> None:
    page = clevertap.page(
        clevertap.open("App Launched", YESTERDAY, YESTERDAY, query="?batch_size=46")
    )
    assert "%2B" in page["next_cursor"] or "%2F" in page["next_cursor"]
    assert re.fullmatch(r"[A-Za-z0-9%]+", page["next_cursor"])


def test_reencoded_cursor_is_incorrect_usage(clevertap: Any) -> None:
    cursor = clevertap.open("App Launched", YESTERDAY, YESTERDAY)
    response = clevertap.get(f"/1/events.json?cursor={quote(cursor, safe='')}")
    assert "%252B" in response.request.url
    assert response.status_code == 200
    assert response.json() == INCORRECT_USAGE


def test_cursor_passed_through_params_is_reencoded_and_fails(clevertap: Any) -> None:
    cursor = clevertap.open("App Launched", YESTERDAY, YESTERDAY)
    response = clevertap.get("/1/events.json", params={"cursor": cursor})
    assert response.json() == INCORRECT_USAGE


def test_decoded_cursor_through_params_works(clevertap: Any) -> None:
    # What ingestr does: unescape once, let the HTTP library escape again.
    cursor = clevertap.open("App Launched", YESTERDAY, YESTERDAY)
    response = clevertap.get("/1/events.json", params={"cursor": unquote(cursor)})
    assert response.json()["records"] == clevertap.page(cursor)["records"]


def test_unknown_and_tampered_cursors_are_incorrect_usage(clevertap: Any) -> None:
    cursor = clevertap.open("App Launched", YESTERDAY, YESTERDAY)
    tampered = cursor[:40] + ("A" if cursor[40] != "A" else "B") + cursor[41:]
    for bad in ("not-a-cursor", tampered, ""):
        response = clevertap.get(f"/1/events.json?cursor={bad}")
        assert response.status_code == 200
        assert response.json() == INCORRECT_USAGE


def test_events_cursor_on_profiles_endpoint_is_incorrect_usage(clevertap: Any) -> None:
    cursor = clevertap.open("App Launched", YESTERDAY, YESTERDAY)
    assert clevertap.page(cursor, "profiles") == INCORRECT_USAGE


def test_expired_cursor_is_incorrect_usage_and_counted(clevertap: Any, sandbox_client: Any) -> None:
    cursor = clevertap.open("App Launched", YESTERDAY, YESTERDAY)
    assert "records" in clevertap.page(cursor)
    sandbox_client.set_cursor_ttl(0)
    assert clevertap.page(cursor) == INCORRECT_USAGE
    cursors = sandbox_client.clevertap_stats()["cursors"]
    assert cursors["expired"] == 1
    assert cursors["opened"] == 1


def test_cursor_state_is_not_kept_per_chain(clevertap: Any, sandbox_client: Any) -> None:
    # Opening many chains and abandoning them leaves nothing behind: a later reset-free
    # page of the first chain still works, and stats only count.
    first = clevertap.open("Search", YESTERDAY, YESTERDAY)
    for _ in range(50):
        clevertap.open("Search", YESTERDAY, YESTERDAY)
    assert "records" in clevertap.page(first)
    assert sandbox_client.clevertap_stats()["cursors"]["opened"] == 51
