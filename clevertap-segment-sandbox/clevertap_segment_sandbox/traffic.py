"""Per-server traffic controls: concurrency gates, fault injection, latency and request counters."""

from __future__ import annotations

import random
from collections import defaultdict
from dataclasses import dataclass, field

from clevertap_segment_sandbox.settings import FAULT_KINDS


@dataclass
class ConcurrencyGate:
    """At most `limit` requests of one family in flight; remembers the highest levels seen.

    `max_observed` never exceeds the limit (the gate refuses the rest), so `max_requested` also
    counts refused requests: the most calls clients had open at once, i.e. whether they kept
    within the limit themselves.
    """

    limit: int
    in_flight: int = 0
    max_observed: int = 0
    max_requested: int = 0
    rejected: int = 0
    completed: int = 0

    def try_enter(self) -> bool:
        """Admit one request, or count a rejection when the family is full."""
        self.max_requested = max(self.max_requested, self.in_flight + 1)
        if self.limit and self.in_flight >= self.limit:
            self.rejected += 1
            return False
        self.in_flight += 1
        self.max_observed = max(self.max_observed, self.in_flight)
        return True

    def leave(self) -> None:
        """One admitted request finished."""
        self.in_flight -= 1
        self.completed += 1

    def reset_counters(self) -> None:
        """Forget the history but keep requests still in flight."""
        self.max_observed = self.max_requested = self.in_flight
        self.rejected = self.completed = 0

    def describe(self) -> dict[str, int]:
        """Plain-JSON view."""
        return {
            "limit": self.limit,
            "in_flight": self.in_flight,
            "max_concurrent": self.max_observed,
            "max_requested": self.max_requested,
            "rejected": self.rejected,
            "completed": self.completed,
        }


@dataclass
class FaultInjector:
    """Seeded random faults: the same seed and request order give the same faults."""

    seed: int
    rates: dict[str, float]
    slow_ms: int
    latency_ms: int
    injected: dict[str, int] = field(default_factory=lambda: dict.fromkeys(FAULT_KINDS, 0))
    _random: random.Random = field(init=False)

    def __post_init__(self) -> None:
        self._random = random.Random(self.seed)

    def draw(self, kinds: tuple[str, ...]) -> str | None:
        """The fault to inject into this request, if any (one draw per kind, in order)."""
        for kind in kinds:
            rate = self.rates.get(kind, 0.0)
            if rate > 0 and self._random.random() < rate:
                self.injected[kind] += 1
                return kind
        return None

    def pick(self, options: tuple[int, ...]) -> int:
        """A seeded choice (e.g. which 5xx status an injected server error uses)."""
        return self._random.choice(options)

    def configure(
        self,
        rates: dict[str, float] | None = None,
        slow_ms: int | None = None,
        latency_ms: int | None = None,
    ) -> None:
        """Change rates (only those given), slow duration or latency at runtime."""
        for kind, rate in (rates or {}).items():
            if kind not in FAULT_KINDS:
                raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
            if not 0.0 <= float(rate) <= 1.0:
                raise ValueError(f"fault rate for {kind!r} must be between 0 and 1, got {rate}")
            self.rates[kind] = float(rate)
        if slow_ms is not None:
            self.slow_ms = int(slow_ms)
        if latency_ms is not None:
            if int(latency_ms) < 0:
                raise ValueError("latency_ms must be >= 0")
            self.latency_ms = int(latency_ms)

    def describe(self) -> dict[str, object]:
        """Current configuration and what has been injected so far."""
        return {
            "rates": dict(self.rates),
            "slow_ms": self.slow_ms,
            "latency_ms": self.latency_ms,
            "injected": dict(self.injected),
        }


@dataclass
class RequestCounter:
    """Requests by "METHOD path" and HTTP status."""

    by_endpoint: defaultdict[str, defaultdict[str, int]] = field(
        default_factory=lambda: defaultdict(lambda: defaultdict(int))
    )

    def count(self, endpoint: str, status: int) -> None:
        """Record one answered request."""
        self.by_endpoint[endpoint][str(status)] += 1

    def total(self, status: int) -> int:
        """All requests answered with this status."""
        return sum(statuses.get(str(status), 0) for statuses in self.by_endpoint.values())

    def as_dict(self) -> dict[str, dict[str, int]]:
        """Plain-JSON view."""
        return {endpoint: dict(statuses) for endpoint, statuses in self.by_endpoint.items()}
