"""The delivery engine against a scripted HTTP server on loopback (real sockets, real requests)."""

from __future__ import annotations

import json
import socket
import time
import tracemalloc
from collections import Counter

import orjson
import pytest
from clevertap_segment_common.delivery import DeliveryEngine, DeliveryError, Item
from clevertap_segment_common.http import parse_retry_after
from delivery_testkit import JsonTransport, RetryPolicy, make_items, run_engine
from scripted_http import DROP


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
    assert result["stats"]["retries"] == 2 * len(server.attempts)  # two per batch
    assert set(server.attempts.values()) == {3}


def test_connection_reset_is_retried(server_factory) -> None:
    def resets_first(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        return (DROP, {}, {}) if attempt == 1 else (200, {}, {})

    server = server_factory(resets_first)
    result = run_engine(server, make_items(30))
    assert sorted(server.delivered_numbers()) == list(range(30))
    assert result["stats"]["retries"] == len(server.attempts)  # one per batch


def test_a_reset_after_the_whole_request_was_read_leaves_unsafe_items_in_doubt(
    server_factory,
) -> None:
    """The server read the whole request (it may have stored it) and then reset: the items a
    repeat could double are settled as delivery_uncertain, the others are sent again."""

    def reads_then_resets(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        first = attempt == 1 and any(item["n"] % 2 for item in items)
        return (DROP, {}, {}) if first else (200, {}, {})

    server = server_factory(reads_then_resets)
    result = run_engine(
        server,
        make_items(30),
        unsafe_to_resend=lambda items: [i for i, item in enumerate(items) if item.record["n"] % 2],
    )
    odd = [n for n in range(30) if n % 2]
    assert sorted(result["rejected"]) == [(n, "delivery_uncertain") for n in odd]
    assert sorted(result["delivered"]) == [n for n in range(30) if n % 2 == 0]
    sent = Counter(int(n) for key, times in server.attempts.items() for n in key.split(",") * times)
    assert all(sent[n] == 1 for n in odd)  # an item in doubt went out once, never again
    assert all(sent[n] == 2 for n in range(0, 30, 2))  # a safe one again after the reset


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


def headers_by_batch(server) -> dict[str, list[str | None]]:
    """The X-Retry-Count header of every attempt, batch by batch."""
    seen: dict[str, list[str | None]] = {}
    for key, count in server.retry_headers:
        seen.setdefault(key, []).append(count)
    return seen


def test_retries_carry_the_retry_count_header(server_factory) -> None:
    def fails_twice(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        return (503, {}, {}) if attempt <= 2 else (200, {}, {})

    server = server_factory(fails_twice)
    run_engine(server, make_items(30), retry_count_header="X-Retry-Count")
    assert sorted(server.delivered_numbers()) == list(range(30))
    assert headers_by_batch(server) == {key: [None, "1", "2"] for key in server.attempts}


def test_no_retry_count_header_unless_the_transport_asks(server_factory) -> None:
    server = server_factory(lambda items, attempt: (503, {}, {}) if attempt == 1 else (200, {}, {}))
    run_engine(server, make_items(30))
    assert headers_by_batch(server) == {key: [None, None] for key in server.attempts}


def test_retry_after_waits_do_not_use_up_the_retry_budget(server_factory) -> None:
    def busy_then_ok(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        return (429, {}, {"Retry-After": "0"}) if attempt <= 5 else (200, {}, {})

    server = server_factory(busy_then_ok)
    result = run_engine(server, make_items(30), retry=RetryPolicy(max_retries=2, base_delay=0.01))
    assert sorted(server.delivered_numbers()) == list(range(30))
    # more than max_retries: the server asked for them
    assert result["stats"]["retries"] == 5 * len(server.attempts)


def test_failures_without_retry_after_do_use_up_the_retry_budget(server_factory) -> None:
    def fails_then_ok(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        return (503, {}, {}) if attempt <= 5 else (200, {}, {})

    server = server_factory(fails_then_ok)
    with pytest.raises(DeliveryError, match="not delivered after 3 attempt"):
        run_engine(server, make_items(10), retry=RetryPolicy(max_retries=2, base_delay=0.01))
    assert server.received == []


@pytest.mark.parametrize(("concurrency", "batch"), [(0, 10), (2, 0)])
def test_engine_refuses_zero_concurrency_or_batch_size(concurrency: int, batch: int) -> None:
    with pytest.raises(ValueError, match="must be at least 1, got"):
        DeliveryEngine(
            JsonTransport("http://127.0.0.1:9/unused"),
            max_concurrency=concurrency,
            batch_items=batch,
        )


def test_queued_payloads_hold_only_their_own_bytes() -> None:
    """orjson's bytes keep 4-8 KB of spare capacity each; queued items must not."""
    engine = DeliveryEngine(
        JsonTransport("http://127.0.0.1:9/unused"), max_concurrency=1, batch_items=1000
    )
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for n in range(500):  # fewer than a batch: all of them wait in the lane
            record = {"n": n, "text": "x" * 100}
            engine.submit(Item(orjson.dumps(record), "s", record))
        per_item = (tracemalloc.get_traced_memory()[0] - before) / 500
    finally:
        tracemalloc.stop()
        engine.close()
    assert per_item < 1500  # the item, its record and a 115-byte payload


def test_lanes_first_batches_are_staggered_then_full(server_factory) -> None:
    """The lanes' first sends are spread out (1/n, 2/n, ... of a batch), later ones are full."""
    server = server_factory(slow_ok)
    run_engine(server, make_items(200), max_concurrency=4, batch_items=20)
    sizes = sorted(len(batch) for batch in server.received)
    # 5 + 10 + 15 + 20 first, then full batches of 20, and what is left at the end (10)
    assert sizes == [5, 10, 10, 15, *[20] * 8]


def test_a_send_without_answer_is_not_repeated_for_items_a_repeat_could_double(
    server_factory,
) -> None:
    def slow_first_attempt(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        if len(items) == 6:
            time.sleep(0.6)  # longer than the client waits: stored, but the answer is lost
        return 200, {}, {}

    server = server_factory(slow_first_attempt)
    result = run_engine(
        server,
        make_items(6),
        batch_items=6,
        max_concurrency=1,
        request_timeout=0.2,
        unsafe_to_resend=lambda items: [i for i, it in enumerate(items) if it.record["n"] % 2 == 0],
    )
    assert sorted(result["rejected"]) == [(0, "delivery_uncertain"), (2, "delivery_uncertain"),
                                          (4, "delivery_uncertain")]  # fmt: skip
    assert sorted(result["delivered"]) == [1, 3, 5]
    time.sleep(0.8)  # the server finishes storing the first attempt it was slow to answer
    received = server.delivered_numbers()
    assert sorted(n for n in received if n % 2 == 0) == [0, 2, 4]  # each sent once only
    assert sorted(n for n in received if n % 2) == [1, 1, 3, 3, 5, 5]  # safe to repeat


def test_a_send_without_answer_is_retried_when_a_repeat_is_safe(server_factory) -> None:
    def slow_first_attempt(items: list[dict], attempt: int) -> tuple[int, dict, dict]:
        if attempt == 1:
            time.sleep(0.6)
        return 200, {}, {}

    server = server_factory(slow_first_attempt)
    result = run_engine(server, make_items(4), batch_items=4, max_concurrency=1,
                        request_timeout=0.2, unsafe_to_resend=lambda items: [])  # fmt: skip
    assert result["rejected"] == []
    assert sorted(result["delivered"]) == [0, 1, 2, 3]


def test_a_batch_that_never_reached_the_server_is_reported_unsent() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"http://127.0.0.1:{probe.getsockname()[1]}/batch"
    unsent: list[int] = []
    engine = DeliveryEngine(
        JsonTransport(url, timeout=1.0),
        max_concurrency=1,
        batch_items=3,
        retry=RetryPolicy(max_retries=2, base_delay=0.01, max_delay=0.02),
        on_unsent=lambda items: unsent.extend(i.record["n"] for i in items),
    )
    try:
        for item in make_items(3):
            engine.submit(item)
        with pytest.raises(DeliveryError, match="not delivered after 3 attempt"):
            engine.wait_idle()
    finally:
        engine.close()
    assert unsent == [0, 1, 2]


def test_a_batch_the_server_answered_is_not_reported_unsent(server_factory) -> None:
    server = server_factory(lambda items, attempt: (503, {}, {}))
    unsent: list[int] = []
    with pytest.raises(DeliveryError):
        run_engine(server, make_items(3), on_unsent=lambda items: unsent.extend([1]))
    assert unsent == []
