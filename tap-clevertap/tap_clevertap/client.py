"""HTTP client for CleverTap's export APIs: cursor chains, retries and the account-wide call limit.

Why not the SDK's ``RESTStream.request_records``: it follows one cursor chain on the main thread,
stops on an empty page unless told otherwise, re-encodes query values, retries through a
decorator that cannot tell "Request still in progress" (HTTP 200, code 2) from success, and has
no way to share a concurrency limit across threads. CleverTap needs all of those, so the tap
drives its cursor chains here and hands raw pages to the SDK streams.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
import random
import re
import threading
import time
import typing as t
from urllib.parse import urlencode, urlsplit

import orjson
import requests
from clevertap_segment_common.endpoints import redirect_summary
from clevertap_segment_common.http import (
    NETWORK_ERRORS,
    ThreadSessions,
    parse_retry_after,
    user_agent,
)

from tap_clevertap.errors import (
    CleverTapAuthError,
    CleverTapConnectionError,
    CleverTapEndpointError,
    CleverTapError,
    CursorExpiredError,
    InvalidEventError,
    NotReadyError,
    RepeatedCursorError,
    RequestIdExpiredError,
    UnexportableEventError,
)
from tap_clevertap.localtime import day_int

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Mapping, Sequence

    from tap_clevertap.settings import Settings

logger = logging.getLogger("tap-clevertap.client")

_CURSOR_ERROR_HINTS = ("incorrect usage", "cursor", "cursor_invalidated")
#: CleverTap asks for waits of minutes on export limits; waits up to 10 minutes are honoured.
_MAX_RETRY_AFTER = 600.0
_SUCCESS = frozenset({"success"})

NotReadyCheck = t.Callable[[int, dict[str, t.Any]], str | None]
"""``check(http_status, body)``: a reason when an error answer means "no result yet", else None."""

# A data page as CleverTap (and the live capture) lays it out:
#   {"next_cursor":"<percent-encoded>","records":[...],"status":"success"}
# The first member of the top-level object and its last member can be read without parsing the
# records in between; anything laid out differently is parsed in full.
_PAGE_HEAD = re.compile(
    rb'\s*\{\s*"next_cursor"\s*:\s*"([^"\\]*)"\s*,\s*"records"\s*:\s*\[\s*(\]?)'
)
_PAGE_TAIL = re.compile(rb'"status"\s*:\s*"success"\s*\}\s*$')
_PAGE_SCAN_MIN_BYTES = 2048


class Cancelled(Exception):
    """The consumer stopped the run; a worker must unwind without another call."""


class ExportLimiter:
    """At most ``limit`` CleverTap calls in flight across every thread of one tap instance."""

    def __init__(self, limit: int) -> None:
        """Create the shared semaphore."""
        self._semaphore = threading.BoundedSemaphore(limit)
        self.limit = limit

    def __enter__(self) -> None:
        """Wait for a free slot."""
        self._semaphore.acquire()

    def __exit__(self, *_exc: object) -> None:
        """Free the slot."""
        self._semaphore.release()


class CleverTapClient:
    """Calls CleverTap with the tap's retry policy; one instance is shared by all threads."""

    def __init__(self, settings: Settings, limiter: ExportLimiter) -> None:
        """Bind settings and the tap-wide limiter; sessions are per thread."""
        self.settings = settings
        self.limiter = limiter
        self._sessions = ThreadSessions(settings.base_url)
        self._clock_lock = threading.Lock()
        self._server_clock: tuple[dt.datetime, float] | None = None
        self._headers = {
            "X-CleverTap-Account-Id": settings.account_id,
            "X-CleverTap-Passcode": settings.passcode,
            "User-Agent": user_agent("tap-clevertap"),
            "Accept": "application/json",
        }

    # -- public API -----------------------------------------------------------------

    def get_schema(self, kind: str, *, max_retries: int | None = None) -> dict[str, t.Any]:
        """GET /getSchema?type=<kind> (``events`` or ``userProperties``)."""
        url = f"{self.settings.base_url}/getSchema?{urlencode({'type': kind})}"
        doc, _ = self.call("GET", url, what=f"schema lookup (type={kind})", max_retries=max_retries)
        return doc

    def export_pages(
        self,
        kind: str,
        event_name: str,
        first: dt.date,
        last: dt.date,
        *,
        stop: threading.Event | None = None,
        on_restart: Callable[[], None] | None = None,
        conditions: Mapping[str, t.Any] | None = None,
        flags: Sequence[tuple[str, str]] | None = None,
        what: str | None = None,
    ) -> Iterator[bytes]:
        """Yield the raw JSON body of every page that carries records, in cursor order.

        Follows ``next_cursor`` until CleverTap omits it (never stops on a short or empty page),
        re-opens the window when the cursor expires (records already yielded for the window
        are yielded again, after ``on_restart()``; their event_id makes that idempotent), and
        raises on anything else. ``conditions`` are added to the query body (CQL filters);
        ``flags`` replace the export_* query flags of the settings.
        """
        what = what or f"{kind} export of event {event_name!r} for {_day(first)}..{_day(last)}"
        query = {
            "event_name": event_name,
            "from": day_int(first),
            "to": day_int(last),
            **(conditions or {}),
        }
        export_flags = self.settings.export_params if flags is None else flags
        params = [("batch_size", str(self.settings.batch_size)), *export_flags]
        open_url = f"{self.settings.base_url}/1/{kind}.json?{urlencode(params)}"
        restarts = 0
        while True:
            doc, raw = self.call("POST", open_url, body=query, what=what, stop=stop)
            pages = self._follow(kind, doc, raw, what, stop)
            del doc, raw  # _follow drops them as soon as it can
            try:
                yield from pages
            except CursorExpiredError as exc:
                restarts += 1
                if restarts > self.settings.max_cursor_restarts:
                    msg = (
                        f"{what}: the cursor expired {restarts} times (CleverTap said: {exc}); "
                        f"giving up after max_cursor_restarts={self.settings.max_cursor_restarts}."
                    )
                    raise CursorExpiredError(msg) from exc
                logger.warning(
                    "%s: cursor expired (%s); re-opening the window (restart %d of %d). "
                    "Records of this window will be emitted again with the same event_id.",
                    what,
                    exc,
                    restarts,
                    self.settings.max_cursor_restarts,
                )
                if on_restart is not None:
                    on_restart()
                continue
            return

    def post(
        self,
        path: str,
        body: dict[str, t.Any],
        *,
        what: str,
        stop: threading.Event | None = None,
        ok_statuses: frozenset[str] = _SUCCESS,
        not_ready: NotReadyCheck | None = None,
    ) -> dict[str, t.Any]:
        """POST a JSON query to ``path`` (e.g. ``/1/targets/list.json``) and return the answer."""
        url = f"{self.settings.base_url}{path}"
        doc, _ = self.call(
            "POST",
            url,
            body=body,
            what=what,
            stop=stop,
            ok_statuses=ok_statuses,
            not_ready=not_ready,
        )
        return doc

    def poll(
        self,
        path: str,
        req_id: t.Any,
        *,
        what: str,
        stop: threading.Event | None = None,
        ok_statuses: frozenset[str] = _SUCCESS,
    ) -> dict[str, t.Any]:
        """GET ``path?req_id=<id>``: the state of an asynchronous count query."""
        url = f"{self.settings.base_url}{path}?{urlencode({'req_id': req_id})}"
        doc, _ = self.call("GET", url, what=what, stop=stop, ok_statuses=ok_statuses)
        return doc

    # -- cursor chain ---------------------------------------------------------------

    def _follow(
        self,
        kind: str,
        doc: dict[str, t.Any],
        raw: bytes,
        what: str,
        stop: threading.Event | None,
    ) -> Iterator[bytes]:
        if "cursor" in doc:
            cursor = doc["cursor"]
        elif "records" in doc or "next_cursor" in doc:
            # Some accounts answer the open call with the first page itself.
            cursor = doc.get("next_cursor")
            has_records = bool(doc.get("records"))
            del doc  # a parsed page is large: never hold it while waiting to hand over raw
            if has_records:
                yield raw
            if cursor is None:
                return
        else:
            msg = f"{what}: CleverTap's answer to the export request has no cursor: {_brief(doc)}"
            raise CleverTapError(msg)
        page_base = f"{self.settings.base_url}/1/{kind}.json?cursor="
        pages = 0
        while True:
            if not isinstance(cursor, str) or not cursor:
                msg = f"{what}: unusable cursor {cursor!r} after {pages} pages."
                raise CleverTapError(msg)
            # The cursor arrives percent-encoded; it is appended verbatim (see _send).
            doc, raw = self.call("GET", page_base + cursor, what=what, cursor_page=True, stop=stop)
            pages += 1
            next_cursor = doc.get("next_cursor")
            has_records = bool(doc.get("records"))
            del doc  # a parsed page is large: never hold it while waiting to hand over raw
            if next_cursor is not None and next_cursor == cursor:
                msg = (
                    f"{what}: page {pages} returned the same cursor it was fetched with; "
                    "following it would loop forever."
                )
                raise RepeatedCursorError(msg)
            if has_records:
                yield raw
            del raw  # let the consumer free the page while the next one is fetched
            if next_cursor is None:
                return
            cursor = next_cursor

    # -- one call with retries -------------------------------------------------------

    def call(
        self,
        method: str,
        url: str,
        *,
        what: str,
        body: dict[str, t.Any] | None = None,
        cursor_page: bool = False,
        stop: threading.Event | None = None,
        max_retries: int | None = None,
        ok_statuses: frozenset[str] = _SUCCESS,
        not_ready: NotReadyCheck | None = None,
    ) -> tuple[dict[str, t.Any], bytes]:
        """Send one logical request, retrying transient failures; return (JSON body, raw bytes).

        A 2xx answer whose ``status`` is in ``ok_statuses`` is returned. With ``not_ready``, any
        other answer it recognises raises NotReadyError at once (before any retry): CleverTap
        answers HTTP 409 or 500 for a campaign report that does not exist yet.
        """
        limit = self.settings.max_retries if max_retries is None else max_retries
        transient = 0
        in_progress = 0
        while True:
            if stop is not None and stop.is_set():
                raise Cancelled
            try:
                response = self._send(method, url, body)
            except NETWORK_ERRORS as exc:
                transient += 1
                if transient > limit:
                    host = urlsplit(url).hostname
                    msg = (
                        f"{what}: could not reach CleverTap at {host} after {transient} "
                        f"attempts ({type(exc).__name__}). Check the region/api_url setting "
                        "and the network."
                    )
                    raise CleverTapConnectionError(msg) from None
                self._wait(what, f"{type(exc).__name__}", transient, limit, None, stop)
                continue

            status = response.status_code
            content = response.content
            if 300 <= status < 400:
                msg = (
                    f"{what}: {redirect_summary(response)}. Redirects are not followed: they "
                    "would send the passcode to another address. Set region (or api_url) to the "
                    "address of your CleverTap dashboard's region."
                )
                raise CleverTapEndpointError(msg)
            if not_ready is not None and status >= 400:
                reason = not_ready(status, _json(content) or {})
                if reason:
                    raise NotReadyError(f"{what}: {reason}")
            if status == 429 or status >= 500:
                transient += 1
                if transient > limit:
                    msg = (
                        f"{what}: CleverTap kept failing with HTTP {status} after {transient} "
                        f"attempts: {_text(content)}"
                    )
                    raise CleverTapError(msg)
                retry_after = parse_retry_after(
                    response.headers.get("Retry-After"), cap=_MAX_RETRY_AFTER
                )
                self._wait(what, f"HTTP {status}", transient, limit, retry_after, stop)
                continue
            if status == 202:
                in_progress = self._in_progress(what, in_progress, stop)
                continue

            if cursor_page and status == 200 and (envelope := page_envelope(content)):
                # Workers only need the cursor: parsing a 50 MB page twice (here and when it
                # is emitted) would double the CPU and hold a second parsed page in memory.
                return envelope, content
            doc = _json(content)
            if doc is None:
                if status < 400:
                    # A 2xx body that is not JSON is a truncated transfer: retry it.
                    transient += 1
                    if transient > limit:
                        msg = f"{what}: CleverTap answered HTTP {status} with a non-JSON body."
                        raise CleverTapError(msg)
                    self._wait(what, "non-JSON body", transient, limit, None, stop)
                    continue
                doc = {}
            status_field = doc.get("status")
            error = _error_text(doc)
            code = doc.get("code")
            if status < 400 and status_field in ok_statuses:
                return doc, content
            if not_ready is not None and (reason := not_ready(status, doc)):
                raise NotReadyError(f"{what}: {reason}")
            if code == 2 or "still in progress" in error.lower():
                in_progress = self._in_progress(what, in_progress, stop)
                continue
            raise _classify(what, status, code, error, content, cursor_page=cursor_page)

    def _send(self, method: str, url: str, body: dict[str, t.Any] | None) -> requests.Response:
        session = self._sessions.get()
        headers = dict(self._headers)
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = orjson.dumps(body)
        prepared = session.prepare_request(
            requests.Request(method, url, headers=headers, data=data)
        )
        # requests re-quotes URLs; the cursor must reach CleverTap byte for byte.
        prepared.url = url
        with self.limiter:
            response = session.send(
                prepared, timeout=self.settings.request_timeout, allow_redirects=False
            )
            _ = response.content  # read the body while holding the slot
        self._note_server_clock(response.headers.get("Date"))
        return response

    def server_now(self) -> dt.datetime | None:
        """CleverTap's current time, from the Date header of the latest response (None if none)."""
        with self._clock_lock:
            if self._server_clock is None:
                return None
            server_time, seen_at = self._server_clock
        return server_time + dt.timedelta(seconds=time.monotonic() - seen_at)

    def _note_server_clock(self, header: str | None) -> None:
        if not header:
            return
        try:
            server_time = email.utils.parsedate_to_datetime(header)
        except (TypeError, ValueError):
            return
        if server_time.tzinfo is None:
            server_time = server_time.replace(tzinfo=dt.UTC)
        with self._clock_lock:
            self._server_clock = (server_time, time.monotonic())

    def _in_progress(self, what: str, attempts: int, stop: threading.Event | None) -> int:
        attempts += 1
        limit = self.settings.in_progress_retries
        if attempts > limit:
            msg = (
                f"{what}: CleverTap still answered 'Request still in progress' after "
                f"{attempts} attempts (in_progress_retries={limit})."
            )
            raise CleverTapError(msg)
        self._wait(what, "request still in progress", attempts, limit, None, stop)
        return attempts

    def _wait(  # noqa: PLR0917
        self,
        what: str,
        reason: str,
        attempt: int,
        limit: int,
        retry_after: float | None,
        stop: threading.Event | None,
    ) -> None:
        if retry_after is not None:
            wait = retry_after
        else:
            base = self.settings.retry_initial_wait * 2 ** (attempt - 1)
            wait = min(base, self.settings.retry_max_wait) * random.uniform(0.75, 1.0)
        logger.warning("%s: %s; retry %d of %d in %.2f s", what, reason, attempt, limit, wait)
        if stop is not None:
            if stop.wait(wait):
                raise Cancelled
        else:
            time.sleep(wait)


