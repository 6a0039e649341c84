"""Redirects are never followed: the write key stays with api_url/settings_url, a 3xx stops the run.

Following one would resend the write key (Basic auth, the body's ``writeKey``, the settings URL's
path) to wherever ``Location`` points, even over plain http, and a 302 turns the batch into a GET
without a body whose 200 would count as delivered. Each test puts a real loopback server that
redirects in front of a second one that records everything it gets.
"""

from __future__ import annotations

import base64
import json
import typing as t

import click
import pytest
from scripted_http import ScriptedHTTPServer
from segment_testkit import STRING, record, run_cli, schema, state
from target_segment.target import TargetSegment

SECRET = "Wk-redirect-7c6b5a4d3e"
SECRET_FORMS = (
    SECRET,
    base64.b64encode(f"{SECRET}:".encode()).decode(),
    base64.b64encode(SECRET.encode()).decode(),
)
FIRST, LAST = {"done": 0}, {"done": 3}
LINES = [
    schema("s", {"e": STRING, "uid": STRING}),
    state(FIRST),
    *(record("s", {"e": "Clicked", "uid": f"u{n}"}) for n in range(3)),
    state(LAST),
]


@pytest.fixture
def elsewhere() -> t.Iterator[ScriptedHTTPServer]:
    """Where the redirect points: records every request and answers 200 as Segment would."""
    server = ScriptedHTTPServer(lambda request: (200, b'{"success":true}', {}))
    yield server
    server.close()


@pytest.fixture
def redirecting(
    elsewhere: ScriptedHTTPServer,
) -> t.Iterator[t.Callable[[int, str], ScriptedHTTPServer]]:
    """A server answering every request with ``status`` and a Location ``path`` on elsewhere."""
    servers: list[ScriptedHTTPServer] = []

    def start(status: int, path: str) -> ScriptedHTTPServer:
        location = elsewhere.url + path
        server = ScriptedHTTPServer(lambda request: (status, b"", {"Location": location}))
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _config(server: ScriptedHTTPServer, tmp_path: t.Any, **extra: t.Any) -> dict[str, t.Any]:
    return {
        "write_key": SECRET,
        "api_url": server.url,
        "settings_url": server.url,
        "verify_write_key": False,
        "max_concurrency": 1,
        "max_retries": 3,
        "stream_mappings": {"s": {"type": "track", "event": "e", "user_id": "uid"}},
        "rejected_records_path": str(tmp_path / "rejected.jsonl"),
        "summary_path": str(tmp_path / "summary.json"),
        **extra,
    }


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        for form in SECRET_FORMS:
            assert form not in text


@pytest.mark.parametrize("status", [302, 307])
def test_a_batch_redirect_stops_the_run_and_sends_nothing_elsewhere(
    status, redirecting, elsewhere, tmp_path
) -> None:
    server = redirecting(status, "/v1/batch")

    done = run_cli(
        _config(server, tmp_path),
        tmp_path,
        "\n".join(LINES) + "\n",
        env={"TARGET_SEGMENT_LOGLEVEL": "DEBUG"},
    )

    assert done.returncode != 0
    assert f"HTTP {status}: {server.url} redirects to {elsewhere.url}" in done.stderr
    assert "Set api_url to the final URL" in done.stderr
    assert "No STATE was emitted past the undelivered records" in done.stderr
    assert elsewhere.requests == []
    assert len(server.requests) == 1  # not retried
    printed = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert LAST not in printed
    _assert_no_secret(done.stdout, done.stderr)


def test_the_test_flag_reports_a_settings_redirect_without_following_it(
    redirecting, elsewhere, tmp_path
) -> None:
    # The Location carries the key the way the settings URL does: only its host may be shown.
    server = redirecting(307, f"/v1/projects/{SECRET}/settings")

    done = run_cli(_config(server, tmp_path), tmp_path, "", "--test")

    assert done.returncode == 1
    assert f"HTTP 307: {server.url} redirects to {elsewhere.url}" in done.stderr
    assert "Set settings_url to the final URL" in done.stderr
    assert elsewhere.requests == []
    assert len(server.requests) == 1
    _assert_no_secret(done.stdout, done.stderr)


@pytest.mark.parametrize("status", [301, 302, 303, 308])
def test_a_run_checking_the_key_stops_before_sending_on_a_redirect(
    status, redirecting, elsewhere, tmp_path
) -> None:
    server = redirecting(status, f"/v1/projects/{SECRET}/settings")
    target = TargetSegment(config=_config(server, tmp_path, verify_write_key=True))

    with pytest.raises(click.ClickException) as caught:
        target.before_listen()

    message = caught.value.message
    assert f"HTTP {status}" in message
    assert elsewhere.url in message
    assert "verify_write_key" in message
    assert elsewhere.requests == []
    assert [request.method for request in server.requests] == ["GET"]  # not retried
    _assert_no_secret(message)
