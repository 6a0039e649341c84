"""``GET /getSchema``: the read behind match_account and the connection check.

It creates nothing at CleverTap, so it is safe in dry runs and for ``--test``. 429, 5xx and
network errors are retried with the shared backoff (``Retry-After`` honoured); 401/403, 404, a
redirect (never followed: it would send the passcode elsewhere) or an answer that is not a schema
raise SchemaUnreadable saying which.
"""

from __future__ import annotations

import time
import typing as t
from dataclasses import dataclass, field

from clevertap_segment_common.delivery import RetryPolicy
from clevertap_segment_common.http import (
    NETWORK_ERRORS,
    ThreadSessions,
    parse_retry_after,
    user_agent,
)

from target_clevertap.transport import redirect_refusal

if t.TYPE_CHECKING:
    import requests

SCHEMA_PATH = "/getSchema"
SchemaKind = t.Literal["events", "userProperties"]
Problem = t.Literal["refused", "forbidden", "missing", "redirected", "unreachable", "unexpected"]


class SchemaUnreadable(RuntimeError):
    """The schema could not be read; ``problem`` says why in one word, the message in full."""

    def __init__(self, problem: Problem, message: str) -> None:
        super().__init__(message)
        self.problem = problem


@dataclass(frozen=True)
class SchemaReader:
    """Reads one account's schema from one base URL."""

    base_url: str
    account_id: str
    passcode: str
    timeout: float
    max_retries: int = 5
    sessions: ThreadSessions = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sessions", ThreadSessions(self.base_url))

    def read(self, kind: SchemaKind) -> dict[str, t.Any]:
        """The answer of ``GET /getSchema?type=<kind>``."""
        url = f"{self.base_url}{SCHEMA_PATH}?type={kind}"
        what = f"GET {SCHEMA_PATH}?type={kind} at {self.base_url}"
        headers = {
            "X-CleverTap-Account-Id": self.account_id,
            "X-CleverTap-Passcode": self.passcode,
            "User-Agent": user_agent("target-clevertap"),
        }
        retry = RetryPolicy(max_retries=self.max_retries)
        attempt = 0
        while True:
            attempt += 1
            try:
                response = (
                    ThreadSessions(url)
                    .get()
                    .get(url, headers=headers, timeout=self.timeout, allow_redirects=False)
                )
            except NETWORK_ERRORS as exc:
                if attempt > retry.max_retries:
                    raise SchemaUnreadable(
                        "unreachable", f"{what} failed: {type(exc).__name__}"
                    ) from None
                time.sleep(retry.backoff(attempt))
                continue
            status = response.status_code
            if (status == 429 or status >= 500) and attempt <= retry.max_retries:
                wait = parse_retry_after(response.headers.get("Retry-After"))
                time.sleep(retry.backoff(attempt) if wait is None else wait)
                continue
            return _schema(response, what)


def _schema(response: requests.Response, what: str) -> dict[str, t.Any]:
    status = response.status_code
    try:
        body = response.json()
    except ValueError:
        body = None
    code = body.get("code") if isinstance(body, dict) else None
    if 300 <= status < 400:
        raise SchemaUnreadable("redirected", f"{what}: {redirect_refusal(response)}")
    if status == 403 or code == 403:
        raise SchemaUnreadable(
            "forbidden", f"{what} was refused as not allowed (HTTP {status}) for this passcode"
        )
    if status == 401 or code == 401:
        raise SchemaUnreadable(
            "refused", f"{what} was refused (HTTP {status}): account id or passcode not accepted"
        )
    if status == 404:
        raise SchemaUnreadable("missing", f"{what} answered HTTP 404 (no schema endpoint there)")
    if status != 200 or not isinstance(body, dict) or body.get("status") == "fail":
        error = body.get("error") if isinstance(body, dict) else None
        detail = f"HTTP {status}" + (f" {error}" if error else "")
        raise SchemaUnreadable("unexpected", f"{what} answered unexpectedly ({detail})")
    return body
