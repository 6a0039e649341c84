"""A bounded log of the API requests one emulator received and what it answered.

Tests need the exact payloads, including requests the vendor would refuse (400) and records it
rejects, which the parsed stores cannot show. Entries keep references to the body bytes the
server already holds (no copies); they become JSON only when someone reads the log. Auth headers
are never kept, and secrets that reach a body or path are redacted before an entry is stored.
"""

from __future__ import annotations

import base64
import re
from collections import deque
from dataclasses import dataclass
from typing import Any

REDACTED = b"[redacted]"
# A writeKey in a Segment body may be one the sandbox does not know (a user's real key).
WRITE_KEY_VALUE = re.compile(rb'("writeKey"\s*:\s*")(?:[^"\\]|\\.)*(")')


@dataclass(slots=True)
class LoggedRequest:
    """One request as received (after gzip decoding) and the answer sent."""

    seq: int
    time: float
    method: str
    path: str
    body: bytes | None
    content_encoding: str | None
    auth_accepted: bool | None
    status: int
    response: bytes | None
    redacted: bool

    def size(self) -> int:
        """Bytes this entry keeps alive (the two bodies)."""
        return len(self.body or b"") + len(self.response or b"")


def _text(data: bytes | None) -> tuple[str | None, str | None]:
    if data is None:
        return None, None
    try:
        return data.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        return base64.b64encode(data).decode("ascii"), "base64"


class RequestLog:
    """The last `capacity` requests, and at most `max_bytes` of bodies (0 = no byte bound).

    The newest entry is always kept, even when it alone is larger than `max_bytes`.
    """

    def __init__(self, capacity: int, max_bytes: int, secrets: tuple[str, ...]) -> None:
        self.capacity = capacity
        self.max_bytes = max_bytes
        self.recorded = 0
        self.retained_bytes = 0
        self.entries: deque[LoggedRequest] = deque()
        self._secret_texts = tuple(secret for secret in secrets if secret)
        self._secrets = tuple(secret.encode() for secret in self._secret_texts)

    @property
    def enabled(self) -> bool:
        """False when started with a log size of 0."""
        return self.capacity > 0

    def _redact(self, data: bytes, write_key_field: bool) -> bytes:
        for secret in self._secrets:
            if secret in data:
                data = data.replace(secret, REDACTED)
        if write_key_field:
            data = WRITE_KEY_VALUE.sub(rb"\1[redacted]\2", data)
        return data

    def record(
        self,
        *,
        time: float,
        method: str,
        path: str,
        body: bytes | None,
        content_encoding: str | None,
        auth_accepted: bool | None,
        status: int,
        response: bytes | None,
        write_key_field: bool,
    ) -> None:
        """Append one request, redacting secrets and evicting the oldest entries over a bound.

        `write_key_field`: the body may hold a "writeKey" (a regex pass, so only when it might).
        """
        if not self.enabled:
            return
        redacted = False
        for secret in self._secret_texts:
            if secret in path:
                path, redacted = path.replace(secret, REDACTED.decode()), True
        if body:
            clean = self._redact(body, write_key_field)
            redacted = redacted or clean is not body
            body = clean
        if response and redacted:
            # A sandbox response only echoes what the request carried.
            response = self._redact(response, write_key_field)
        self.recorded += 1
        entry = LoggedRequest(
            self.recorded,
            time,
            method,
            path,
            body,
            content_encoding,
            auth_accepted,
            status,
            response,
            redacted,
        )
        self.entries.append(entry)
        self.retained_bytes += entry.size()
        entries = self.entries
        while len(entries) > self.capacity or (
            self.max_bytes and self.retained_bytes > self.max_bytes and len(entries) > 1
        ):
            self.retained_bytes -= entries.popleft().size()

    def view(self, since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Entries with seq > since, oldest first, as plain JSON."""
        selected = [entry for entry in self.entries if entry.seq > since]
        if limit is not None:
            selected = selected[:limit]
        result = []
        for entry in selected:
            body, body_encoding = _text(entry.body)
            response, response_encoding = _text(entry.response)
            result.append(
                {
                    "seq": entry.seq,
                    "time": entry.time,
                    "method": entry.method,
                    "path": entry.path,
                    "content_encoding": entry.content_encoding,
                    "auth_accepted": entry.auth_accepted,
                    "body": body,
                    "body_encoding": body_encoding,
                    "status": entry.status,
                    "response": response,
                    "response_encoding": response_encoding,
                    "redacted": entry.redacted,
                }
            )
        return result
