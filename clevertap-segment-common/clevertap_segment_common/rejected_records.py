"""The rejected-records output: every record a target could not deliver, with the reason, as JSONL.

Delivered + rejected = received is the invariant the run summary checks, so this file is flushed to
disk before the target emits STATE. Each line has a ``kind``: ``rejected_record`` (the record was
not delivered; the line holds it) or ``dropped_field`` (the record was delivered without one field
the vendor cannot take; the line holds that field's value and the record's key, not the record).
"""

from __future__ import annotations

import datetime
import os
import threading
import typing as t
from pathlib import Path

import orjson

from clevertap_segment_common.redaction import SecretScrubber

if t.TYPE_CHECKING:
    from types import TracebackType


class RejectedRecordsWriter:
    """Appends one JSON line per rejected record; thread-safe."""

    def __init__(
        self, path: str | os.PathLike[str], scrubber: SecretScrubber | None = None
    ) -> None:
        self.path = Path(path)
        self.count = 0
        self._scrubber = scrubber or SecretScrubber(())
        self._lock = threading.Lock()
        self._file: t.IO[bytes] | None = None

    def write(
        self,
        *,
        stream: str,
        record: t.Any,
        rule: str,
        reason: str,
        field: str | None = None,
        code: int | str | None = None,
        details: dict[str, t.Any] | None = None,
    ) -> None:
        """Record why one input record was not delivered (``details`` adds fields to the line)."""
        self._append(
            {
                "kind": "rejected_record",
                "stream": stream,
                "rule": rule,
                "reason": reason,
                "field": field,
                "code": code,
                "rejected_at": _now(),
                "record": record,
                **(details or {}),
            }
        )

    def write_dropped_field(
        self,
        *,
        stream: str,
        record_key: str | None,
        rule: str,
        reason: str,
        field: str | None,
        value: t.Any,
    ) -> None:
        """Record a field left out of a record that was delivered without it."""
        self._append(
            {
                "kind": "dropped_field",
                "stream": stream,
                "rule": rule,
                "reason": reason,
                "field": field,
                "record_key": record_key,
                "rejected_at": _now(),
                "value": value,
            }
        )

    def _append(self, entry: dict[str, t.Any]) -> None:
        line = orjson.dumps(entry, default=str, option=orjson.OPT_NON_STR_KEYS)
        line = self._scrubber.scrub_bytes(line) + b"\n"
        with self._lock:
            if self._file is None:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("ab")
            self._file.write(line)
            self.count += 1

    def flush(self) -> None:
        """Make everything written so far durable (called before STATE is emitted)."""
        with self._lock:
            if self._file is not None:
                self._file.flush()
                os.fsync(self._file.fileno())

    def close(self) -> None:
        """Flush and close the file."""
        self.flush()
        with self._lock:
            if self._file is not None:
                self._file.close()
                self._file = None

    def __enter__(self) -> RejectedRecordsWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat()
