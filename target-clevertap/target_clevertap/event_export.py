"""CleverTap's Get Events export, read by ``target-clevertap-resolve`` to find uploads in doubt.

The documented two-step flow (docs/clevertap-api.md, "Export APIs"): ``POST /1/events.json`` with
a query for one event name and a range of days in the project's timezone opens a cursor; ``GET
?cursor=`` pages follow ``next_cursor`` until it is absent. The cursor is appended verbatim (it
arrives percent-encoded). 429, 5xx, HTTP 202 and ``{"status":"fail","code":2}`` ("still in
progress") are retried on the shared ``RetryPolicy`` schedule (or ``Retry-After``); anything else
ends the read with ``ExportError``, and the caller counts the events it was looking for as still
unknown.
"""

from __future__ import annotations

import time
import typing as t

import orjson
from clevertap_segment_common.delivery.retry import RetryPolicy
from clevertap_segment_common.http import (
    NETWORK_ERRORS,
    ThreadSessions,
    parse_retry_after,
    user_agent,
)

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    import requests

EXPORT_PATH = "/1/events.json"
#: The documented maximum page size.
PAGE_SIZE = 5000


class ExportError(RuntimeError):
    """The export could not be read to the end; the message says why."""


class EventExport:
    """Reads every exported record of one event name over a range of days."""

    def __init__(
        self,
        base_url: str,
        *,
        account_id: str,
        passcode: str,
        timeout: float,
        max_retries: int,
    ) -> None:
        self.url = base_url + EXPORT_PATH
        self.timeout = timeout
        self.retry = RetryPolicy(max_retries=max_retries)
        self._sessions = ThreadSessions(self.url)
        self._headers = {
            "X-CleverTap-Account-Id": account_id,
            "X-CleverTap-Passcode": passcode,
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": user_agent("target-clevertap"),
        }

    def records(self, event_name: str, first_day: int, last_day: int) -> Iterator[dict[str, t.Any]]:
        """Exported records of ``event_name`` from ``first_day`` to ``last_day`` (YYYYMMDD)."""
        query = orjson.dumps({"event_name": event_name, "from": first_day, "to": last_day})
        opened = self._call(
            "POST", f"{self.url}?batch_size={PAGE_SIZE}&events=false&profile=false", query
        )
        cursor = opened.get("cursor") or opened.get("next_cursor")
        seen: set[str] = set()
        while cursor:
            if cursor in seen:
                msg = f"the export of {event_name!r} repeated a cursor"
                raise ExportError(msg)
            seen.add(cursor)
            page = self._call("GET", f"{self.url}?cursor={cursor}", None)
            yield from page.get("records") or ()
            cursor = page.get("next_cursor")

    def _call(self, method: str, url: str, body: bytes | None) -> dict[str, t.Any]:
        """One export call, retried while CleverTap says to wait or the network fails."""
        problem, wait = "", None
        attempts = self.retry.max_retries + 1
        for attempt in range(1, attempts + 1):
            time.sleep(self.retry.backoff(attempt) if wait is None else wait)
            try:
                response = self._sessions.get().request(
                    method,
                    url,
                    data=body,
                    headers=self._headers,
                    timeout=self.timeout,
                    allow_redirects=False,
                )
            except NETWORK_ERRORS as exc:
                problem, wait = f"network error: {type(exc).__name__}", None
                continue
            answer, problem, retryable = _read(response)
            if answer is not None:
                return answer
            if not retryable:
                raise ExportError(problem)
            wait = parse_retry_after(response.headers.get("Retry-After"))
        msg = f"CleverTap's export did not answer after {attempts} attempt(s): {problem}"
        raise ExportError(msg)


def _read(response: requests.Response) -> tuple[dict[str, t.Any] | None, str, bool]:
    """The body of a successful answer, or why not and whether it is worth asking again."""
    status = response.status_code
    try:
        body = orjson.loads(response.content)
    except orjson.JSONDecodeError:
        body = None
    if not isinstance(body, dict):
        body = None
    error = f"HTTP {status}" + (f" {body.get('error')}" if body and body.get("error") else "")
    if status in {202, 429} or status >= 500:
        return None, error, True
    if body is None or status != 200:
        return None, f"CleverTap's export answered {error}", False
    if body.get("status") == "fail":
        if body.get("code") == 2:
            return None, f"{error} (still in progress)", True
        return None, f"CleverTap's export answered {error}", False
    return body, "", False
