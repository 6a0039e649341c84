"""A loopback HTTP server that answers CleverTap paths from Python handlers.

For behaviours the sandbox cannot produce (a campaign that completes between two runs, a count
that never finishes, a forgotten req_id, a campaign listed twice). Real HTTP over loopback; it
records every request and sends a fixed Date header, so the tap's "today" is known.
"""

from __future__ import annotations

import json
import threading
import typing as t
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, urlsplit

Handler = t.Callable[[dict[str, str], t.Any], tuple[int, t.Any]]
"""``handler(query_params, json_body) -> (status, json answer)``."""

DATE_HEADER = "Fri, 20 Nov 2026 12:00:00 GMT"  # today is 2026-11-20 in UTC

SCHEMA_ANSWER = {"status": "success", "events": [{"name": "Charged", "properties": []}]}


class RoutedAPI:
    """Answers ``"METHOD /path"`` with its handler; unknown routes get HTTP 404."""

    def __init__(self, routes: dict[str, Handler]) -> None:
        self.routes = {"GET /getSchema": lambda q, b: (200, SCHEMA_ANSWER), **routes}
        self.requests: list[tuple[str, str, dict[str, str], t.Any]] = []
        api = self

        class Answer(BaseHTTPRequestHandler):
            def _answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                body = json.loads(raw) if raw else None
                parts = urlsplit(self.path)
                query = dict(parse_qsl(parts.query))
                api.requests.append((self.command, parts.path, query, body))
                handler = api.routes.get(f"{self.command} {parts.path}")
                status, answer = handler(query, body) if handler else (404, {"error": "no route"})
                data = json.dumps(answer).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_GET = _answer
            do_POST = _answer

            def date_time_string(self, timestamp: float | None = None) -> str:
                return DATE_HEADER

            def log_message(self, *args: t.Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Answer)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def calls(self, method: str, path: str) -> list[tuple[dict[str, str], t.Any]]:
        """(query, body) of every request to ``METHOD path``."""
        return [(q, b) for m, p, q, b in self.requests if (m, p) == (method, path)]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def routed_config(api: RoutedAPI, **overrides: t.Any) -> dict[str, t.Any]:
    """A tap config for a RoutedAPI: UTC, fast retries and polls."""
    config: dict[str, t.Any] = {
        "account_id": "ACC",
        "passcode": "pc-secret",
        "api_url": api.url,
        "timezone": "UTC",
        "start_date": "2026-11-01",
        "event_names": ["Charged"],
        "retry_initial_wait": 0.01,
        "retry_max_wait": 0.02,
        "count_poll_interval": 0.01,
        "type_properties_from_schema": False,
    }
    config.update(overrides)
    return config
