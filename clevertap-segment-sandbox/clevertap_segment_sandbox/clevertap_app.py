"""The CleverTap emulator: routes plus the per-request pipeline every vendor endpoint shares.

Pipeline: auth (401) -> concurrency family (429 beyond 3 export / 15 upload in flight, per
account) -> latency -> injected fault -> handler -> sending the body. The "stored_reset" fault of
uploads runs the handler (the records are stored) and then resets the connection instead of
answering: a client cannot tell it from a reset before processing. Latency, slow faults and
the time a client takes to download the response all count as in-flight time: a slot is held
until the last byte is handed to the socket, so slow downloads of big export pages keep it busy.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from email.utils import format_datetime
from typing import TYPE_CHECKING

from aiohttp import web

from clevertap_segment_sandbox import clevertap_reads as reads
from clevertap_segment_sandbox.clevertap_export import EXPORT_PATHS, IN_PROGRESS, export_handler
from clevertap_segment_sandbox.clevertap_upload import upload
from clevertap_segment_sandbox.http_common import (
    AUTH_ACCEPTED,
    SERVER,
    STATE,
    abort_connection,
    json_body,
    log_request,
    query_params,
)
from clevertap_segment_sandbox.inspection import add_inspection_routes

if TYPE_CHECKING:
    from clevertap_segment_sandbox.state import SandboxState, ServerTraffic

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

UNAUTHORIZED = {"status": "fail", "error": "Account ID is not valid", "code": 401}
TOO_MANY = {"status": "fail", "error": "Too many concurrent requests", "code": 429}
SERVER_ERRORS = (500, 502, 503, 504)

EXPORT_FAMILY = frozenset(
    {
        "/1/events.json",
        "/1/profiles.json",
        "/1/profile.json",
        "/1/counts/events.json",
        "/1/counts/profiles.json",
        "/1/counts/trends.json",
        "/1/counts/top.json",
        "/1/now.json",
        "/1/targets/list.json",
        "/1/targets/result.json",
        "/1/message/report.json",
    }
)


def _family(path: str) -> str | None:
    if path == "/1/upload":
        return "upload"
    return "export" if path in EXPORT_FAMILY else None


async def _guarded(
    request: web.Request, handler: Handler, state: SandboxState, traffic: ServerTraffic
) -> web.StreamResponse | None:
    """Run one API request through auth, limits, latency and faults; None = connection reset."""
    headers = request.headers
    gates = traffic.account_gates.get(headers.get("X-CleverTap-Account-Id", ""))
    if gates is None or headers.get("X-CleverTap-Passcode") != state.settings.passcode:
        request[AUTH_ACCEPTED] = False
        return json_body(UNAUTHORIZED, 401)
    request[AUTH_ACCEPTED] = True
    family = _family(request.path)
    gate = gates[family] if family else None
    if gate is not None and not gate.try_enter():
        return json_body(TOO_MANY, 429)
    chain: int | None = None
    try:
        is_page = request.path in EXPORT_PATHS and "cursor" in query_params(request)
        if is_page:
            cursor = state.cursors.decode(query_params(request)["cursor"])
            if cursor is not None:
                if cursor.chain in state.chains_in_flight:
                    state.cursor_stats["chain_overlaps"] += 1
                    return json_body(IN_PROGRESS)
                chain = cursor.chain
                state.chains_in_flight.add(chain)
        faults = traffic.faults
        if faults.latency_ms:
            await asyncio.sleep(faults.latency_ms / 1000)
        kinds = (
            ("reset", "5xx", "429", "slow", "in_progress")
            if is_page
            else ("reset", "5xx", "429", "slow", "stored_reset")
            if family == "upload"
            else ("reset", "5xx", "429", "slow")
        )
        fault = faults.draw(kinds)
        if fault == "reset":
            abort_connection(request)
            return None
        if fault == "stored_reset":
            await handler(request)  # stored as usual; the answer never leaves
            abort_connection(request)
            return None
        if fault == "5xx":
            status = faults.pick(SERVER_ERRORS)
            return json_body(
                {"status": "fail", "error": "Internal Server Error", "code": status}, status
            )
        if fault == "429":
            return json_body(TOO_MANY, 429)
        if fault == "in_progress":
            return json_body(IN_PROGRESS)
        if fault == "slow":
            await asyncio.sleep(faults.slow_ms / 1000)
        return await _sent(request, await handler(request), state)
    finally:
        if gate is not None:
            gate.leave()
        if chain is not None:
            state.chains_in_flight.discard(chain)


def _stamp(response: web.StreamResponse, state: SandboxState) -> None:
    """The Date header in the sandbox clock (which `set_today` moves)."""
    response.headers["Date"] = format_datetime(state.clock.now().astimezone(UTC), usegmt=True)


async def _sent(
    request: web.Request, response: web.StreamResponse, state: SandboxState
) -> web.StreamResponse:
    """Send the whole response now, while the caller still holds its concurrency slot.

    aiohttp would otherwise write the body after the middleware returned, i.e. after the slot
    was freed. A client that disconnects mid-body just ends the request (aiohttp sees the
    response as already finished).
    """
    _stamp(response, state)
    with contextlib.suppress(ConnectionError):
        await response.prepare(request)
        await response.write_eof()
    return response


@web.middleware
async def clevertap_pipeline(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Apply the vendor pipeline to API paths; count and log every answer.

    The body is read first (aiohttp keeps it, so the handler's own read costs nothing) so the
    request log has it even when auth, a limit or a fault answers before the handler.
    """
    if request.path.startswith("/_sandbox/"):
        return await handler(request)
    state = request.app[STATE]
    traffic = state.traffic["clevertap"]
    if _dropped_while_idle(request, state):
        traffic.requests.count(f"{request.method} {request.path}", 0)
        return web.Response(status=500)  # already aborted: aiohttp fails to write this, quietly
    log = state.request_logs["clevertap"]
    received_at = time.time()
    body: bytes | None = None
    try:
        if log.enabled:
            body = await request.read()
        response = await _guarded(request, handler, state, traffic)
    except web.HTTPException as error:
        response = json_body(
            {"status": "fail", "error": error.reason, "code": error.status}, error.status
        )
    endpoint = f"{request.method} {request.path}"
    if log.enabled:
        log_request(log, request, received_at, body, response, write_key_field=False)
    if response is None:
        traffic.requests.count(endpoint, 0)
        # The connection is already aborted: aiohttp fails to write this, quietly.
        return web.Response(status=500)
    traffic.requests.count(endpoint, response.status)
    if not response.prepared:
        _stamp(response, state)
    if state.settings.stale_connection_seconds:
        state.connection_activity[_peer(request)] = time.monotonic()
    return response


