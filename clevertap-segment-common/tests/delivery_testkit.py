"""Shared by the common library's tests: a scripted batch API and a minimal vendor transport."""

from __future__ import annotations

import json
import typing as t

from clevertap_segment_common.delivery import (
    BatchAnswer,
    DeliveryEngine,
    Item,
    Rejection,
    RetryPolicy,
    Verdict,
)
from clevertap_segment_common.http import parse_retry_after
from scripted_http import ReceivedRequest, ScriptedHTTPServer

if t.TYPE_CHECKING:
    import requests

#: (items of one request, attempt number of that batch) -> (status, JSON answer, headers)
Script = t.Callable[[list[dict[str, t.Any]], int], tuple[int, dict[str, t.Any], dict[str, str]]]
FAST_RETRY = RetryPolicy(max_retries=4, base_delay=0.01, max_delay=0.02)


class ScriptedServer:
    """Answers POST /batch with whatever `script(items, attempt)` returns; records everything."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.received: list[list[dict]] = []
        self.attempts: dict[str, int] = {}
        self.retry_headers: list[tuple[str, str | None]] = []
        self.http = ScriptedHTTPServer(self._answer)
        self.url = f"{self.http.url}/batch"

    def _answer(self, request: ReceivedRequest) -> tuple[int, bytes, dict[str, str]]:
        items = json.loads(request.body)["items"]
        key = ",".join(str(i["n"]) for i in items)
        with self.http.lock:
            attempt = self.attempts.get(key, 0) + 1
            self.attempts[key] = attempt
            self.retry_headers.append((key, request.headers.get("X-Retry-Count")))
        status, payload, headers = self.script(items, attempt)
        if status == 200:
            with self.http.lock:
                self.received.append(items)
        return status, json.dumps(payload).encode(), headers

    @property
    def max_concurrent(self) -> int:
        return self.http.max_in_flight

    def close(self) -> None:
        self.http.close()

    def delivered_numbers(self) -> list[int]:
        return [item["n"] for batch in self.received for item in batch]


class JsonTransport:
    """A minimal vendor: 200 + {"rejected": [indexes]}, 400 = bad batch, 401 = fatal."""

    max_items = 1000

    def __init__(
        self,
        url: str,
        max_bytes: int = 1_000_000,
        retry_count_header: str | None = None,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.max_bytes = max_bytes
        self.timeout = timeout
        if retry_count_header:
            self.retry_count_header = retry_count_header

    def build_body(self, items: t.Sequence[Item]) -> tuple[bytes, dict[str, str]]:
        body = b'{"items":[' + b",".join(i.payload for i in items) + b"]}"
        return body, {"Content-Type": "application/json"}

    def send(
        self, session: requests.Session, body: bytes, headers: dict[str, str]
    ) -> requests.Response:
        return session.post(self.url, data=body, headers=headers, timeout=self.timeout)

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
    """Submit the items, wait until every one is settled, return what happened."""
    delivered: list[int] = []
    rejected: list[tuple[int, str]] = []
    transport = JsonTransport(
        server.url,
        kwargs.pop("max_bytes", 1_000_000),
        kwargs.pop("retry_count_header", None),
        kwargs.pop("request_timeout", 5.0),
    )
    engine = DeliveryEngine(
        transport,
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
