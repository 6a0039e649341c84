"""Delivery through the shared engine: retries, concurrency, order, STATE, dry run, odd answers."""

from __future__ import annotations

import contextlib
import importlib.metadata
import io
import json
import subprocess
import time
import typing as t

import pytest
from clevertap_segment_common.delivery import DeliveryError
from clevertap_testkit import (
    ScriptedCleverTap,
    answer,
    config_for,
    record,
    run_target,
    schema,
    singer_text,
    start_target,
    state,
)
from scripted_http import ScriptedHTTPServer
from singer_sdk.exceptions import ConfigValidationError
from target_clevertap.schema_reader import SchemaUnreadable
from target_clevertap.target import TargetCleverTap

EVENTS = {"kind": "event", "identity": "user", "event_name": "Ping"}
EVENT_FIELDS = {"user": {"type": "string"}, "n": {"type": "integer"}}


def events(count: int, users: int = 50) -> list[dict]:
    return [
        schema("pings", EVENT_FIELDS, ["n"]),
        *(record("pings", {"user": f"u-{n % users}", "n": n}) for n in range(count)),
        state({"bookmarks": {"pings": count}}),
    ]


def stored_numbers(client) -> list[int]:
    return sorted(e["evtData"]["n"] for e in client.clevertap_uploaded_events())


def test_transient_errors_are_retried_until_everything_is_stored_once(
    sandbox_factory, files
) -> None:
    process = sandbox_factory(fault_5xx=0.3, fault_429=0.2, fault_reset=0.15)
    config = config_for(
        process,
        files,
        stream_mappings={"pings": EVENTS},
        batch_size_rows=25,
        max_concurrency=4,
        max_retries=30,
    )
    run = run_target(config, events(200))
    # A reset after the whole request went out may follow storing: those events are listed
    # delivery_uncertain instead of being sent again (test_connection_resets.py).
    listed = [r["record"]["n"] for r in run.rejects if r["rule"] == "delivery_uncertain"]
    assert len(run.rejects) == len(listed)
    assert sorted(stored_numbers(process.client) + listed) == list(range(200))
    stats = process.client.clevertap_stats()
    assert stats["uploads"]["duplicate_events"] == 0
    assert sum(stats["faults_injected"][kind] for kind in ("5xx", "429", "reset")) > 0
    assert run.summary["retries"] > 0
    assert run.states == [{"bookmarks": {"pings": 200}}]


@pytest.mark.parametrize("concurrency", [3, 15])
def test_uploads_in_flight_never_exceed_max_concurrency(
    sandbox_factory, files, concurrency
) -> None:
    process = sandbox_factory(latency_ms=60)
    config = config_for(
        process,
        files,
        stream_mappings={"pings": EVENTS},
        batch_size_rows=20,
        max_concurrency=concurrency,
    )
    run_target(config, events(1500, users=300))
    stats = process.client.clevertap_stats()
    assert 1 < stats["max_concurrent"]["upload"] <= concurrency
    assert stats["http_429"] == 0
    assert stored_numbers(process.client) == list(range(1500))


def test_updates_of_one_profile_arrive_in_input_order(sandbox_factory, files) -> None:
    process = sandbox_factory(latency_ms=5)
    config = config_for(
        process,
        files,
        stream_mappings={"updates": {"identity": "user"}},
        batch_size_rows=7,
        max_concurrency=8,
    )
    updates = [{"user": f"u-{n % 10}", "seq": n} for n in range(400)]
    run_target(
        config,
        [schema("updates", {"user": {}, "seq": {}}), *(record("updates", u) for u in updates)],
    )
    final = {p["identity"]: p["profileData"]["seq"] for p in process.client.clevertap_profiles()}
    assert final == {f"u-{k}": 390 + k for k in range(10)}


def test_no_state_is_emitted_when_a_batch_cannot_be_delivered(sandbox_factory, files) -> None:
    process = sandbox_factory(fault_5xx=1.0)
    # An explicit convention: match_account would stop at its schema read, before any upload.
    config = config_for(
        process, files, stream_mappings={"pings": EVENTS}, max_retries=1, property_names="none"
    )
    with pytest.raises(DeliveryError, match="not delivered after 2 attempt") as caught:
        run_target(config, events(10))
    assert "No STATE was emitted" in str(caught.value)


@pytest.mark.slow
def test_state_is_printed_only_once_the_records_before_it_are_stored(
    sandbox_factory, files, tmp_path
) -> None:
    process = sandbox_factory(latency_ms=300)
    config = config_for(process, files, stream_mappings={"pings": EVENTS}, batch_size_rows=10)
    with start_target(config, tmp_path, stderr=subprocess.DEVNULL) as target:
        assert target.stdin is not None
        assert target.stdout is not None
        target.stdin.write(singer_text(events(120)))
        target.stdin.close()
        line = target.stdout.readline()
        # Checked the moment the STATE line appears (uploads take 300 ms each): all are stored.
        stored_when_state_printed = len(process.client.clevertap_uploaded_events())
        target.wait(timeout=60)
    assert json.loads(line) == {"bookmarks": {"pings": 120}}
    assert stored_when_state_printed == 120


