"""Which answers are retried: analytics-python 2.4's table, status by status (scripted server)."""

from __future__ import annotations

import base64
import datetime as dt

import pytest
from clevertap_segment_common.delivery import DeliveryError
from segment_testkit import STRING, WRITE_KEY, record, run_target, schema

MAPPING = {"s": {"type": "track", "event": "e", "user_id": "uid"}}


def lines(count: int = 5) -> list[str]:
    return [
        schema("s", {"id": STRING, "e": STRING, "uid": STRING}, ["id"]),
        *(record("s", {"id": f"r{i}", "e": "Clicked", "uid": "u1"}) for i in range(count)),
        '{"type": "STATE", "value": {"position": "end"}}',
    ]


def fails_once(status: int, headers: dict[str, str] | None = None):
    def script(batch: list[dict], attempt: int) -> tuple[int, dict[str, str]]:
        return (status, headers or {}) if attempt == 1 else (200, {})

    return script


RETRIED = [408, 410, 429, 460, 500, 502, 503, 504, 507, 599]
NOT_RETRIED = [301, 401, 403, 404, 413, 422, 418, 501, 505, 511]


@pytest.mark.parametrize("status", RETRIED)
def test_retried_statuses_deliver_after_a_retry(scripted, status: int) -> None:
    server, config = scripted(fails_once(status))
    result = run_target({**config, "stream_mappings": MAPPING}, lines())
    assert len(server.exchanges) == 2
    assert "X-Retry-Count" not in server.exchanges[0].headers
    assert server.exchanges[1].headers["X-Retry-Count"] == "1"
    assert len(server.accepted) == 5
    assert result.summary["retries"] == 1
    assert result.states == [{"position": "end"}]


@pytest.mark.parametrize("status", NOT_RETRIED)
def test_other_statuses_stop_the_run_without_state(scripted, status: int) -> None:
    server, config = scripted(fails_once(status))
    result = run_target({**config, "stream_mappings": MAPPING}, lines(), expect_error=True)
    assert isinstance(result.error, DeliveryError)
    assert f"HTTP {status}" in str(result.error)
    assert "No STATE was emitted" in str(result.error)
    assert len(server.exchanges) == 1
    assert result.states == []


def test_retry_after_waits_do_not_use_up_the_retry_budget(scripted) -> None:
    def rate_limited_four_times(batch: list[dict], attempt: int) -> tuple[int, dict[str, str]]:
        return (429, {"Retry-After": "0"}) if attempt <= 4 else (200, {})

    server, config = scripted(rate_limited_four_times)
    result = run_target({**config, "stream_mappings": MAPPING, "max_retries": 1}, lines())
    assert len(server.accepted) == 5
    assert result.summary["retries"] == 4
    assert [e.headers.get("X-Retry-Count") for e in server.exchanges] == [None, "1", "2", "3", "4"]


def test_retry_budget_is_enforced_for_errors_without_retry_after(scripted) -> None:
    server, config = scripted(lambda batch, attempt: (503, {}))
    result = run_target(
        {**config, "stream_mappings": MAPPING, "max_retries": 2}, lines(), expect_error=True
    )
    assert "not delivered after 3 attempt(s)" in str(result.error)
    assert len(server.exchanges) == 3
    assert result.states == []


def test_requests_carry_basic_auth_body_key_sent_at_and_gzip(scripted) -> None:
    server, config = scripted(lambda batch, attempt: (200, {}))
    before = dt.datetime.now(dt.UTC)
    run_target({**config, "stream_mappings": MAPPING}, lines())
    (exchange,) = server.exchanges
    assert exchange.path == "/v1/batch"
    expected_auth = "Basic " + base64.b64encode(f"{WRITE_KEY}:".encode()).decode()
    assert exchange.headers["Authorization"] == expected_auth
    assert exchange.headers["Content-Encoding"] == "gzip"
    assert exchange.headers["Content-Type"] == "application/json"
    assert exchange.body["writeKey"] == WRITE_KEY
    sent_at = dt.datetime.fromisoformat(exchange.body["sentAt"])
    assert before - dt.timedelta(seconds=1) <= sent_at <= dt.datetime.now(dt.UTC)
    assert exchange.body["sentAt"].endswith("Z")


def test_gzip_can_be_turned_off(segment_config, sandbox_client) -> None:
    run_target({**segment_config, "stream_mappings": MAPPING, "gzip": False}, lines())
    off = sandbox_client.segment_stats()
    sandbox_client.reset()
    run_target({**segment_config, "stream_mappings": MAPPING}, lines())
    on = sandbox_client.segment_stats()
    assert (off["accepted"], on["accepted"]) == (5, 5)
    assert off["gzip_requests"] == 0
    assert on["gzip_requests"] == on["batches"] >= 1


def test_sandbox_faults_lose_nothing_and_double_nothing(segment_config, sandbox_client) -> None:
    sandbox_client.set_faults(server="segment", fault_5xx=0.2, fault_reset=0.1, fault_429=0.05)
    config = {
        **segment_config,
        "stream_mappings": MAPPING,
        "batch_size_rows": 20,
        "max_retries": 10,
    }
    result = run_target(config, lines(300))
    stats = sandbox_client.segment_stats()
    assert stats["accepted"] == 300
    assert result.summary["delivered"] == 300
    assert result.summary["retries"] > 0
    assert result.states == [{"position": "end"}]


def test_rate_limit_429_is_waited_out(segment_config, sandbox_client) -> None:
    sandbox_client.set_segment_rate_limit(2)
    config = {**segment_config, "stream_mappings": MAPPING, "batch_size_rows": 10}
    result = run_target(config, lines(60))
    stats = sandbox_client.segment_stats()
    assert stats["accepted"] == 60
    assert stats["rate_limited"] > 0
    assert result.summary["retries"] >= stats["rate_limited"]


def test_a_refused_message_is_isolated_by_bisection(scripted) -> None:
    def refuse_poison(batch: list[dict], attempt: int) -> tuple[int, dict[str, str]]:
        poisoned = any(m["properties"].get("poison") for m in batch)
        return (400, {}) if poisoned else (200, {})

    server, config = scripted(refuse_poison)
    config |= {
        "stream_mappings": {"s": {"type": "track", "event": {"value": "E"}, "user_id": "uid"}},
        "max_concurrency": 1,
    }
    rows = [record("s", {"id": f"r{i}", "uid": "u", "poison": i in (7, 23)}) for i in range(40)]
    result = run_target(
        config,
        [schema("s", {"id": STRING, "uid": STRING, "poison": {"type": "boolean"}}, ["id"]), *rows],
    )
    assert sorted(r["record"]["id"] for r in result.rejects) == ["r23", "r7"]
    assert {r["rule"] for r in result.rejects} == {"refused_by_segment"}
    assert all(r["code"] == 400 for r in result.rejects)
    delivered_ids = sorted(m["properties"]["id"] for m in server.accepted)
    assert delivered_ids == sorted(f"r{i}" for i in range(40) if i not in (7, 23))
    assert result.summary["batch_splits"] > 0
    assert result.summary["delivered"] + result.summary["rejected"] == 40
