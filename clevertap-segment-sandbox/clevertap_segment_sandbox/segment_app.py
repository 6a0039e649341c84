"""The Segment HTTP Tracking API emulator (docs/segment-api.md §1).

200 {"success": true} for nearly everything; 400 only for invalid JSON, a message over 32 KB,
a request over 500 KB or a missing/very short write key. Invalid messages are accepted and then
dropped with Segment's discard code, which the inspection endpoints expose.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from clevertap_segment_sandbox.http_common import (
    AUTH_ACCEPTED,
    SERVER,
    STATE,
    WRITE_KEY_IN_BODY,
    abort_connection,
    json_body,
    log_request,
)
from clevertap_segment_sandbox.inspection import add_inspection_routes
from clevertap_segment_sandbox.segment_rules import (
    MAX_BATCH_ITEMS,
    MAX_MESSAGE_BYTES,
    MAX_REQUEST_BYTES,
    MIN_WRITE_KEY_LENGTH,
    drop_reason,
    merge_envelope,
    message_size,
)

if TYPE_CHECKING:
    from clevertap_segment_sandbox.state import SandboxState, ServerTraffic

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
JSON = "application/json"
SUCCESS = b'{"success":true}'
SINGLE_TYPES = ("identify", "track", "page", "screen", "group", "alias")
SERVER_ERRORS = (500, 502, 503, 504)
NOT_FOUND_TEXT = "Invalid path or write key provided."


def _error(status: int, code: str, message: str) -> web.Response:
    return json_body({"success": False, "code": code, "message": message}, status, JSON)


def _rate_limited(reset_seconds: int) -> web.Response:
    response = _error(429, "too_many_requests", "Too many requests, retry after the given delay")
    response.headers["Retry-After"] = str(reset_seconds)
    response.headers["X-RateLimit-Reset"] = str(reset_seconds)
    return response


def _write_key(request: web.Request, body: dict[str, Any]) -> str | None:
    """HTTP Basic user (with or without the trailing colon), else the body's writeKey."""
    header = request.headers.get("Authorization", "")
    if header.lower().startswith("basic "):
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode()
        except (binascii.Error, UnicodeDecodeError):
            return None
        return decoded.split(":", 1)[0]
    key = body.get("writeKey")
    return key if isinstance(key, str) else None


def _received_at() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def _ingest(request: web.Request, single_type: str | None) -> web.Response:
    """Shared by /v1/batch, /v1/import and the single-call endpoints."""
    state = request.app[STATE]
    store = state.segment
    raw = await request.read()
    if request.headers.get("Content-Encoding", "").lower() == "gzip":
        store.gzip_requests += 1
    if len(raw) > MAX_REQUEST_BYTES:
        store.bad_requests_by_reason["request_too_large"] += 1
        return _error(400, "request_too_large", f"Request is {len(raw)} bytes; the limit is 500 KB")
    try:
        body = orjson.loads(raw)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        store.bad_requests_by_reason["invalid_json"] += 1
        return _error(400, "invalid_json", "Request body must be a JSON object")
    key = _write_key(request, body)
    known_key = key == state.settings.write_key
    request[AUTH_ACCEPTED] = known_key
    if key is None or len(key.strip()) < MIN_WRITE_KEY_LENGTH:
        store.bad_requests_by_reason["invalid_write_key"] += 1
        return _error(400, "invalid_write_key", "Missing or malformed write key")
    if single_type is None:
        store.batches += 1
        items = body.get("batch")
        items = items if isinstance(items, list) else []
    else:
        items = [{**body, "type": single_type}]
    request[WRITE_KEY_IN_BODY] = "writeKey" in body or any(
        item.__class__ is dict and "writeKey" in item for item in items
    )
    for item in items:
        if message_size(item) > MAX_MESSAGE_BYTES:
            store.bad_requests_by_reason["message_too_large"] += 1
            return _error(400, "message_too_large", "A message exceeds 32 KB")
    received_at = _received_at()
    now = state.clock.now().timestamp()
    dedup_window = state.settings.segment_dedup_hours * 3600
    if not items:
        store.drop("empty_batch", body.get("batch"), received_at)
    for position, item in enumerate(items):
        store.received += 1
        if not isinstance(item, dict):
            store.drop("invalid_type", item, received_at)
            continue
        message = merge_envelope(item, body) if single_type is None else item
        message.pop("writeKey", None)
        if not known_key:
            store.drop("unknown_write_key", message, received_at)
        elif position >= MAX_BATCH_ITEMS:
            store.drop("batch_item_limit", message, received_at)
        elif (reason := drop_reason(message)) is not None:
            store.drop(reason, message, received_at)
        else:
            if "messageId" not in message:  # not setdefault: a uuid per message is costly
                message["messageId"] = str(uuid.uuid4())
            message["receivedAt"] = received_at
            store.accept(message, now, dedup_window)
    return web.Response(body=SUCCESS, headers={"Content-Type": JSON})


