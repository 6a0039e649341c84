"""Client behaviours the sandbox cannot produce, against a scripted loopback HTTP server."""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from tap_clevertap.client import CleverTapClient, ExportLimiter
from tap_clevertap.errors import (
    CleverTapError,
    CursorExpiredError,
    RepeatedCursorError,
)
from tap_clevertap.settings import Settings

DAY = dt.date(2026, 11, 19)
CURSOR = "abc%2Bdef%2F%3D"


class Scripted:
    """Answers requests from a list of (status, body, headers); records what it received."""

    def __init__(self, responses):
        self.responses = list(responses)
        self.requests: list[tuple[str, str, bytes]] = []
        self.times: list[float] = []
        script = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else b""
                script.requests.append((self.command, self.path, body))
                script.times.append(time.monotonic())
                status, payload, headers = script.responses.pop(0)
                data = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def scripted():
    servers = []

    def start(*responses):
        server = Scripted(responses)
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.close()


def _client(url, **overrides):
    config = {
        "account_id": "ACC",
        "passcode": "pc-secret",
        "api_url": url,
        "timezone": "UTC",
        "start_date": "2026-11-01",
        "retry_initial_wait": 0.01,
        "retry_max_wait": 0.02,
        **overrides,
    }
    return CleverTapClient(Settings.from_config(config), ExportLimiter(3))


def _pages(client, kind="events"):
    return [json.loads(p) for p in client.export_pages(kind, "Charged", DAY, DAY)]


OPEN = (200, {"cursor": CURSOR, "status": "success"}, None)
END = (200, {"status": "success"}, None)


def test_open_request_and_verbatim_cursor(scripted):
    server = scripted(
        OPEN,
        (200, {"next_cursor": "n%2B2", "records": [{"ts": 1}], "status": "success"}, None),
        END,
    )
    pages = _pages(_client(server.url))
    assert [p["records"] for p in pages] == [[{"ts": 1}]]
    method, path, body = server.requests[0]
    assert (method, path) == ("POST", "/1/events.json?batch_size=4991")
    assert json.loads(body) == {"event_name": "Charged", "from": 20261119, "to": 20261119}
    assert server.requests[1][:2] == ("GET", f"/1/events.json?cursor={CURSOR}")
    assert server.requests[2][:2] == ("GET", "/1/events.json?cursor=n%2B2")


def test_empty_page_with_next_cursor_is_not_the_end(scripted):
    server = scripted(
        OPEN,
        (200, {"next_cursor": "c2", "records": [], "status": "success"}, None),
        (200, {"next_cursor": "c3", "status": "success"}, None),
        (200, {"next_cursor": "c4", "records": [{"i": 1}], "status": "success"}, None),
        END,
    )
    assert [p["records"] for p in _pages(_client(server.url))] == [[{"i": 1}]]
    assert len(server.requests) == 5


def test_a_repeated_cursor_is_a_clear_error(scripted):
    server = scripted(
        OPEN, (200, {"next_cursor": CURSOR, "records": [{}], "status": "success"}, None)
    )
    with pytest.raises(RepeatedCursorError, match=r"'Charged'.*2026-11-19.*same cursor"):
        _pages(_client(server.url))


def test_in_progress_and_202_retry_the_same_cursor(scripted):
    in_progress = (200, {"status": "fail", "code": 2, "error": "Request still in progress"}, None)
    server = scripted(
        OPEN,
        in_progress,
        (202, b"", None),
        in_progress,
        (200, {"records": [{"i": 1}], "status": "success"}, None),
    )
    assert [p["records"] for p in _pages(_client(server.url))] == [[{"i": 1}]]
    assert {path for _, path, _ in server.requests[1:]} == {f"/1/events.json?cursor={CURSOR}"}


def test_in_progress_is_bounded(scripted):
    in_progress = (200, {"status": "fail", "code": 2, "error": "Request still in progress"}, None)
    server = scripted(OPEN, in_progress, in_progress, in_progress)
    with pytest.raises(CleverTapError, match=r"still in progress.*in_progress_retries=2"):
        _pages(_client(server.url, in_progress_retries=2))


def test_retry_after_is_honoured(scripted):
    server = scripted(
        (429, {"status": "fail", "error": "Too many concurrent requests"}, {"Retry-After": "1"}),
        OPEN,
        END,
    )
    assert _pages(_client(server.url)) == []
    assert server.times[1] - server.times[0] >= 0.9


def test_server_errors_give_up_after_max_retries_with_the_message(scripted):
    boom = (503, {"status": "fail", "error": "Service Unavailable", "code": 503}, None)
    server = scripted(boom, boom, boom)
    with pytest.raises(CleverTapError, match=r"HTTP 503 after 3 attempts.*Service Unavailable"):
        _pages(_client(server.url, max_retries=2))


def test_http_200_with_fail_status_is_an_error(scripted):
    server = scripted(OPEN, (200, {"status": "fail", "error": "Something odd", "code": 99}, None))
    with pytest.raises(CleverTapError, match=r"code 99: Something odd"):
        _pages(_client(server.url))


def test_unknown_page_status_is_an_error_not_the_end(scripted):
    server = scripted(OPEN, (200, {"status": "partial", "cursor": "x", "records": [{}]}, None))
    with pytest.raises(CleverTapError, match="partial"):
        _pages(_client(server.url))


def test_cursor_expiry_reopens_the_window(scripted):
    expired = (200, {"status": "fail", "error": "Incorrect Usage", "code": 3}, None)
    server = scripted(
        OPEN,
        (200, {"next_cursor": "c2", "records": [{"i": 1}], "status": "success"}, None),
        expired,
        OPEN,
        (200, {"next_cursor": "c2", "records": [{"i": 1}], "status": "success"}, None),
        (200, {"records": [{"i": 2}], "status": "success"}, None),
    )
    pages = _pages(_client(server.url))
    assert [p["records"] for p in pages] == [[{"i": 1}], [{"i": 1}], [{"i": 2}]]
    assert [m for m, _, _ in server.requests].count("POST") == 2


def test_cursor_expiry_is_bounded(scripted):
    expired = (200, {"status": "fail", "error": "Incorrect Usage", "code": 3}, None)
    server = scripted(OPEN, expired, OPEN, expired)
    with pytest.raises(
        CursorExpiredError, match=r"'Charged'.*expired 2 times.*max_cursor_restarts=1"
    ):
        _pages(_client(server.url, max_cursor_restarts=1))


def test_open_without_a_cursor_is_an_error(scripted):
    server = scripted((200, {"status": "success"}, None))
    with pytest.raises(CleverTapError, match="no cursor"):
        _pages(_client(server.url))


def test_passcode_never_in_errors(scripted):
    server = scripted((400, {"status": "fail", "error": "Bad thing", "code": 400}, None))
    with pytest.raises(CleverTapError) as info:
        _pages(_client(server.url))
    assert "pc-secret" not in str(info.value)
    assert "Bad thing" in str(info.value)


def test_a_redirect_is_refused_so_the_passcode_stays_home(scripted):
    """A 3xx is never followed: the passcode header would go to the other address."""
    elsewhere = scripted(OPEN, END)
    server = scripted((302, b"", {"Location": f"{elsewhere.url}/1/events.json?x=secret"}))
    with pytest.raises(CleverTapError, match=r"HTTP 302: http://127\.0\.0\.1:\d+ redirects to"):
        _pages(_client(server.url))
    assert elsewhere.requests == []
    assert len(server.requests) == 1
