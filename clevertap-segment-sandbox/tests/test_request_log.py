"""The request log: exact payloads and answers of both emulators, secrets never kept."""

from __future__ import annotations

import base64
import gzip
from typing import Any

import pytest
import requests

PASSCODE = "sandbox-passcode"
WRITE_KEY = "sandbox-write-key"
HEADERS = {"X-CleverTap-Account-Id": "SANDBOX-ACCOUNT", "X-CleverTap-Passcode": PASSCODE}
BASIC = (WRITE_KEY, "")


def only(entries: list[dict[str, Any]]) -> dict[str, Any]:
    assert len(entries) == 1, entries
    return entries[0]


def test_refused_gzip_segment_batch_comes_back_decoded_and_exact(
    sandbox: Any, sandbox_client: Any
) -> None:
    # Invalid JSON and not UTF-8: Segment answers 400; the log must keep the bytes anyway.
    sent = b'{"batch": [{"type": "track", "event": "caf\xe9"'
    response = requests.post(
        sandbox.segment_url + "/v1/batch?x=1",
        data=gzip.compress(sent),
        headers={"Content-Encoding": "gzip", "Content-Type": "application/json"},
        auth=BASIC,
        timeout=10,
    )
    assert response.status_code == 400
    entry = only(sandbox_client.segment_requests())
    assert entry["seq"] == 1
    assert entry["method"] == "POST"
    assert entry["path"] == "/v1/batch?x=1"
    assert entry["content_encoding"] == "gzip"
    assert entry["body_encoding"] == "base64"
    assert base64.b64decode(entry["body"]) == sent
    assert sandbox_client.logged_bytes(entry) == sent
    assert entry["status"] == 400
    assert entry["response"].encode() == response.content
    assert entry["auth_accepted"] is None, "refused before the write key was looked at"
    assert entry["redacted"] is False


def test_message_too_large_is_logged_as_text(sandbox: Any, sandbox_client: Any) -> None:
    big = "x" * 33_000
    sent = '{"batch":[{"type":"track","userId":"u1","event":"E","properties":{"p":"' + big + '"}}]}'
    response = requests.post(
        sandbox.segment_url + "/v1/batch", data=sent.encode(), auth=BASIC, timeout=10
    )
    assert response.status_code == 400
    entry = only(sandbox_client.segment_requests())
    assert entry["body_encoding"] == "utf-8"
    assert entry["body"] == sent
    assert entry["content_encoding"] is None
    assert entry["auth_accepted"] is True
    assert '"message_too_large"' in entry["response"]


def test_duplicate_batches_are_both_kept(segment: Any, sandbox_client: Any) -> None:
    items = [{"type": "track", "userId": "u1", "event": "E", "messageId": "m-dup"}]
    assert segment.batch(items).status_code == 200
    assert segment.batch(items).status_code == 200
    assert sandbox_client.segment_stats()["duplicates"] == 1
    entries = sandbox_client.segment_requests()
    assert [e["seq"] for e in entries] == [1, 2]
    assert entries[0]["body"] == entries[1]["body"]
    assert '"messageId": "m-dup"' in entries[1]["body"]
    assert entries[1]["response"] == '{"success":true}'


def test_clevertap_upload_with_a_rejected_record_is_exact(
    sandbox: Any, sandbox_client: Any
) -> None:
    sent = (
        b'{ "d": [\n'
        b'  {"type": "profile", "identity": "u1", "profileData": {"Email": "not-an-email"}},\n'
        b'  {"type": "event", "identity": "u1", "evtName": "Viewed", "evtData": {"n": 1}}\n'
        b"] }"
    )
    response = requests.post(
        sandbox.clevertap_url + "/1/upload?dryRun=0",
        data=sent,
        headers={**HEADERS, "Content-Type": "application/json"},
        timeout=10,
    )
    assert response.status_code == 200
    assert response.json()["status"] == "partial"
    entry = only(sandbox_client.clevertap_requests())
    assert entry["path"] == "/1/upload?dryRun=0"
    assert entry["body"].encode() == sent
    assert entry["status"] == 200
    assert entry["response"].encode() == response.content
    assert entry["auth_accepted"] is True
    assert '"code":515' in entry["response"]
    assert '"Email":"not-an-email"' in entry["response"]


