"""Redirects are never followed: the passcode stays with api_url and a 3xx stops the run.

Following one would resend ``X-CleverTap-Passcode`` to wherever ``Location`` points (even plain
http), and a 302 turns the upload into a GET without a body whose 200 would count as delivered.
Each test puts a real loopback server that redirects in front of a second one that records
everything it gets.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import typing as t

import pytest
from clevertap_segment_common.delivery import DeliveryError
from clevertap_testkit import (
    TARGET,
    ScriptedCleverTap,
    answer,
    record,
    run_target,
    schema,
    singer_text,
)
from clevertap_testkit import state as state_message
from scripted_http import ScriptedHTTPServer
from target_clevertap.connection import ConnectionCheckError, check_connection
from target_clevertap.schema_reader import SchemaUnreadable
from target_clevertap.target import TargetCleverTap

SECRET = "pc-REDIRECT-4d3c2b1a0f"
EVENTS = {"kind": "event", "identity": "user", "event_name": "Ping"}
SUCCESS = json.dumps({"status": "success", "processed": 1, "unprocessed": []}).encode()
FIRST, LAST = {"bookmarks": {"pings": 0}}, {"bookmarks": {"pings": 3}}


@pytest.fixture
def elsewhere() -> t.Iterator[ScriptedHTTPServer]:
    """Where the redirect points: records every request and answers as CleverTap would."""
    server = ScriptedHTTPServer(lambda request: (200, SUCCESS, {}))
    yield server
    server.close()


@pytest.fixture
def redirecting(
    elsewhere: ScriptedHTTPServer,
) -> t.Iterator[t.Callable[[int], ScriptedHTTPServer]]:
    """A server answering every request with ``status`` and a Location on ``elsewhere``."""
    servers: list[ScriptedHTTPServer] = []

    def start(status: int) -> ScriptedHTTPServer:
        location = f"{elsewhere.url}/1/upload?dryRun=1"
        server = ScriptedHTTPServer(lambda request: (status, b"", {"Location": location}))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _config(api_url: str, files: dict[str, str], **extra: t.Any) -> dict[str, t.Any]:
    return {
        "account_id": "ACC",
        "passcode": SECRET,
        "api_url": api_url,
        "stream_mappings": {"pings": EVENTS},
        "max_retries": 3,
        "max_concurrency": 1,
        **files,
        **extra,
    }


#: The upload tests name a convention: match_account would stop at its schema read first.
UPLOADS_ONLY = {"property_names": "none"}


def _messages() -> list[dict[str, t.Any]]:
    return [
        schema("pings", {"user": {"type": "string"}, "n": {"type": "integer"}}, ["n"]),
        state_message(FIRST),
        *(record("pings", {"user": f"u-{n}", "n": n}) for n in range(3)),
        state_message(LAST),
    ]


def _cli(args: list[str], stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [TARGET, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "TARGET_CLEVERTAP_LOGLEVEL": "DEBUG"},
    )


def _host(server: ScriptedHTTPServer) -> str:
    return server.url.removeprefix("http://")


@pytest.mark.parametrize("status", [302, 307])
def test_an_upload_redirect_stops_the_run_and_sends_nothing_elsewhere(
    status, redirecting, elsewhere, files, tmp_path
) -> None:
    server = redirecting(status)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(_config(server.url, files, **UPLOADS_ONLY)))

    done = _cli(["--config", str(config_path)], singer_text(_messages()))

    assert done.returncode != 0
    assert f"HTTP {status}: {server.url} redirects to {elsewhere.url}" in done.stderr
    assert "Set api_url to the final URL" in done.stderr
    assert "No STATE was emitted past the undelivered records" in done.stderr
    assert elsewhere.requests == []
    assert len(server.requests) == 1  # not retried
    assert server.requests[0].headers["X-CleverTap-Passcode"] == SECRET  # only api_url got it
    printed = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert LAST not in printed
    assert SECRET not in done.stderr + done.stdout


def test_a_redirected_batch_can_be_sent_again_once_api_url_is_fixed(
    redirecting, elsewhere, files
) -> None:
    server = redirecting(307)
    with (
        pytest.raises(DeliveryError, match="HTTP 307") as caught,
        contextlib.redirect_stdout(io.StringIO()) as stdout,
    ):
        TargetCleverTap(config=_config(server.url, files, **UPLOADS_ONLY)).listen(
            io.StringIO(singer_text(_messages()))
        )
    assert SECRET not in str(caught.value)
    assert json.dumps(LAST) not in stdout.getvalue()

    # The redirecting server stored nothing, so the journal must not hold the events back.
    fixed = ScriptedCleverTap(
        lambda records, attempt: answer(
            {"status": "success", "processed": len(records), "unprocessed": []}
        )
    )
    try:
        run = run_target(_config(fixed.url, files, **UPLOADS_ONLY), _messages())
    finally:
        fixed.close()
    assert sorted(r["evtData"]["n"] for batch in fixed.requests for r in batch) == [0, 1, 2]
    assert run.rejects == []
    assert run.states[-1] == LAST
    assert elsewhere.requests == []


def test_a_redirected_schema_read_stops_match_account_before_any_upload(
    redirecting, elsewhere, files
) -> None:
    server = redirecting(302)
    with pytest.raises(SchemaUnreadable) as caught:
        run_target(_config(server.url, files), _messages())
    message = str(caught.value)
    assert f"HTTP 302: {server.url} redirects to {elsewhere.url}" in message
    assert "Nothing was uploaded" in message
    assert sorted((r.method, r.path) for r in server.requests) == [  # the two reads, together
        ("GET", "/getSchema?type=events"),
        ("GET", "/getSchema?type=userProperties"),
    ]
    assert elsewhere.requests == []
    assert SECRET not in message


def test_the_test_flag_reports_a_redirect_without_following_it(
    redirecting, elsewhere, files, tmp_path
) -> None:
    server = redirecting(307)
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(_config(server.url, files)))

    done = _cli(["--test", "--config", str(config_path)])

    assert done.returncode == 1
    assert f"HTTP 307: {server.url} redirects to {elsewhere.url}" in done.stderr
    assert "Set api_url to the final URL" in done.stderr
    assert elsewhere.requests == []
    assert len(server.requests) == 1
    assert SECRET not in done.stderr + done.stdout


@pytest.mark.parametrize("status", [301, 302, 303, 308])
def test_the_connection_check_names_the_status_and_host(
    status, redirecting, elsewhere, files
) -> None:
    server = redirecting(status)
    with pytest.raises(ConnectionCheckError) as caught:
        check_connection(_config(server.url, files))
    message = str(caught.value)
    assert f"HTTP {status}" in message
    assert _host(elsewhere) in message
    assert "/1/upload" not in message.split("redirects to", 1)[1]  # host only, never the path
    assert SECRET not in message
    assert elsewhere.requests == []