def ingest_handler(single_type: str | None) -> Handler:
    """Handler for one path (None = a batch)."""

    async def handle(request: web.Request) -> web.StreamResponse:
        return await _ingest(request, single_type)

    return handle


async def project_settings(request: web.Request) -> web.Response:
    """GET /v1/projects/<writeKey>/settings: the CDN check targets use to validate a key."""
    state = request.app[STATE]
    key = request.match_info["write_key"]
    if key != state.settings.write_key:
        return web.Response(status=404, text=NOT_FOUND_TEXT)
    return json_body(
        {
            "integrations": {
                "Segment.io": {
                    "apiKey": key,
                    "apiHost": "api.segment.io/v1",
                    "unbundledIntegrations": [],
                }
            },
            "plan": {
                "track": {"__default": {"enabled": True}},
                "identify": {"__default": {"enabled": True}},
            },
            "edgeFunction": {},
            "analyticsNextEnabled": True,
        },
        content_type=JSON,
    )


async def _guarded(
    request: web.Request, handler: Handler, state: SandboxState, traffic: ServerTraffic
) -> web.StreamResponse | None:
    """Rate limit (429 + Retry-After), latency, injected faults; None = connection reset."""
    store = state.segment
    if not store.admit(int(time.time()), state.segment_rate_limit):
        return _rate_limited(1)
    gate = traffic.gates["api"]
    gate.try_enter()
    try:
        faults = traffic.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        fault = faults.draw(("reset", "5xx", "429", "slow"))
        if fault == "reset":
            abort_connection(request)
            return None
        if fault == "5xx":
            status = faults.pick(SERVER_ERRORS)
            return _error(status, "internal_error", "Injected server error")
        if fault == "429":
            store.rate_limited += 1
            return _rate_limited(1)
        if fault == "slow":
            await asyncio.sleep(faults.slow_ms / 1000)
        return await handler(request)
    finally:
        gate.leave()


@web.middleware
async def segment_pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the vendor pipeline to API paths; count and log answers.

    The settings CDN path carries a write key, so it stays out of the request log.
    """
    if request.path.startswith("/_sandbox/"):
        return await handler(request)
    state = request.app[STATE]
    traffic = state.traffic["segment"]
    log = state.request_logs["segment"]
    logged = log.enabled and not request.path.startswith("/v1/projects/")
    received_at = time.time()
    body: bytes | None = None
    try:
        if logged:
            body = await request.read()
        response = await _guarded(request, handler, state, traffic)
    except web.HTTPException as error:
        response = _error(
            error.status, "not_found" if error.status == 404 else "bad_request", error.reason
        )
    path = (
        "/v1/projects/{writeKey}/settings"
        if request.path.startswith("/v1/projects/")
        else request.path
    )
    endpoint = f"{request.method} {path}"
    if logged:
        # A body the handler never parsed is searched for "writeKey" fields.
        write_key_field = request.get(WRITE_KEY_IN_BODY, body is not None and b"writeKey" in body)
        log_request(log, request, received_at, body, response, write_key_field=write_key_field)
    if response is None:
        traffic.requests.count(endpoint, 0)
        # The connection is already aborted: aiohttp fails to write this, quietly.
        return web.Response(status=500)
    traffic.requests.count(endpoint, response.status)
    return response


def build_segment_app(state: SandboxState) -> web.Application:
    """The aiohttp application of the Segment emulator."""
    app = web.Application(middlewares=[segment_pipeline], client_max_size=64 * 1024 * 1024)
    app[STATE] = state
    app[SERVER] = "segment"
    app.router.add_post("/v1/batch", ingest_handler(None))
    app.router.add_post("/v1/import", ingest_handler(None))
    for kind in SINGLE_TYPES:
        app.router.add_post(f"/v1/{kind}", ingest_handler(kind))
    app.router.add_get("/v1/projects/{write_key}/settings", project_settings)
    add_inspection_routes(app)
    return app
