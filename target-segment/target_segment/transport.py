"""Segment's ``/v1/batch`` endpoint as a transport of the shared delivery engine.

Which answers are retried follows Segment's own analytics-python 2.4 exactly: network errors, 408,
410, 429, 460 and 5xx except 501/505 are retried (honouring ``Retry-After``); 511 is retried by that
library only when OAuth is configured, which this target does not use, so it fails like the other
4xx. 400 means Segment refused something in the batch (a message over 32 KB, a body it cannot
parse): the engine bisects the batch until the refused message is alone and rejects only that one.
Redirects are never followed: requests would resend the write key (Basic auth and body) to wherever
``Location`` points, even over plain http, and turn a 302'd POST into a body-less GET whose 200
looks like a delivery; a 3xx stops the run instead.
"""

from __future__ import annotations

import base64
import datetime as dt
import gzip
import typing as t

import orjson
from clevertap_segment_common.delivery import BatchAnswer, Rejection, Verdict
from clevertap_segment_common.endpoints import redirect_summary
from clevertap_segment_common.http import parse_retry_after

if t.TYPE_CHECKING:
    from collections.abc import Sequence

    import requests
    from clevertap_segment_common.delivery import Item

MAX_REQUEST_BYTES: t.Final = 500_000  # "500 KB per batch request"; a body stays below this
MAX_BATCH_ITEMS: t.Final = 2_500  # more are dropped silently although the answer is 200
RETRYABLE_STATUSES: t.Final = frozenset({408, 410, 429, 460})
NOT_RETRYABLE_5XX: t.Final = frozenset({501, 505, 511})
_SENT_AT_PLACEHOLDER: t.Final = b"0000-00-00T00:00:00.000Z"
_BODY_END: t.Final = b'"}'
_FAIL_HINTS: t.Final = {
    401: "Segment refused the credentials: check write_key.",
    403: "Segment refused the credentials: check write_key and that the source is enabled.",
    404: "the endpoint does not exist: check region / api_url.",
    413: "the request was too large for Segment although it is below the documented limits.",
}


def sent_at_now() -> bytes:
    """The current time in the fixed-width form used for ``sentAt``."""
    now = dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds")
    return now.replace("+00:00", "Z").encode()


def _detail(response: requests.Response) -> str:
    """Segment's error text: JSON ``code``/``message`` (read as analytics-python does) or text."""
    try:
        payload = response.json()
    except ValueError:
        return response.text[:200].strip()
    if isinstance(payload, dict):
        parts = [str(payload[k]) for k in ("code", "message") if payload.get(k)]
        if parts:
            return ": ".join(parts)
    return str(payload)[:200]


class SegmentTransport:
    """Builds gzip'd, authenticated batch requests and classifies Segment's answers."""

    max_items = MAX_BATCH_ITEMS
    retry_count_header = "X-Retry-Count"

    def __init__(
        self,
        *,
        base_url: str,
        write_key: str,
        use_gzip: bool = True,
        timeout: float = 60.0,
        user_agent: str = "target-segment",
    ) -> None:
        self.url = f"{base_url}/v1/batch"
        self.use_gzip = use_gzip
        self.timeout = timeout
        # analytics-python 2.4 sends the key both ways: HTTP Basic (key as user, empty password)
        # and `writeKey` in the body.
        self._headers = {
            "Content-Type": "application/json",
            "Authorization": "Basic " + base64.b64encode(f"{write_key}:".encode()).decode(),
            "User-Agent": user_agent,
        }
        if use_gzip:
            self._headers["Content-Encoding"] = "gzip"
        self._prefix = b'{"batch":['
        self._suffix = (
            b'],"writeKey":' + orjson.dumps(write_key) + b',"sentAt":"' + _SENT_AT_PLACEHOLDER
        )
        envelope = len(self._prefix) + len(self._suffix) + len(_BODY_END)
        # Items may add up to this many bytes; the commas between them are counted too.
        self.max_bytes = MAX_REQUEST_BYTES - 1 - envelope - (MAX_BATCH_ITEMS - 1)

    def build_body(self, items: Sequence[Item]) -> tuple[bytes, dict[str, str]]:
        """The batch envelope; ``sentAt`` is filled in at each attempt by ``send``."""
        body = self._prefix + b",".join([item.payload for item in items]) + self._suffix + _BODY_END
        return body, self._headers

    def send(
        self, session: requests.Session, body: bytes, headers: dict[str, str]
    ) -> requests.Response:
        """POST with the real send time as ``sentAt`` (Segment's clock-skew correction uses it)."""
        cut = len(_SENT_AT_PLACEHOLDER) + len(_BODY_END)
        data = body[:-cut] + sent_at_now() + _BODY_END
        if self.use_gzip:
            data = gzip.compress(data, compresslevel=3, mtime=0)
        return session.post(
            self.url, data=data, headers=headers, timeout=self.timeout, allow_redirects=False
        )

    def read_answer(self, response: requests.Response, items: Sequence[Item]) -> BatchAnswer:
        """Apply analytics-python 2.4's retry table to Segment's status code."""
        _ = items
        status = response.status_code
        if 200 <= status < 300:
            return BatchAnswer(Verdict.DONE)
        if 300 <= status < 400:
            return BatchAnswer(
                Verdict.FAIL,
                f"{redirect_summary(response)}. Redirects are not followed: they would send the "
                "write key to another address, and a redirected batch may arrive as a GET that "
                "delivers nothing. Set api_url to the final URL.",
            )
        message = f"HTTP {status} from Segment: {_detail(response)}"
        if status == 400:
            return BatchAnswer(Verdict.SPLIT, message)
        server_error = 500 <= status < 600 and status not in NOT_RETRYABLE_5XX
        if status in RETRYABLE_STATUSES or server_error:
            return BatchAnswer(
                Verdict.RETRY, message, parse_retry_after(response.headers.get("Retry-After"))
            )
        hint = _FAIL_HINTS.get(status, "Segment does not accept this request; it is not retried.")
        return BatchAnswer(Verdict.FAIL, f"{message}. {hint}")

    def single_item_refusal(self, answer: BatchAnswer) -> Rejection:
        """A message Segment refuses even on its own (400)."""
        return Rejection(
            reason=(
                f"Segment refused this message on its own ({answer.message}); the rest of its "
                "batch was delivered."
            ),
            rule="refused_by_segment",
            code=400,
        )