def upload_requests(client) -> list[str]:
    return [r["path"] for r in client.clevertap_requests() if r["path"].startswith("/1/upload")]


def test_dry_run_maps_and_checks_locally_and_sends_no_upload(
    config, sandbox_client, tmp_path
) -> None:
    config.update(stream_mappings={"pings": EVENTS}, dry_run=True)
    messages = events(30)
    messages.insert(-1, record("pings", {"user": "u-1", "n": 99, "note": "x" * 600}))
    messages.insert(-1, record("pings", {"user": "", "n": 100}))
    run = run_target(config, messages)
    assert upload_requests(sandbox_client) == []
    reads = sorted(r["path"] for r in sandbox_client.clevertap_requests())
    assert reads == ["/getSchema?type=events", "/getSchema?type=userProperties"]  # match_account
    assert run.summary["dry_run"] is True
    assert run.summary["delivered"] == 0
    assert run.summary["skipped_by_reason"] == {"dry_run": 31}
    assert run.summary["dry_run_by_kind"] == {"event": 31}
    assert run.summary["rejected_by_rule"] == {"missing_identity": 1}  # checked all the same
    assert run.summary["dropped_fields_by_rule"] == {"value_too_long": 1}
    assert run.states == []
    assert "journal" not in run.summary
    assert not (tmp_path / "journal.sqlite").exists()


def test_dry_run_remote_validation_is_an_opt_in_dry_run_1_upload(config, sandbox_client) -> None:
    config.update(stream_mappings={"pings": EVENTS}, dry_run=True, dry_run_remote_validation=True)
    run = run_target(config, events(30))
    assert set(upload_requests(sandbox_client)) == {"/1/upload?dryRun=1"}
    assert all(entry["dry_run"] for entry in sandbox_client.clevertap_upload_log())
    assert sandbox_client.clevertap_uploaded_events() == []  # the sandbox honours dryRun
    assert run.summary["delivered"] == 30
    assert run.summary["dry_run_remote_validation"] is True


def test_remote_validation_without_dry_run_is_a_setting_error(config) -> None:
    with pytest.raises(ConfigValidationError, match="set dry_run to true as well"):
        TargetCleverTap(config={**config, "dry_run_remote_validation": True})


def test_wrong_passcode_stops_with_a_credentials_message(config, sandbox_client) -> None:
    config.update(stream_mappings={"pings": EVENTS}, passcode="definitely-not-it")
    config["property_names"] = "none"  # the upload's own 401 (match_account: see below)
    with pytest.raises(DeliveryError) as caught:
        run_target(config, events(3))
    message = str(caught.value)
    assert "HTTP 401" in message
    assert "account_id and passcode" in message
    assert "region" in message
    assert "definitely-not-it" not in message
    assert sandbox_client.clevertap_uploaded_events() == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"passcode": "definitely-not-it"}, "refused (HTTP 401)"),
        ({"api_url": "segment"}, "HTTP 404 (no schema endpoint there)"),
    ],
)
def test_match_account_stops_before_any_upload_when_the_schema_cannot_be_read(
    config, sandbox, sandbox_client, change, expected
) -> None:
    if change.get("api_url") == "segment":
        change = {"api_url": sandbox.segment_url}  # a server without getSchema
    config.update(stream_mappings={"pings": EVENTS}, **change)
    with pytest.raises(SchemaUnreadable) as caught:
        run_target(config, events(3))
    message = str(caught.value)
    assert expected in message
    assert "Nothing was uploaded" in message
    assert "property_names none" in message
    assert "segment (snake_case" in message
    assert "definitely-not-it" not in message
    assert upload_requests(sandbox_client) == []
    # The Segment server got the two schema reads (they go out together) and nothing else.
    assert {r["path"] for r in sandbox_client.segment_requests()} <= {
        "/getSchema?type=events",
        "/getSchema?type=userProperties",
    }


def test_match_account_stops_when_the_passcode_may_not_read_the_schema(files) -> None:
    forbidden = json.dumps({"status": "fail", "error": "Not allowed", "code": 403}).encode()
    with ScriptedHTTPServer(lambda request: (403, forbidden, {})) as server:
        config = {"account_id": "A", "passcode": "p", "api_url": server.url, **files}
        with pytest.raises(SchemaUnreadable, match="refused as not allowed") as caught:
            run_target({**config, "stream_mappings": {"pings": EVENTS}}, events(3))
    assert "Let this passcode read the schema" in str(caught.value)
    assert {request.method for request in server.requests} == {"GET"}  # no upload attempted


@pytest.fixture
def scripted():
    servers: list[ScriptedCleverTap] = []

    def start(script) -> ScriptedCleverTap:
        server = ScriptedCleverTap(script)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _scripted_config(server: ScriptedCleverTap, files: dict) -> dict:
    return {
        "account_id": "ACC",
        "passcode": "scripted-passcode",
        "api_url": server.url,
        "stream_mappings": {"pings": EVENTS},
        "max_concurrency": 1,
        **files,
    }


