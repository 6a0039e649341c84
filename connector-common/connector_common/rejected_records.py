"""The rejected-records output: every record a target could not deliver, with the reason, as JSONL.

Delivered + rejected = received is the invariant the run summary checks, so this file is flushed to
disk before the target emits STATE.
"""

from __future__ import annotations

import datetime
import os
import threading
import typing as t
from pathlib import Path

import orjson

from connector_common.redaction import SecretScrubber

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
    ) -> None:
        """Record why one input record was not delivered."""
        line = orjson.dumps(
            {
                "stream": stream,
                "rule": rule,
                "reason": reason,
                "field": field,
                "code": code,
                "rejected_at": datetime.datetime.now(datetime.UTC).isoformat(),
                "record": record,
            },
            default=str,
            option=orjson.OPT_NON_STR_KEYS,
        )
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
