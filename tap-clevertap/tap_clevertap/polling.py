"""CleverTap's asynchronous counts: POST a query, then poll ``?req_id=`` until it is not partial.

Counts, profile counts and trends may answer ``{"status": "partial", "req_id": N}`` instead of the
result (docs/clevertap-api.md §3.2). The wait between polls starts at ``count_poll_interval`` and
doubles up to 30 s; the total wait is bounded by ``count_max_wait`` so a query that never
finishes fails the run with a clear message instead of hanging it.
"""

from __future__ import annotations

import logging
import time
import typing as t

from tap_clevertap.client import Cancelled
from tap_clevertap.errors import CleverTapError, CountTimeoutError, RequestIdExpiredError

if t.TYPE_CHECKING:
    import threading

    from tap_clevertap.client import CleverTapClient

logger = logging.getLogger("tap-clevertap.polling")

_SUCCESS_OR_PARTIAL = frozenset({"success", "partial"})
_MAX_POLL_WAIT = 30.0
#: Times a query is issued again after CleverTap forgot its req_id.
MAX_REISSUES = 3


def count_query(
    client: CleverTapClient,
    path: str,
    query: dict[str, t.Any],
    *,
    what: str,
    stop: threading.Event | None = None,
) -> dict[str, t.Any]:
    """The finished answer (``status: success``) of one asynchronous count query."""
    reissues = 0
    while True:
        doc = client.post(path, query, what=what, stop=stop, ok_statuses=_SUCCESS_OR_PARTIAL)
        try:
            return _wait_for(client, path, doc, what=what, stop=stop)
        except RequestIdExpiredError as exc:
            reissues += 1
            if reissues > MAX_REISSUES:
                msg = f"{exc} (the query was issued {reissues} times; giving up)"
                raise RequestIdExpiredError(msg) from None
            logger.warning("%s; issuing the query again (%d of %d)", exc, reissues, MAX_REISSUES)


def _wait_for(
    client: CleverTapClient,
    path: str,
    doc: dict[str, t.Any],
    *,
    what: str,
    stop: threading.Event | None,
) -> dict[str, t.Any]:
    settings = client.settings
    interval = settings.count_poll_interval
    deadline = time.monotonic() + settings.count_max_wait
    polls = 0
    while doc.get("status") == "partial":
        req_id = doc.get("req_id")
        if req_id is None or isinstance(req_id, bool | dict | list):
            msg = f"{what}: CleverTap answered 'partial' without a usable req_id: {doc!r:.200}"
            raise CleverTapError(msg)
        left = deadline - time.monotonic()
        if left <= 0:
            msg = (
                f"{what}: CleverTap had not finished the count after {polls} polls over "
                f"{settings.count_max_wait:g} s (req_id {req_id}). Raise count_max_wait, or run "
                "again later."
            )
            raise CountTimeoutError(msg)
        _sleep(min(interval, left), stop)
        interval = min(interval * 2, _MAX_POLL_WAIT)
        polls += 1
        doc = client.poll(path, req_id, what=what, stop=stop, ok_statuses=_SUCCESS_OR_PARTIAL)
    return doc


def _sleep(seconds: float, stop: threading.Event | None) -> None:
    if stop is None:
        time.sleep(seconds)
    elif stop.wait(seconds):
        raise Cancelled
