"""CleverTap's per-account concurrency limits (clevertap-api.md §1.4 [D]): 3 and 15."""

from __future__ import annotations

import itertools
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

AUTH = {"X-CleverTap-Account-Id": "SANDBOX-ACCOUNT", "X-CleverTap-Passcode": "sandbox-passcode"}
TOO_MANY = {"status": "fail", "error": "Too many concurrent requests", "code": 429}
YESTERDAY = 20261119


def _fire(count: int, call: Any) -> list[requests.Response]:
    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(lambda _: call(), range(count)))


def test_fourth_concurrent_export_family_request_gets_429(
    sandbox: Any, sandbox_client: Any
) -> None:
    sandbox_client.set_latency(600, server="clevertap")
    url = sandbox.clevertap_url
    calls = [
        lambda: requests.post(url + "/1/now.json", headers=AUTH, json={}, timeout=30),
        lambda: requests.post(
            url + "/1/counts/events.json",
            headers=AUTH,
            json={"event_name": "Search", "from": YESTERDAY, "to": YESTERDAY},
            timeout=30,
        ),
        lambda: requests.get(url + "/1/profile.json?identity=nobody", headers=AUTH, timeout=30),
    ]
    responses = _fire(6, calls[0])
    refused = [r for r in responses if r.status_code == 429]
    assert len(refused) == 3
    for response in refused:
        assert response.json() == TOO_MANY
        assert "Retry-After" not in response.headers
    turn = itertools.count()

    def next_call() -> requests.Response:
        response: requests.Response = calls[next(turn) % 3]()
        return response

    mixed = _fire(6, next_call)
    assert sum(r.status_code == 429 for r in mixed) == 3
    stats = sandbox_client.clevertap_stats()
    assert stats["max_concurrent"]["export"] == 3
    assert stats["concurrency_rejections"]["export"] == 6
    assert stats["http_429"] == 6


def test_uploads_allow_fifteen_in_flight(sandbox: Any, sandbox_client: Any) -> None:
    sandbox_client.set_latency(800, server="clevertap")
    body = {"d": [{"type": "profile", "identity": "u1", "profileData": {"Name": "A"}}]}
    responses = _fire(
        20,
        lambda: requests.post(
            sandbox.clevertap_url + "/1/upload", headers=AUTH, json=body, timeout=30
        ),
    )
    assert sum(r.status_code == 429 for r in responses) == 5
    assert sum(r.status_code == 200 for r in responses) == 15
    stats = sandbox_client.clevertap_stats()
    assert stats["max_concurrent"]["upload"] == 15
    assert stats["max_concurrent"]["export"] == 0, "uploads do not use the export budget"


def test_uploads_and_exports_have_separate_budgets(sandbox: Any, sandbox_client: Any) -> None:
    sandbox_client.set_latency(600, server="clevertap")
    url = sandbox.clevertap_url
    body = {"d": [{"type": "profile", "identity": "u1", "profileData": {"Name": "A"}}]}

    def call(index: int) -> requests.Response:
        if index % 2:
            return requests.post(url + "/1/upload", headers=AUTH, json=body, timeout=30)
        return requests.post(url + "/1/now.json", headers=AUTH, json={}, timeout=30)

    with ThreadPoolExecutor(6) as pool:
        responses = list(pool.map(call, range(6)))
    assert all(r.status_code == 200 for r in responses)


def test_concurrent_pages_of_one_chain_answer_in_progress(
    clevertap: Any, sandbox_client: Any
) -> None:
    cursor = clevertap.open("Search", YESTERDAY, YESTERDAY)
    sandbox_client.set_latency(600, server="clevertap")
    responses = _fire(2, lambda: clevertap.get(f"/1/events.json?cursor={cursor}"))
    bodies = sorted((r.json() for r in responses), key=lambda b: "records" in b)
    assert bodies[0] == {"status": "fail", "code": 2, "error": "Request still in progress"}
    assert bodies[1]["records"]
    assert sandbox_client.clevertap_stats()["cursors"]["chain_overlaps"] == 1
