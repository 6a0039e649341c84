"""What the Segment emulator accepted, dropped and refused, deduplicated by messageId.

Segment keeps the messageIds it saw for a limited look-back (at least about 24 hours; its
"Duplicate data" guide, https://segment.com/docs/guides/duplicate-data/), so a message sent again
after that window is accepted again: a re-send a day later is a duplicate downstream. The window
is measured on the sandbox clock (which `set_today` moves) from the message's last acceptance.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import orjson


@dataclass
class SegmentStore:
    """Accepted messages by messageId plus the counters tests compare against."""

    #: Every accepted message in arrival order; a re-acceptance after the window gets its own key.
    messages: dict[str, bytes] = field(default_factory=dict)
    last_accepted: dict[str, float] = field(default_factory=dict)
    accepted_again: int = 0
    dropped: list[dict[str, Any]] = field(default_factory=list)
    received: int = 0
    duplicates: int = 0
    dropped_by_reason: Counter[str] = field(default_factory=Counter)
    bad_requests_by_reason: Counter[str] = field(default_factory=Counter)
    rate_limited: int = 0
    gzip_requests: int = 0
    batches: int = 0
    rate_window: int = 0
    rate_count: int = 0

    def drop(self, reason: str, message: object, received_at: str) -> None:
        """Record a message Segment would answer 200 for and then discard."""
        self.dropped_by_reason[reason] += 1
        self.dropped.append({"reason": reason, "message": message, "receivedAt": received_at})

    def accept(self, message: dict[str, Any], now: float, window_seconds: float) -> bool:
        """Store a message unless its messageId was accepted in the last ``window_seconds``.

        Kept as JSON bytes, so a long benchmark costs no garbage-collector time.
        """
        message_id = message["messageId"]
        last = self.last_accepted.get(message_id)
        if last is not None and now - last < window_seconds:
            self.duplicates += 1
            return False
        key = message_id
        if last is not None:
            self.accepted_again += 1
            key = f"{message_id}\x00{self.accepted_again}"
        self.last_accepted[message_id] = now
        self.messages[key] = orjson.dumps(message)
        return True

    def admit(self, now_second: int, limit: float) -> bool:
        """Fixed one-second window rate limit; False means answer 429."""
        if limit <= 0:
            return True
        if now_second != self.rate_window:
            self.rate_window, self.rate_count = now_second, 0
        self.rate_count += 1
        if self.rate_count > limit:
            self.rate_limited += 1
            return False
        return True

    def stats(self) -> dict[str, Any]:
        """Counters as plain JSON."""
        return {
            "received": self.received,
            "accepted": len(self.messages),
            "duplicates": self.duplicates,
            "accepted_again_after_window": self.accepted_again,
            "dropped": sum(self.dropped_by_reason.values()),
            "dropped_by_reason": dict(self.dropped_by_reason),
            "bad_requests_by_reason": dict(self.bad_requests_by_reason),
            "rate_limited": self.rate_limited,
            "gzip_requests": self.gzip_requests,
            "batches": self.batches,
        }