def test_clevertap_refusals_and_export_paths_are_logged(
    sandbox: Any, sandbox_client: Any, clevertap: Any
) -> None:
    refused = requests.post(
        sandbox.clevertap_url + "/1/upload",
        data=b'{"d": []}',
        headers={**HEADERS, "X-CleverTap-Passcode": "wrong-passcode"},
        timeout=10,
    )
    assert refused.status_code == 401
    malformed = clevertap.post("/1/upload", None, data=b"not json")
    assert malformed.status_code == 400
    cursor = clevertap.open("Charged", 20261110, 20261110)
    page = clevertap.get(f"/1/events.json?cursor={cursor}")
    assert page.status_code == 200
    entries = sandbox_client.clevertap_requests()
    assert [(e["method"], e["status"], e["auth_accepted"]) for e in entries] == [
        ("POST", 401, False),
        ("POST", 400, True),
        ("POST", 200, True),
        ("GET", 200, True),
    ]
    assert entries[0]["body"] == '{"d": []}'
    assert entries[0]["response"].encode() == refused.content
    assert entries[1]["body"] == "not json"
    assert entries[3]["path"] == f"/1/events.json?cursor={cursor}", "as sent, still encoded"
    assert entries[3]["body"] == ""
    assert entries[3]["response"].encode() == page.content


def test_connection_reset_is_logged_with_status_0(
    sandbox: Any, sandbox_client: Any, segment: Any
) -> None:
    sandbox_client.set_faults(server="segment", fault_reset=1.0)
    with pytest.raises(requests.ConnectionError):
        segment.batch([{"type": "track", "userId": "u1", "event": "Lost"}])
    entry = only(sandbox_client.segment_requests())
    assert entry["status"] == 0
    assert entry["response"] is None
    assert '"event": "Lost"' in entry["body"]


def test_secrets_are_nowhere_in_the_log(sandbox: Any, sandbox_client: Any) -> None:
    real_key = "my-production-write-key-123"
    requests.post(
        sandbox.clevertap_url + "/1/upload",
        json={"d": [{"type": "profile", "identity": "u1", "profileData": {"Email": PASSCODE}}]},
        headers=HEADERS,
        timeout=10,
    )
    requests.post(
        sandbox.clevertap_url + "/1/upload?passcode=" + PASSCODE,
        json={"d": []},
        headers={**HEADERS, "X-CleverTap-Passcode": "wrong-" + PASSCODE},
        timeout=10,
    )
    message = {"type": "track", "userId": "u1", "event": "E"}
    requests.post(
        sandbox.segment_url + "/v1/batch", json={"batch": [message]}, auth=BASIC, timeout=10
    )
    requests.post(
        sandbox.segment_url + "/v1/track", json={**message, "writeKey": WRITE_KEY}, timeout=10
    )
    requests.post(
        sandbox.segment_url + "/v1/batch",
        json={"batch": [{**message, "writeKey": real_key}], "writeKey": real_key},
        timeout=10,
    )
    requests.post(
        sandbox.segment_url + "/v1/batch", json={"batch": []}, auth=(real_key, ""), timeout=10
    )
    broken = b'{"writeKey": "' + real_key.encode() + b'", "batch": ['
    requests.post(sandbox.segment_url + "/v1/batch", data=broken, timeout=10)
    requests.get(f"{sandbox.segment_url}/v1/projects/{WRITE_KEY}/settings", timeout=10)
    clevertap_log = requests.get(sandbox.clevertap_url + "/_sandbox/clevertap/requests", timeout=10)
    segment_log = requests.get(sandbox.segment_url + "/_sandbox/segment/requests", timeout=10)
    for raw in (clevertap_log.text, segment_log.text):
        for secret in (PASSCODE, WRITE_KEY, real_key):
            assert secret not in raw
    clevertap_entries = clevertap_log.json()["requests"]
    assert len(clevertap_entries) == 2
    assert all(e["redacted"] for e in clevertap_entries)
    assert '"Email": "[redacted]"' in clevertap_entries[0]["body"]
    assert '"Email":"[redacted]"' in clevertap_entries[0]["response"], "the echoed record too"
    assert clevertap_entries[1]["path"] == "/1/upload?passcode=[redacted]"
    segment_entries = segment_log.json()["requests"]
    assert len(segment_entries) == 5, "the settings CDN path (key in the URL) is not logged"
    assert [e["auth_accepted"] for e in segment_entries] == [True, True, False, False, None]
    assert [e["redacted"] for e in segment_entries] == [False, True, True, False, True]
    assert segment_entries[2]["body"].count('"writeKey": "[redacted]"') == 2
    assert segment_entries[4]["body"] == '{"writeKey": "[redacted]", "batch": ['


