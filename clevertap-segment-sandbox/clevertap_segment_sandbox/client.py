"""Typed access to the `/_sandbox` inspection endpoints of a running sandbox."""

from __future__ import annotations

import base64
from datetime import date
from typing import TYPE_CHECKING, Any

import requests

if TYPE_CHECKING:
    from collections.abc import Sequence

FAULT_OPTIONS = {
    "fault_5xx": "5xx",
    "fault_429": "429",
    "fault_reset": "reset",
    "fault_slow": "slow",
    "fault_in_progress": "in_progress",
    "fault_stored_reset": "stored_reset",
}


def _day(value: date | int | str) -> str:
    if isinstance(value, date):
        return value.strftime("%Y%m%d")
    return str(value).replace("-", "")


class SandboxClient:
    """Ground truth, received data and runtime knobs of one sandbox (both servers)."""

    def __init__(self, clevertap_url: str, segment_url: str, timeout: float = 60.0) -> None:
        self.clevertap_url = clevertap_url.rstrip("/")
        self.segment_url = segment_url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()

    def _url(self, server: str, path: str) -> str:
        base = self.segment_url if server == "segment" else self.clevertap_url
        return f"{base}/_sandbox/{path}"

    def _get(self, path: str, server: str = "clevertap", **params: Any) -> Any:
        response = self._session.get(self._url(server, path), params=params, timeout=self.timeout)
        response.raise_for_status()
        return response.json()

    def _post(self, path: str, body: dict[str, Any], server: str = "clevertap") -> Any:
        response = self._session.post(self._url(server, path), json=body, timeout=self.timeout)
        if response.status_code == 400:
            raise ValueError(response.json().get("error", response.text))
        response.raise_for_status()
        return response.json()

    def close(self) -> None:
        """Close the HTTP session."""
        self._session.close()

    def health(self, server: str = "clevertap") -> dict[str, Any]:
        """{"status": "ok", "server": ...} when the server answers."""
        result: dict[str, Any] = self._get("health", server)
        return result

    def reset(self) -> None:
        """Forget everything received and all counters; restore start-up clock, faults, limits.

        The seed (and so every seeded record) stays the same.
        """
        self._post("reset", {})

    def config(self) -> dict[str, Any]:
        """Runtime configuration: today, cursor TTL, Segment rate limit, faults per server."""
        result: dict[str, Any] = self._get("config")
        return result

    def set_faults(
        self,
        *,
        server: str = "both",
        fault_5xx: float | None = None,
        fault_429: float | None = None,
        fault_reset: float | None = None,
        fault_slow: float | None = None,
        fault_in_progress: float | None = None,
        fault_stored_reset: float | None = None,
        slow_ms: int | None = None,
    ) -> dict[str, Any]:
        """Set fault probabilities (only those given) on "clevertap", "segment" or "both"."""
        given = {
            "fault_5xx": fault_5xx,
            "fault_429": fault_429,
            "fault_reset": fault_reset,
            "fault_slow": fault_slow,
            "fault_in_progress": fault_in_progress,
            "fault_stored_reset": fault_stored_reset,
        }
        rates = {FAULT_OPTIONS[k]: v for k, v in given.items() if v is not None}
        body: dict[str, Any] = {"server": server, "rates": rates}
        if slow_ms is not None:
            body["slow_ms"] = slow_ms
        result: dict[str, Any] = self._post("faults", body)
        return result

    def set_latency(self, ms: int, *, server: str = "both") -> None:
        """Latency added to every API call of the server(s)."""
        self._post("faults", {"server": server, "latency_ms": ms})

    def set_today(self, day: date | str) -> None:
        """Move the account's clock (YYYY-MM-DD); later days become available, none disappear."""
        value = day.isoformat() if isinstance(day, date) else day
        self._post("config", {"today": value})

    def set_cursor_ttl(self, seconds: float) -> None:
        """Export cursors older than this answer Incorrect Usage."""
        self._post("config", {"cursor_ttl_seconds": seconds})

    def set_segment_rate_limit(self, per_second: float) -> None:
        """Segment requests per second before 429 (0 = unlimited)."""
        self._post("config", {"segment_rate_limit": per_second})

    def seed_summary(self, *, event_profiles: bool = True) -> dict[str, Any]:
        """Ground truth of the seeded data.

        Records per exportable event and day that an export returns now, late records still
        pending, profile counts (per event when `event_profiles`), colliding name groups and
        campaigns with their report form.
        """
        result: dict[str, Any] = self._get(
            "seed/summary", event_profiles="1" if event_profiles else "0"
        )
        return result

    def seed_profile_count(
        self, event_name: str, from_day: date | int | str, to_day: date | int | str
    ) -> int:
        """Records a profiles export of this event and window returns right now."""
        result = self._get(
            "seed/profile-count",
            event_name=event_name,
            **{"from": _day(from_day), "to": _day(to_day)},
        )
        return int(result["count"])

    def seed_profile_object_ids(
        self, event_names: Sequence[str], from_day: date | int | str, to_day: date | int | str
    ) -> set[str]:
        """The objectIds of everyone who did any of these events in the window (profiles exports).

        The objectId is the top-level one, or `platformInfo[0].objectId` when a record has none.
        """
        result = self._get(
            "seed/profile-object-ids",
            event_name=list(event_names),
            **{"from": _day(from_day), "to": _day(to_day)},
        )
        return set(result["object_ids"])

    def seed_event_records(
        self, event_name: str, from_day: date | int | str, to_day: date | int | str
    ) -> list[dict[str, Any]]:
        """Raw seeded records of one event in the window, as an unfiltered export sees them now.

        Each: `day`, the profile's `objectId`, `identity` and `profileData`, `session_source` and
        `event_props` (for computing filtered exports independently of the sandbox's filters).
        """
        result = self._get(
            "seed/event-records",
            event_name=event_name,
            **{"from": _day(from_day), "to": _day(to_day)},
        )
        records: list[dict[str, Any]] = result["records"]
        return records

    def clevertap_stats(self) -> dict[str, Any]:
        """Requests by endpoint and status, 429s, max concurrency per family, cursors, uploads."""
        result: dict[str, Any] = self._get("clevertap/stats")
        return result

    def clevertap_account_gates(self) -> dict[str, dict[str, dict[str, int]]]:
        """Each account's concurrency gates: account -> family (export, upload) -> counters.

        Counters: limit, in_flight, max_concurrent, max_requested (the most calls open at once,
        refused ones included), rejected (429) and completed calls.
        """
        result: dict[str, dict[str, dict[str, int]]] = self.clevertap_stats()["accounts"]
        return result

    def clevertap_uploaded_events(self) -> list[dict[str, Any]]:
        """Events stored from /1/upload, duplicates included, in arrival order."""
        result: list[dict[str, Any]] = self._get("clevertap/events")
        return result

    def clevertap_profiles(self) -> list[dict[str, Any]]:
        """The merged profile store built from /1/upload."""
        result: list[dict[str, Any]] = self._get("clevertap/profiles")
        return result

    def clevertap_upload_log(self) -> list[dict[str, Any]]:
        """Each /1/upload request: record count, HTTP and body status, codes, dry run."""
        result: list[dict[str, Any]] = self._get("clevertap/upload-log")
        return result

    def segment_messages(self) -> list[dict[str, Any]]:
        """Accepted Segment messages, deduplicated by messageId."""
        result: list[dict[str, Any]] = self._get("segment/messages", "segment")
        return result

    def segment_stats(self) -> dict[str, Any]:
        """Received, accepted, duplicates, dropped and 400s by reason, 429s, gzip, batches."""
        result: dict[str, Any] = self._get("segment/stats", "segment")
        return result

    def segment_dropped(self) -> list[dict[str, Any]]:
        """Messages answered 200 and dropped, each {"reason", "message", "receivedAt"}."""
        result: list[dict[str, Any]] = self._get("segment/dropped", "segment")
        return result

    @staticmethod
    def logged_bytes(entry: dict[str, Any], field: str = "body") -> bytes | None:
        """The exact bytes of a request-log entry's `body` or `response` (undoing text/base64)."""
        value = entry[field]
        if value is None:
            return None
        if entry[f"{field}_encoding"] == "base64":
            return base64.b64decode(value)
        return str(value).encode("utf-8")

    def _requests(self, server: str, since: int, limit: int | None) -> list[dict[str, Any]]:
        params: dict[str, Any] = {"since": since}
        if limit is not None:
            params["limit"] = limit
        result: list[dict[str, Any]] = self._get(f"{server}/requests", server, **params)["requests"]
        return result

    def clevertap_requests(self, since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Logged CleverTap API requests with seq > since, oldest first (see the README).

        Each: seq, time, method, path (with query, as sent), content_encoding, auth_accepted,
        body / body_encoding ("utf-8" text or "base64"), status (0 = connection reset),
        response / response_encoding, redacted. `logged_bytes(entry)` gives the exact bytes.
        """
        return self._requests("clevertap", since, limit)

    def segment_requests(self, since: int = 0, limit: int | None = None) -> list[dict[str, Any]]:
        """Logged Segment API requests with seq > since, oldest first; bodies gzip-decoded."""
        return self._requests("segment", since, limit)