def test_malformed_request_is_bisected_to_the_record(scripted, files) -> None:
    def malformed_when_poisoned(records, attempt):
        if any(r["evtData"]["n"] == 13 for r in records):
            return answer({"status": "fail", "error": "Malformed request", "code": 400}, 400)
        return answer({"status": "success", "processed": len(records), "unprocessed": []})

    server = scripted(malformed_when_poisoned)
    run = run_target(_scripted_config(server, files), events(20))
    assert [r["record"]["n"] for r in run.rejects] == [13]
    assert run.rejects[0]["rule"] == "request_refused"
    delivered = sorted(
        r["evtData"]["n"]
        for batch in server.requests
        if not any(r["evtData"]["n"] == 13 for r in batch)
        for r in batch
    )
    assert delivered == [n for n in range(20) if n != 13]
    assert run.summary["batch_splits"] > 0


def test_retry_after_is_honoured(scripted, files) -> None:
    def busy_once(records, attempt):
        if attempt == 1:
            status, body, headers = answer({"status": "fail", "code": 429}, 429)
            return status, body, {**headers, "Retry-After": "1"}
        return answer({"status": "success", "processed": len(records), "unprocessed": []})

    server = scripted(busy_once)
    run = run_target(_scripted_config(server, files), events(5))
    assert len(server.requests) == 2
    assert run.summary["retries"] == 1


def test_unreadable_success_stops_instead_of_resending(scripted, files) -> None:
    server = scripted(lambda records, attempt: (200, b"<html>proxy</html>", {}))
    with pytest.raises(DeliveryError, match="not JSON"):
        run_target(_scripted_config(server, files), events(5))
    assert len(server.requests) == 1


def test_refusal_without_a_record_number_stops_instead_of_guessing(scripted, files) -> None:
    def vague(records, attempt):
        entry = {"status": "fail", "code": 555, "error": "Something went wrong"}
        return answer({"status": "partial", "processed": len(records) - 1, "unprocessed": [entry]})

    server = scripted(vague)
    with pytest.raises(DeliveryError, match="without saying which"):
        run_target(_scripted_config(server, files), events(5))


def test_upload_request_shape(scripted, files) -> None:
    server = scripted(
        lambda records, attempt: answer(
            {"status": "success", "processed": len(records), "unprocessed": []}
        )
    )
    run_target(_scripted_config(server, files), events(3, users=1))
    assert server.paths == ["/1/upload"]
    headers = server.headers[0]
    assert headers["X-CleverTap-Account-Id"] == "ACC"
    assert headers["X-CleverTap-Passcode"] == "scripted-passcode"
    assert headers["Content-Type"] == "application/json; charset=utf-8"
    assert server.requests[0] == [
        {"type": "event", "identity": "u-0", "evtName": "Ping", "evtData": {"n": n}}
        for n in range(3)
    ]


def test_state_is_emitted_every_state_interval_while_input_flows(sandbox_factory, files) -> None:
    process = sandbox_factory(latency_ms=50)
    config = config_for(
        process, files, stream_mappings={"pings": EVENTS}, state_interval_seconds=0.2
    )
    lines = [schema("pings", EVENT_FIELDS, ["n"])]
    for n in range(60):
        lines.append(record("pings", {"user": f"u-{n % 7}", "n": n}))
        if n % 5 == 4:
            lines.append(state({"upto": n}))

    def slow_tap() -> t.Iterator[str]:
        for message in lines:
            time.sleep(0.015)
            yield json.dumps(message) + "\n"

    class StateLog(io.StringIO):
        """Notes, for each STATE line, how many events the sandbox had stored by then."""

        seen: t.ClassVar[list[tuple[dict, int]]] = []

        def write(self, text: str) -> int:
            for line in text.splitlines():
                stored = len(process.client.clevertap_uploaded_events())
                self.seen.append((json.loads(line), stored))
            return super().write(text)

    target = TargetCleverTap(config=config)
    with contextlib.redirect_stdout(StateLog()):
        target.listen(t.cast("t.IO[str]", slow_tap()))
    assert len(StateLog.seen) >= 3  # STATE went out mid-run, not only at the end
    for value, stored in StateLog.seen:
        assert stored >= value["upto"] + 1
    assert StateLog.seen[-1][0] == {"upto": 59}


def test_requests_name_the_plugin_and_its_version(files) -> None:
    """User-Agent is target-clevertap/<installed version> on the schema read and the upload."""
    schema = json.dumps({"status": "success", "events": {}, "userProperties": []}).encode()
    uploaded = json.dumps({"status": "success", "processed": 3, "unprocessed": []}).encode()
    with ScriptedHTTPServer(
        lambda request: (200, schema if request.method == "GET" else uploaded, {})
    ) as server:
        config = {"account_id": "A", "passcode": "p", "api_url": server.url, **files}
        run_target({**config, "stream_mappings": {"pings": EVENTS}}, events(3))
    version = importlib.metadata.version("target-clevertap")
    agents = {r.method: r.headers.get("User-Agent") for r in server.requests}
    assert agents == {"GET": f"target-clevertap/{version}", "POST": f"target-clevertap/{version}"}