def test_since_and_limit(segment: Any, sandbox_client: Any, sandbox: Any) -> None:
    for number in range(5):
        segment.batch([{"type": "track", "userId": "u1", "event": f"E{number}"}])
    assert [e["seq"] for e in sandbox_client.segment_requests(since=2)] == [3, 4, 5]
    assert [e["seq"] for e in sandbox_client.segment_requests(since=1, limit=2)] == [2, 3]
    assert sandbox_client.segment_requests(since=5) == []
    assert sandbox_client.clevertap_requests() == [], "each emulator has its own log"
    bad = requests.get(sandbox.segment_url + "/_sandbox/segment/requests?since=-1", timeout=10)
    assert bad.status_code == 400
    assert "since and limit" in bad.json()["error"]


def test_reset_clears_the_log(segment: Any, clevertap: Any, sandbox_client: Any) -> None:
    segment.batch([{"type": "track", "userId": "u1", "event": "E"}])
    clevertap.upload([])
    assert len(sandbox_client.segment_requests()) == 1
    assert len(sandbox_client.clevertap_requests()) == 1
    sandbox_client.reset()
    assert sandbox_client.segment_requests() == []
    assert sandbox_client.clevertap_requests() == []
    segment.batch([{"type": "track", "userId": "u1", "event": "After"}])
    assert [e["seq"] for e in sandbox_client.segment_requests()] == [1]


def test_the_bounds_hold(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(request_log_size=3, request_log_mb=1)
    url = sandbox.segment_url + "/v1/batch"
    for number in range(5):
        small = {"batch": [{"type": "track", "userId": "u1", "event": f"E{number}"}]}
        assert requests.post(url, json=small, auth=BASIC, timeout=10).status_code == 200
    assert [e["seq"] for e in sandbox.client.segment_requests()] == [3, 4, 5]
    filler = "y" * 400_000  # under the 500 KB request limit; three of them exceed 1 MiB
    for _ in range(3):
        body = {"batch": [{"type": "track", "userId": "u1", "event": "Big"}], "f": filler}
        assert requests.post(url, json=body, auth=BASIC, timeout=10).status_code == 200
    result = requests.get(sandbox.segment_url + "/_sandbox/segment/requests", timeout=10).json()
    assert [e["seq"] for e in result["requests"]] == [7, 8]
    assert (result["capacity"], result["max_bytes"], result["recorded"]) == (3, 1048576, 8)


def test_size_zero_keeps_no_log(sandbox_factory: Any) -> None:
    sandbox = sandbox_factory(request_log_size=0)
    body = {"batch": [{"type": "track", "userId": "u1", "event": "E"}]}
    response = requests.post(sandbox.segment_url + "/v1/batch", json=body, auth=BASIC, timeout=10)
    assert response.status_code == 200
    assert sandbox.client.segment_stats()["received"] == 1
    assert sandbox.client.segment_requests() == []
