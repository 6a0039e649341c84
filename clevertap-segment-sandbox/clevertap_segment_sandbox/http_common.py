"""Small HTTP helpers shared by both emulators."""

from __future__ import annotations

import socket
import struct
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from clevertap_segment_sandbox.state import SandboxState

if TYPE_CHECKING:
    from clevertap_segment_sandbox.request_log import RequestLog

STATE = web.AppKey("state", SandboxState)
SERVER = web.AppKey("server", str)
# Whether the request's credentials were accepted (unset = never checked); logged, never the key.
AUTH_ACCEPTED = web.RequestKey("auth_accepted", bool)
# Set once a Segment handler parsed the body: whether any "writeKey" field must be redacted.
WRITE_KEY_IN_BODY = web.RequestKey("write_key_in_body", bool)

CLEVERTAP_JSON = "application/json;charset=utf-8"


def json_bytes(body: bytes, status: int = 200, content_type: str = CLEVERTAP_JSON) -> web.Response:
    """A response from pre-serialised JSON (the fast path for export pages)."""
    return web.Response(body=body, status=status, headers={"Content-Type": content_type})


def json_body(payload: Any, status: int = 200, content_type: str = CLEVERTAP_JSON) -> web.Response:
    """A JSON response."""
    return json_bytes(orjson.dumps(payload), status, content_type)


def query_params(request: web.Request) -> dict[str, str]:
    """Query parameters decoded exactly once (so a doubly-encoded cursor stays visibly wrong)."""
    return dict(parse_qsl(request.rel_url.raw_query_string, keep_blank_values=True))


def parse_object(raw: bytes) -> dict[str, Any] | None:
    """A JSON object body, or None when it is not valid JSON or not an object."""
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None


def abort_connection(request: web.Request) -> None:
    """Drop the TCP connection with a reset and no response (the "connection reset" fault)."""
    transport = request.transport
    if transport is None:
        return
    sock = transport.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    transport.abort()


def log_request(
    log: RequestLog,
    request: web.Request,
    received_at: float,
    body: bytes | None,
    response: web.StreamResponse | None,
    *,
    write_key_field: bool,
) -> None:
    """Record one API request in the request log (response None = connection reset)."""
    sent = response.body if isinstance(response, web.Response) else None
    log.record(
        time=received_at,
        method=request.method,
        path=request.raw_path,
        body=body,
        content_encoding=request.headers.get("Content-Encoding"),
        auth_accepted=request.get(AUTH_ACCEPTED),
        status=0 if response is None else response.status,
        response=sent if isinstance(sent, bytes) else None,
        write_key_field=write_key_field,
    )