def check_connection(client: CleverTapClient) -> str:
    """One cheap call that tells wrong credentials from a wrong host; returns a summary line."""
    doc = client.get_schema("events", max_retries=1)
    events = doc.get("events")
    count = len(events) if isinstance(events, list | dict) else 0
    return (
        f"Connected to CleverTap at {client.settings.base_url} as account "
        f"{client.settings.account_id}: credentials accepted, {count} events in the schema."
    )


def page_envelope(content: bytes) -> dict[str, t.Any] | None:
    """A successful data page's envelope read from its first and last members, or None.

    Returns ``{"status": "success", "next_cursor": ..., "records": [...]}`` where ``records`` only
    tells whether the page has any (``[True]``) or none (``[]``); None means "parse it in full".
    """
    if len(content) < _PAGE_SCAN_MIN_BYTES:
        return None
    head = _PAGE_HEAD.match(content)
    if head is None or _PAGE_TAIL.search(content, len(content) - 64) is None:
        return None
    return {
        "status": "success",
        "next_cursor": head.group(1).decode("ascii"),
        "records": [] if head.group(2) else [True],
    }


def _classify(
    what: str, status: int, code: t.Any, error: str, content: bytes, *, cursor_page: bool
) -> CleverTapError:
    lowered = error.lower()
    detail = error or _text(content)
    if status in {401, 403}:
        return CleverTapAuthError(
            f"{what}: CleverTap rejected the credentials (HTTP {status}: {detail}). Check "
            "account_id and passcode, and that region/api_url points at the project's "
            "data centre (a wrong region also answers 401)."
        )
    if status == 404:
        return CleverTapEndpointError(
            f"{what}: HTTP 404 from the API host: it does not serve the CleverTap API. "
            "Check the region (the sub-domain of your dashboard URL) or api_url."
        )
    if "export not allowed" in lowered:
        return UnexportableEventError(f"{what}: CleverTap said: {detail}")
    if "invalid event" in lowered:
        return InvalidEventError(f"{what}: CleverTap said: {detail}")
    if cursor_page and (code == 3 or any(h in lowered for h in _CURSOR_ERROR_HINTS)):
        return CursorExpiredError(detail)
    if "req_id" in lowered:
        return RequestIdExpiredError(f"{what}: CleverTap said: {detail}")
    return CleverTapError(f"{what}: CleverTap answered HTTP {status}, code {code!r}: {detail}")


def _json(content: bytes) -> dict[str, t.Any] | None:
    try:
        doc = orjson.loads(content)
    except orjson.JSONDecodeError:
        return None
    return doc if isinstance(doc, dict) else {}


def _error_text(doc: dict[str, t.Any]) -> str:
    error = doc.get("error", doc.get("message", ""))
    if isinstance(error, list):
        return "; ".join(str(e) for e in error)
    return str(error) if error else ""


def _text(content: bytes, limit: int = 300) -> str:
    text = content[:limit].decode("utf-8", "replace")
    return text + ("..." if len(content) > limit else "")


def _brief(doc: dict[str, t.Any]) -> str:
    return _text(orjson.dumps({k: v for k, v in doc.items() if k != "records"}))


def _day(day: dt.date) -> str:
    return day.isoformat()
