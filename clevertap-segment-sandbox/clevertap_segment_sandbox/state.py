"""Everything both emulators share in one process: settings, clock, seeded data, received data."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from clevertap_segment_sandbox.clevertap_store import UploadStore
from clevertap_segment_sandbox.clock import AccountClock
from clevertap_segment_sandbox.cursors import CursorCodec
from clevertap_segment_sandbox.prng import key64
from clevertap_segment_sandbox.request_log import RequestLog
from clevertap_segment_sandbox.seed_campaigns import (
    Campaign,
    Message,
    seed_campaigns,
    seed_messages,
)
from clevertap_segment_sandbox.seed_events import EventHistory
from clevertap_segment_sandbox.seed_profiles import ProfileFactory
from clevertap_segment_sandbox.segment_store import SegmentStore
from clevertap_segment_sandbox.traffic import ConcurrencyGate, FaultInjector, RequestCounter
from clevertap_segment_sandbox.upload_rules import UploadLimits

if TYPE_CHECKING:
    from collections.abc import Iterator

    from clevertap_segment_sandbox.settings import SandboxSettings

EXPORT_CONCURRENCY = 3
UPLOAD_CONCURRENCY = 15


@dataclass
class ServerTraffic:
    """Counters and controls of one emulated server.

    `gates` limit the whole server (Segment's); CleverTap limits each account separately
    (https://developer.clevertap.com/docs/api-request-limit), so its gates are in
    `account_gates`: account -> family -> gate.
    """

    faults: FaultInjector
    requests: RequestCounter = field(default_factory=RequestCounter)
    gates: dict[str, ConcurrencyGate] = field(default_factory=dict)
    account_gates: dict[str, dict[str, ConcurrencyGate]] = field(default_factory=dict)

    def all_gates(self) -> Iterator[ConcurrencyGate]:
        """Every gate of the server, server-wide and per account."""
        yield from self.gates.values()
        for gates in self.account_gates.values():
            yield from gates.values()


@dataclass
class CountPolls:
    """Asynchronous count results behind a req_id (bounded: oldest forgotten first)."""

    capacity: int = 10_000
    next_id: int = 0
    pending: dict[int, tuple[dict[str, Any], int]] = field(default_factory=dict)

    def submit(self, result: dict[str, Any]) -> int:
        """Store a finished result; it is revealed after one or two "partial" polls."""
        self.next_id += 1
        req_id = 1_000_000_000 + self.next_id * 7 + 3
        self.pending[req_id] = (result, 1 + self.next_id % 2)
        while len(self.pending) > self.capacity:
            del self.pending[next(iter(self.pending))]
        return req_id

    def poll(self, req_id: int) -> dict[str, Any] | None:
        """Answer "partial" until ready, then the result; None for an unknown req_id."""
        if req_id not in self.pending:
            return None
        result, remaining = self.pending[req_id]
        if remaining > 0:
            self.pending[req_id] = (result, remaining - 1)
            return {"status": "partial", "req_id": req_id}
        return result


class SandboxState:
    """Shared by both aiohttp apps; `reset()` forgets received data and runtime changes."""

    def __init__(self, settings: SandboxSettings) -> None:
        self.settings = settings
        self.clock = AccountClock(settings.timezone, settings.today, settings.days)
        self.profiles = ProfileFactory(
            settings.seed, settings.profiles, self.clock.epoch(self.clock.start_today, 0)
        )
        self.history = EventHistory(
            settings.seed,
            self.clock,
            self.profiles,
            settings.events_per_day,
            settings.late_fraction,
        )
        self.campaigns: tuple[Campaign, ...] = seed_campaigns(
            settings.seed, self.clock.start_today, self.clock.first_day
        )
        self.messages: tuple[Message, ...] = seed_messages(
            settings.seed, self.clock.start_today, self.clock.first_day
        )
        secret = hashlib.sha256(f"{settings.seed}|{settings.account_id}".encode()).digest()
        self.cursors = CursorCodec(secret)
        self.limits = UploadLimits(settings.max_event_properties, settings.allow_nested_objects)
        # Every account is served the same seeded data; each has its own limits and counters.
        self.account_ids = (settings.account_id, *settings.extra_account_ids)
        self.traffic = {
            "clevertap": ServerTraffic(
                self._fault_injector("clevertap"),
                account_gates={
                    account: {
                        "export": ConcurrencyGate(EXPORT_CONCURRENCY),
                        "upload": ConcurrencyGate(UPLOAD_CONCURRENCY),
                    }
                    for account in self.account_ids
                },
            ),
            "segment": ServerTraffic(
                self._fault_injector("segment"), gates={"api": ConcurrencyGate(0)}
            ),
        }
        self.reset()

    def reset(self) -> None:
        """Clear received data and counters; restore start-up clock, faults, latency and limits."""
        settings = self.settings
        self.clock.reset()
        self.cursor_ttl_seconds = settings.cursor_ttl_seconds
        self.segment_rate_limit = settings.segment_rate_limit
        self.uploads = UploadStore()
        self.segment = SegmentStore()
        self.polls = CountPolls()
        secrets = (settings.passcode, settings.write_key)
        self.request_logs = {
            server: RequestLog(
                settings.request_log_size, settings.request_log_mb * 1024 * 1024, secrets
            )
            for server in ("clevertap", "segment")
        }
        self.chains_in_flight: set[int] = set()
        # Last activity per client connection (peer address), for stale_connection_seconds.
        self.connection_activity: dict[object, float] = {}
        self.stale_connection_resets = 0
        self.cursor_stats = dict.fromkeys(
            ("opened", "pages_served", "records_served", "expired", "invalid", "chain_overlaps"), 0
        )
        for server, traffic in self.traffic.items():
            traffic.faults = self._fault_injector(server)
            traffic.requests = RequestCounter()
            for gate in traffic.all_gates():
                gate.reset_counters()

    def _fault_injector(self, server: str) -> FaultInjector:
        settings = self.settings
        return FaultInjector(
            key64(settings.seed, "faults", server),
            settings.fault_rates(),
            settings.slow_ms,
            settings.latency_ms,
        )