def _peer(request: web.Request) -> object:
    transport = request.transport
    return transport.get_extra_info("peername") if transport is not None else None


def _dropped_while_idle(request: web.Request, state: SandboxState) -> bool:
    """A connection idle past stale_connection_seconds: reset it, the request unread.

    Emulates what sits in front of an API (a load balancer, a NAT) forgetting an idle flow
    without closing it, so the client cannot notice before it sends on it.
    """
    limit = state.settings.stale_connection_seconds
    if not limit:
        return False
    peer = _peer(request)
    last = state.connection_activity.get(peer)
    if last is None or time.monotonic() - last <= limit:
        return False
    del state.connection_activity[peer]
    state.stale_connection_resets += 1
    abort_connection(request)
    return True


def build_clevertap_app(state: SandboxState) -> web.Application:
    """The aiohttp application of the CleverTap emulator."""
    app = web.Application(middlewares=[clevertap_pipeline], client_max_size=64 * 1024 * 1024)
    app[STATE] = state
    app[SERVER] = "clevertap"
    for path, kind in EXPORT_PATHS.items():
        handler = export_handler(kind)
        app.router.add_route("POST", path, handler)
        app.router.add_route("GET", path, handler)
    app.router.add_get("/1/profile.json", reads.profile_by_id)
    for path, handler in (
        ("/1/counts/events.json", reads.event_counts),
        ("/1/counts/profiles.json", reads.profile_counts),
        ("/1/counts/trends.json", reads.trends),
        ("/1/counts/top.json", reads.top_counts),
    ):
        app.router.add_route("POST", path, handler)
        app.router.add_route("GET", path, handler)
    app.router.add_post("/1/now.json", reads.now_counts)
    app.router.add_post("/1/targets/list.json", reads.campaigns_list)
    app.router.add_post("/1/targets/result.json", reads.campaign_result)
    app.router.add_post("/1/message/report.json", reads.message_report)
    app.router.add_get("/getSchema", reads.get_schema)
    app.router.add_post("/1/upload", upload)
    add_inspection_routes(app)
    return app
