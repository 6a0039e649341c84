"""Start-up settings of the sandbox, shared by the CLI, SandboxProcess and the pytest fixtures."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from datetime import date

FAULT_KINDS = ("5xx", "429", "reset", "slow", "in_progress", "stored_reset")


@dataclass(frozen=True)
class SandboxSettings:
    """Everything `api-sandbox serve` accepts; field names match the CLI options."""

    host: str = "127.0.0.1"
    clevertap_port: int = 8780
    segment_port: int = 8781
    account_id: str = "SANDBOX-ACCOUNT"
    extra_account_ids: tuple[str, ...] = ()
    passcode: str = "sandbox-passcode"
    write_key: str = "sandbox-write-key"
    seed: int = 42
    timezone: str = "Asia/Kolkata"
    today: date | None = None
    days: int = 14
    profiles: int = 500
    events_per_day: int = 40
    late_fraction: float = 0.0
    latency_ms: int = 0
    fault_5xx: float = 0.0
    fault_429: float = 0.0
    fault_reset: float = 0.0
    fault_slow: float = 0.0
    slow_ms: int = 3000
    fault_in_progress: float = 0.0
    fault_stored_reset: float = 0.0
    cursor_ttl_seconds: float = 3600.0
    stale_connection_seconds: float = 0.0
    segment_rate_limit: float = 0.0
    segment_dedup_hours: float = 24.0
    max_event_properties: int = 100
    allow_nested_objects: bool = False
    request_log_size: int = 1000
    request_log_mb: int = 128

    def __post_init__(self) -> None:
        """Reject impossible values early, naming the option and the rule."""
        for name in (
            "fault_5xx",
            "fault_429",
            "fault_reset",
            "fault_slow",
            "fault_in_progress",
            "fault_stored_reset",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be a probability between 0 and 1, got {value}")
        if not 0.0 <= self.late_fraction <= 1.0:
            raise ValueError(f"late_fraction must be between 0 and 1, got {self.late_fraction}")
        for name in (
            "days",
            "profiles",
            "events_per_day",
            "latency_ms",
            "slow_ms",
            "request_log_size",
            "request_log_mb",
        ):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.profiles < 1:
            raise ValueError("profiles must be at least 1 (events need someone to raise them)")
        if self.max_event_properties < 1:
            raise ValueError("max_event_properties must be at least 1")
        accounts = (self.account_id, *self.extra_account_ids)
        if len(set(accounts)) != len(accounts) or not all(
            a.strip() and "," not in a for a in accounts
        ):
            raise ValueError(
                f"account ids must be distinct, non-empty and without commas, got {list(accounts)}"
            )
        if min(self.cursor_ttl_seconds, self.segment_rate_limit, self.stale_connection_seconds) < 0:
            raise ValueError(
                "cursor_ttl_seconds, segment_rate_limit and stale_connection_seconds must be >= 0"
            )
        if self.segment_dedup_hours < 0:
            raise ValueError(f"segment_dedup_hours must be >= 0, got {self.segment_dedup_hours}")

    def fault_rates(self) -> dict[str, float]:
        """Start-up fault probabilities keyed by fault kind."""
        return {
            "5xx": self.fault_5xx,
            "429": self.fault_429,
            "reset": self.fault_reset,
            "slow": self.fault_slow,
            "in_progress": self.fault_in_progress,
            "stored_reset": self.fault_stored_reset,
        }

    def cli_args(self) -> list[str]:
        """The `api-sandbox serve` arguments that reproduce these settings."""
        args: list[str] = []
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            option = "--" + field.name.replace("_", "-")
            if isinstance(value, bool):
                if value:
                    args.append(option)
            elif isinstance(value, tuple):
                if value:
                    args += [option, ",".join(value)]
            elif value is not None:
                args += [option, value.isoformat() if isinstance(value, date) else str(value)]
        return args
