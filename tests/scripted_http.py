"""A scripted HTTP server on loopback, for tests of what the sandbox never answers.

Tests talk to real servers over real HTTP; the sandbox covers the vendors' normal behaviour, and
this server answers whatever a test decides (a malformed-request 400, a Retry-After, a dropped
connection) and records every request it received.
"""

from __future__ import annotations

import gzip
import socket
import struct
import sys
import threading
import typing as t
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

if t.TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

#: An answer: status, body, headers. Status DROP closes the connection without answering.
Answer = tuple[int, bytes, dict[str, str]]
DROP = -1


@dataclass(frozen=True)
class ReceivedRequest:
    """One request as the server saw it (a gzip body is decompressed)."""

    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class _QuietHTTPServer(ThreadingHTTPServer):
    """A client that gave up (timeout, reset) is a scripted scenario, not an error to print."""

    def handle_error(self, request: t.Any, client_address: t.Any) -> None:
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


class ScriptedHTTPServer:
    """Answers every request with ``script(request)``; thread-safe, one thread per connection."""

    def __init__(self, script: Callable[[ReceivedRequest], Answer]) -> None:
        self.script = script
        self.requests: list[ReceivedRequest] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self.lock = threading.Lock()
        handler = _handler_for(self)
        self.httpd = _QuietHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def answer(self, request: ReceivedRequest) -> Answer:
        """Record the request and ask the script."""
        with self.lock:
            self.requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            return self.script(request)
        finally:
            with self.lock:
                self.in_flight -= 1

    def close(self) -> None:
        """Stop serving and free the port."""
        self.httpd.shutdown()
        self.httpd.server_close()

    def __enter__(self) -> ScriptedHTTPServer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _handler_for(server: ScriptedHTTPServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: t.Any) -> None:
            pass

        def do_GET(self) -> None:
            self._serve(b"")

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            gzipped = self.headers.get("Content-Encoding") == "gzip"
            self._serve(gzip.decompress(raw) if gzipped else raw)

        def _serve(self, body: bytes) -> None:
            request = ReceivedRequest(self.command, self.path, dict(self.headers.items()), body)
            status, payload, headers = server.answer(request)
            if status == DROP:  # reset the connection: linger on, zero timeout
                self.connection.setsockopt(
                    socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                )
                self.connection.close()
                return
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler
