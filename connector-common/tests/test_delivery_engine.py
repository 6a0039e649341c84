"""The delivery engine against a scripted HTTP server on loopback (real sockets, real requests)."""

from __future__ import annotations

import json
import socket
import threading
import time
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests

from connector_common.delivery import (
    BatchAnswer,
    DeliveryEngine,
    DeliveryError,
    Item,
    Rejection,
    RetryPolicy,
    Verdict,
    parse_retry_after,
)

FAST_RETRY = RetryPolicy(max_retries=4, base_delay=0.01, max_delay=0.02)


class ScriptedServer:
    """Answers POST /batch with whatever `script(items, attempt)` returns; records everything."""

    def __init__(self, script: t.Callable[[list[dict], int], tuple[int, dict, dict]]) -> None:
        self.script = script
        self.received: list[list[dict]] = []
        self.attempts: dict[str, int] = {}
        self.concurrent = 0
        self.max_concurrent = 0
        self.lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: t.Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                items = json.loads(body)["items"]
                key = ",".join(str(i["n"]) for i in items)
                with server.lock:
                    server.concurrent += 1
                    server.max_concurrent = max(server.max_concurrent, server.concurrent)
                    attempt = server.attempts.get(key, 0) + 1
                    server.attempts[key] = attempt
                try:
                    status, payload, headers = server.script(items, attempt)
                    if status == -1:  # drop the connection without answering
                        self.connection.setsockopt(
                            socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\x00\x00\x00\x00\x00\x00\x00"
                        )
                        self.connection.close()
                        return
                    if status == 200:
                        with server.lock:
                            server.received.append(items)
                    data = json.dumps(payload).encode()
                    self.send_response(status)
                    for name, value in headers.items():
                        self.send_header(name, value)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data)
                finally:
                    with server.lock:
                        server.concurrent -= 1

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/batch"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    def delivered_numbers(self) -> list[int]:
        return [item["n"] for batch in self.received for item in batch]


class JsonTransport:
    """A minimal vendor: 200 + {"rejected": [indexes]}, 400 = bad batch, 401 = fatal."""

    max_items = 1000

    def __init__(self, url: str, max_bytes: int = 1_000_000) -> None:
        self.url = url
        self.max_bytes = max_bytes

    def build_body(self, items: t.Sequence[Item]) -> tuple[bytes, dict[str, str]]:
        body = b'{"items":[' + b",".join(i.payload for i in items) + b"]}"
        return body, {"Content-Type": "application/json"}

    def send(
        self, session: requests.Session, body: bytes, headers: dict[str, str]
    ) -> requests.Response:
        return session.post(self.url, data=body, headers=headers, timeout=5)

    def read_answer(self, response: requests.Response, items: t.Sequence[Item]) -> BatchAnswer:
        if response.status_code == 200:
            rejected = response.json().get("rejected", [])
            return BatchAnswer(
                Verdict.DONE,
                rejections={i: Rejection(reason="server said no", rule="remote") for i in rejected},
            )
        if response.status_code == 400:
            return BatchAnswer(Verdict.SPLIT, "400 bad batch")
        if response.status_code in (429, 503):
            retry_after = parse_retry_after(response.headers.get("Retry-After"))
            return BatchAnswer(Verdict.RETRY, f"HTTP {response.status_code}", retry_after)
        return BatchAnswer(Verdict.FAIL, f"HTTP {response.status_code}")

    def single_item_refusal(self, answer: BatchAnswer) -> Rejection:
        return Rejection(reason=answer.message, rule="bad_item", code=400)


def make_items(count: int, *, keys: int | None = None) -> list[Item]:
    items = []
    for n in range(count):
        record = {"n": n, "key": None if keys is None else f"user-{n % keys}"}
        items.append(
            Item(
                payload=json.dumps(record).encode(),
                stream="s",
                record=record,
                key=record["key"],
            )
        )
    return items


def run_engine(server: ScriptedServer, items: list[Item], **kwargs: t.Any) -> dict[str, t.Any]:
    delivered: list[int] = []
    rejected: list[tuple[int, str]] = []
    engine = DeliveryEngine(
        JsonTransport(server.url, kwargs.pop("max_bytes", 1_000_000)),
        on_delivered=lambda batch: delivered.extend(i.record["n"] for i in batch),
        on_rejected=lambda item, why: rejected.append((item.record["n"], why.rule)),
        retry=kwargs.pop("retry", FAST_RETRY),
        **{"max_concurrency": 4, "batch_items": 10, **kwargs},
    )
    try:
        for item in items:
            engine.submit(item)
        engine.wait_idle()
    finally:
        engine.close()
    return {"delivered": delivered, "rejected": rejected, "stats": engine.stats.snapshot()}


