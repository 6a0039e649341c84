"""Retry timing shared by every HTTP call the connectors make.

The schedule follows Segment's analytics-python 2.4 policy (first retry immediately, then
exponential from 0.5 s capped at 60 s, 0-10 % jitter) because it is the most careful public
statement of what a loader should do; server-provided ``Retry-After`` waits do not consume the retry
budget.
"""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how long to retry one batch before giving up."""

    max_retries: int = 10
    base_delay: float = 0.5
    max_delay: float = 60.0
    max_total_seconds: float = 1800.0
    jitter: float = 0.1

    def backoff(self, attempt: int) -> float:
        """Seconds to wait before retry number ``attempt`` (1-based)."""
        if attempt <= 1:
            return 0.0
        delay = min(self.base_delay * 2.0 ** (attempt - 2), self.max_delay)
        return delay * (1 + random.uniform(0, self.jitter))
