"""CleverTap's per-account concurrency limits (docs/clevertap-api.md §1.4 [D]): 3 and 15."""

from __future__ import annotations

import itertools
import socket
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
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


def _slow_reader(base: str, cursor: str) -> socket.socket:
    """A client that asks for a page and does not read it yet (a tiny receive window)."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    sock.settimeout(60)
    sock.connect((host, int(port)))
    headers = "".join(f"{key}: {value}\r\n" for key, value in AUTH.items())
    sock.sendall(
        f"GET /1/events.json?cursor={cursor}&batch_size=5000 HTTP/1.1\r\nHost: {host}\r\n"
        f"{headers}Connection: close\r\n\r\n".encode()
    )
    return sock


def _read_all(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(1 << 20):
        chunks.append(chunk)
    sock.close()
    return b"".join(chunks)


def test_a_slot_stays_taken_while_a_big_page_is_downloaded(sandbox_factory: Any) -> None:
    """Three clients downloading ~10 MB pages slowly: a fourth export-family request gets 429."""
    big = sandbox_factory(days=1, events_per_day=1500, profiles=300)
    url = big.clevertap_url
    query = {"event_name": "App Launched", "from": YESTERDAY, "to": YESTERDAY}
    cursors = [
        requests.post(
            url + "/1/events.json?batch_size=5000", headers=AUTH, json=query, timeout=30
        ).json()["cursor"]
        for _ in range(3)
    ]
    readers = [_slow_reader(url, cursor) for cursor in cursors]
    for sock in readers:  # the status line arrives once the body is being sent
        assert sock.recv(12) == b"HTTP/1.1 200"
    assert big.client.clevertap_stats()["in_flight"]["export"] == 3
    fourth = requests.post(url + "/1/now.json", headers=AUTH, json={}, timeout=30)
    assert fourth.status_code == 429
    assert fourth.json() == TOO_MANY
    bodies = [_read_all(sock) for sock in readers]
    for body in bodies:
        assert len(body) > 8_000_000, "pages must outgrow the socket buffers"
        page = orjson.loads(body.split(b"\r\n\r\n", 1)[1])
        assert len(page["records"]) > 900
    stats = big.client.clevertap_stats()
    assert stats["in_flight"]["export"] == 0
    assert stats["concurrency_rejections"]["export"] == 1
    after = requests.post(url + "/1/now.json", headers=AUTH, json={}, timeout=30)
    assert after.status_code == 200


def test_each_account_has_its_own_export_limit(sandbox_factory: Any) -> None:
    """Limits are per account: 3 + 3 calls of two accounts all pass, a 4th of one does not."""
    server = sandbox_factory(extra_account_ids=("SECOND-ACCOUNT",), latency_ms=600, days=1)
    second = {**AUTH, "X-CleverTap-Account-Id": "SECOND-ACCOUNT"}
    unknown = {**AUTH, "X-CleverTap-Account-Id": "THIRD-ACCOUNT"}
    url = server.clevertap_url + "/1/now.json"
    plan = [AUTH] * 4 + [second] * 3 + [unknown]
    with ThreadPoolExecutor(len(plan)) as pool:
        codes = list(
            pool.map(lambda h: requests.post(url, headers=h, json={}, timeout=30).status_code, plan)
        )
    assert sorted(codes[:4]) == [200, 200, 200, 429]
    assert codes[4:7] == [200, 200, 200]
    assert codes[7] == 401
    gates = server.client.clevertap_account_gates()
    assert set(gates) == {"SANDBOX-ACCOUNT", "SECOND-ACCOUNT"}
    first_export, second_export = (
        gates["SANDBOX-ACCOUNT"]["export"],
        gates["SECOND-ACCOUNT"]["export"],
    )
    assert first_export == {
        "limit": 3,
        "in_flight": 0,
        "max_concurrent": 3,
        "max_requested": 4,
        "rejected": 1,
        "completed": 3,
    }
    assert second_export["max_requested"] == second_export["max_concurrent"] == 3
    assert (second_export["rejected"], second_export["completed"]) == (0, 3)
    stats = server.client.clevertap_stats()
    assert stats["max_concurrent"]["export"] == 3  # the highest level of any one account
    assert stats["concurrency_rejections"]["export"] == 1
    server.client.reset()
    assert (
        server.client.clevertap_account_gates()["SANDBOX-ACCOUNT"]["export"]["max_requested"] == 0
    )