@pytest.fixture
def server_factory() -> t.Iterator[t.Callable[..., ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def make(script: t.Callable[[list[dict], int], tuple[int, dict, dict]]) -> ScriptedServer:
        server = ScriptedServer(script)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


def slow_ok(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
    time.sleep(0.02)
    return 200, {}, {}


def test_every_item_delivered_exactly_once_within_concurrency(server_factory) -> None:
    server = server_factory(slow_ok)
    result = run_engine(server, make_items(503), max_concurrency=3)
    assert sorted(server.delivered_numbers()) == list(range(503))
    assert sorted(result["delivered"]) == list(range(503))
    assert result["rejected"] == []
    assert 1 < server.max_concurrent <= 3
    assert all(len(batch) <= 10 for batch in server.received)


def test_same_key_keeps_its_order(server_factory) -> None:
    server = server_factory(slow_ok)
    run_engine(server, make_items(400, keys=7), max_concurrency=4)
    per_key: dict[str, list[int]] = {}
    for batch in server.received:
        for item in batch:
            per_key.setdefault(item["key"], []).append(item["n"])
    assert len(per_key) == 7
    for numbers in per_key.values():
        assert numbers == sorted(numbers)


def test_transient_errors_are_retried_with_retry_after(server_factory) -> None:
    def flaky(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        if attempt == 1:
            return 503, {}, {}
        if attempt == 2:
            return 429, {}, {"Retry-After": "0"}
        return 200, {}, {}

    server = server_factory(flaky)
    result = run_engine(server, make_items(50))
    assert sorted(server.delivered_numbers()) == list(range(50))
    assert result["stats"]["retries"] == 10  # 5 batches x 2 retries
    assert set(server.attempts.values()) == {3}


def test_connection_reset_is_retried(server_factory) -> None:
    def resets_first(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        return (-1, {}, {}) if attempt == 1 else (200, {}, {})

    server = server_factory(resets_first)
    result = run_engine(server, make_items(30))
    assert sorted(server.delivered_numbers()) == list(range(30))
    assert result["stats"]["retries"] == 3


def test_bad_batch_is_bisected_to_the_poison_item(server_factory) -> None:
    def poison(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        if any(i["n"] in (13, 27) for i in items):
            return 400, {"message": "bad"}, {}
        return 200, {}, {}

    server = server_factory(poison)
    result = run_engine(server, make_items(40))
    assert sorted(result["rejected"]) == [(13, "bad_item"), (27, "bad_item")]
    assert sorted(server.delivered_numbers()) == sorted(set(range(40)) - {13, 27})
    assert result["stats"]["delivered"] + result["stats"]["rejected"] == 40


def test_per_item_rejections_are_reported_and_rest_delivered(server_factory) -> None:
    def rejects_odd_positions(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        return 200, {"rejected": [i for i, item in enumerate(items) if item["n"] % 5 == 0]}, {}

    server = server_factory(rejects_odd_positions)
    result = run_engine(server, make_items(25))
    assert sorted(n for n, _ in result["rejected"]) == [0, 5, 10, 15, 20]
    assert sorted(result["delivered"]) == [n for n in range(25) if n % 5]


def test_fatal_answer_stops_the_run(server_factory) -> None:
    server = server_factory(lambda items, attempt: (401, {}, {}))
    with pytest.raises(DeliveryError, match="HTTP 401"):
        run_engine(server, make_items(5))


def test_retry_budget_exhausted_raises(server_factory) -> None:
    server = server_factory(lambda items, attempt: (503, {}, {}))
    with pytest.raises(DeliveryError, match="not delivered after 5 attempt"):
        run_engine(server, make_items(3))
    assert max(server.attempts.values()) == 5


def test_batches_respect_the_byte_limit(server_factory) -> None:
    server = server_factory(slow_ok)
    items = make_items(60)
    limit = sum(i.size for i in items[:4]) + 1
    run_engine(server, items, max_bytes=limit)
    assert sorted(server.delivered_numbers()) == list(range(60))
    for batch in server.received:
        assert sum(len(json.dumps(i).encode()) for i in batch) <= limit


def test_parse_retry_after_forms() -> None:
    assert parse_retry_after("7") == 7.0
    assert parse_retry_after("100000") == 300.0
    assert parse_retry_after(None) is None
    assert parse_retry_after("garbage") is None
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0
