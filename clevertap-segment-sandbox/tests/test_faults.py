"""Injected faults and latency: each kind observable, never on /_sandbox, seeded."""

from __future__ import annotations

from typing import Any

import pytest
import requests

AUTH = {"X-CleverTap-Account-Id": "SANDBOX-ACCOUNT", "X-CleverTap-Passcode": "sandbox-passcode"}
KEY = "sandbox-write-key"
YESTERDAY = 20261119


def test_server_errors(sandbox: Any, sandbox_client: Any) -> None:
    sandbox_client.set_faults(fault_5xx=1.0)
    clevertap = requests.post(
        sandbox.clevertap_url + "/1/now.json", headers=AUTH, json={}, timeout=30
    )
    segment = requests.post(
        sandbox.segment_url + "/v1/batch", json={"batch": []}, auth=(KEY, ""), timeout=30
    )
    assert clevertap.status_code in (500, 502, 503, 504)
    assert clevertap.json()["status"] == "fail"
    assert segment.status_code in (500, 502, 503, 504)
    assert sandbox_client.clevertap_stats()["faults_injected"]["5xx"] == 1
    assert sandbox_client.segment_stats()["faults_injected"]["5xx"] == 1


def test_429_faults(sandbox: Any, sandbox_client: Any) -> None:
    sandbox_client.set_faults(fault_429=1.0)
    clevertap = requests.post(
        sandbox.clevertap_url + "/1/upload", headers=AUTH, json={"d": []}, timeout=30
    )
    assert clevertap.status_code == 429
    assert clevertap.json() == {
        "status": "fail",
        "error": "Too many concurrent requests",
        "code": 429,
    }
    assert "Retry-After" not in clevertap.headers
    segment = requests.post(
        sandbox.segment_url + "/v1/batch", json={"batch": []}, auth=(KEY, ""), timeout=30
    )
    assert segment.status_code == 429
    assert segment.headers["Retry-After"] == "1"
    assert segment.headers["X-RateLimit-Reset"] == "1"


def test_connection_reset(sandbox: Any, sandbox_client: Any) -> None:
    sandbox_client.set_faults(fault_reset=1.0)
    with pytest.raises(requests.ConnectionError):
        requests.post(sandbox.clevertap_url + "/1/now.json", headers=AUTH, json={}, timeout=30)
    with pytest.raises(requests.ConnectionError):
        requests.post(
            sandbox.segment_url + "/v1/batch", json={"batch": []}, auth=(KEY, ""), timeout=30
        )
    stats = sandbox_client.clevertap_stats()
    assert stats["faults_injected"]["reset"] == 1
    assert stats["requests"]["POST /1/now.json"] == {"0": 1}, "status 0 = no response"


def test_slow_responses_are_counted(sandbox: Any, sandbox_client: Any) -> None:
    sandbox_client.set_faults(fault_slow=1.0, slow_ms=50)
    response = requests.post(
        sandbox.clevertap_url + "/1/now.json", headers=AUTH, json={}, timeout=30
    )
    assert response.status_code == 200
    config = sandbox_client.config()["faults"]["clevertap"]
    assert config["slow_ms"] == 50
    assert config["injected"]["slow"] == 1


def test_in_progress_only_on_export_pages(clevertap: Any, sandbox_client: Any) -> None:
    cursor = clevertap.open("Search", YESTERDAY, YESTERDAY)
    sandbox_client.set_faults(server="clevertap", fault_in_progress=1.0)
    assert clevertap.page(cursor) == {
        "status": "fail",
        "code": 2,
        "error": "Request still in progress",
    }
    assert clevertap.open("Search", YESTERDAY, YESTERDAY), "opening is not a page"
    sandbox_client.set_faults(server="clevertap", fault_in_progress=0.0)
    assert clevertap.page(cursor)["records"], "retrying the same cursor works"


def test_inspection_endpoints_are_never_faulted(sandbox: Any, sandbox_client: Any) -> None:
    sandbox_client.set_faults(fault_5xx=1.0, fault_reset=1.0)
    assert sandbox_client.health("clevertap")["status"] == "ok"
    assert sandbox_client.health("segment")["status"] == "ok"
    assert sandbox_client.seed_summary(event_profiles=False)["seed"] == 42


def test_faults_are_per_server(sandbox: Any, sandbox_client: Any) -> None:
    sandbox_client.set_faults(server="segment", fault_5xx=1.0)
    assert requests.post(
        sandbox.clevertap_url + "/1/now.json", headers=AUTH, json={}, timeout=30
    ).ok
    segment = requests.post(
        sandbox.segment_url + "/v1/batch", json={"batch": []}, auth=(KEY, ""), timeout=30
    )
    assert segment.status_code >= 500


def test_bad_fault_settings_are_refused(sandbox_client: Any) -> None:
    with pytest.raises(ValueError, match="between 0 and 1"):
        sandbox_client.set_faults(fault_5xx=2.0)


def test_reset_restores_start_up_faults(sandbox: Any, sandbox_client: Any) -> None:
    sandbox_client.set_faults(fault_5xx=1.0)
    sandbox_client.reset()
    assert requests.post(
        sandbox.clevertap_url + "/1/now.json", headers=AUTH, json={}, timeout=30
    ).ok


def test_fault_decisions_are_seeded(sandbox_factory: Any) -> None:
    def statuses(sandbox: Any) -> list[int]:
        return [
            requests.post(
                sandbox.clevertap_url + "/1/now.json", headers=AUTH, json={}, timeout=30
            ).status_code
            for _ in range(30)
        ]

    first = statuses(sandbox_factory(fault_5xx=0.4, days=1, profiles=10))
    second = statuses(sandbox_factory(fault_5xx=0.4, days=1, profiles=10))
    assert first == second
    assert 200 in first
    assert any(status >= 500 for status in first)
