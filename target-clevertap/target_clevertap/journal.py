"""The delivery journal: which uploads CleverTap already has, so a re-run does not double them.

CleverTap keeps every event it receives, duplicates included, and has no idempotency key. After a
crash the tap re-sends everything since the last STATE, so the target must remember what it
delivered. Each non-idempotent upload (every event; profile updates with $incr/$decr/$add/$remove)
is keyed by a content fingerprint and goes through two states:

* ``pending``   written (and committed) right before its batch is sent;
* ``delivered`` written once CleverTap confirmed the batch.

A rejected upload is forgotten (CleverTap did not store it). An entry still ``pending`` from an
earlier run was in flight when that run died: CleverTap may or may not have it. The caller decides
what to do with it (setting ``journal_uncertain``). SQLite in WAL mode with synchronous=FULL makes
each commit survive a killed process and a power cut; one connection behind a lock serves the
reader thread and the delivery lanes.
"""

from __future__ import annotations

import enum
import sqlite3
import threading
import time
import typing as t
from dataclasses import dataclass
from pathlib import Path

if t.TYPE_CHECKING:
    from collections.abc import Iterable

_SCHEMA = """
CREATE TABLE IF NOT EXISTS uploads (
    fingerprint BLOB PRIMARY KEY,
    state INTEGER NOT NULL,
    run INTEGER NOT NULL,
    at REAL NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_at ON uploads (at);
"""
_PENDING, _DELIVERED = 0, 1


class Seen(enum.Enum):
    """What the journal knows about a fingerprint."""

    NEW = "new"
    DELIVERED = "delivered"  # CleverTap confirmed it (this run or an earlier one)
    IN_THIS_RUN = "in_this_run"  # sent or being sent by this run
    UNCERTAIN = "uncertain"  # an earlier run sent it and died before the answer


@dataclass
class JournalStats:
    """Counts for the run summary."""

    entries_at_start: int = 0
    pending_at_start: int = 0
    pruned_at_start: int = 0
    marked_pending: int = 0
    marked_delivered: int = 0
    forgotten: int = 0


class DeliveryJournal:
    """A bounded SQLite set of upload fingerprints with their delivery state."""

    def __init__(self, path: str | Path, *, max_entries: int, max_age_days: float) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.run = time.time_ns() // 1000
        self.stats = JournalStats()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        self._prune(max_entries, max_age_days)
        (self.stats.entries_at_start,) = self._db.execute("SELECT count(*) FROM uploads").fetchone()
        (self.stats.pending_at_start,) = self._db.execute(
            "SELECT count(*) FROM uploads WHERE state = ?", (_PENDING,)
        ).fetchone()

    def _prune(self, max_entries: int, max_age_days: float) -> None:
        cutoff = time.time() - max_age_days * 86400
        with self._lock:
            removed = self._db.execute("DELETE FROM uploads WHERE at < ?", (cutoff,)).rowcount
            (count,) = self._db.execute("SELECT count(*) FROM uploads").fetchone()
            if count > max_entries:
                removed += self._db.execute(
                    "DELETE FROM uploads WHERE fingerprint IN "
                    "(SELECT fingerprint FROM uploads ORDER BY at LIMIT ?)",
                    (count - max_entries,),
                ).rowcount
        self.stats.pruned_at_start = removed

    def seen(self, fingerprint: bytes) -> Seen:
        """Whether this upload was delivered, is on its way, or was lost in a crash."""
        with self._lock:
            row = self._db.execute(
                "SELECT state, run FROM uploads WHERE fingerprint = ?", (fingerprint,)
            ).fetchone()
        if row is None:
            return Seen.NEW
        state, run = row
        if state == _DELIVERED:
            return Seen.DELIVERED
        return Seen.IN_THIS_RUN if run == self.run else Seen.UNCERTAIN

    def mark_pending(self, fingerprints: Iterable[bytes]) -> None:
        """Commit that these uploads are about to be sent (before the request goes out)."""
        self._write(fingerprints, _PENDING)

    def mark_delivered(self, fingerprints: Iterable[bytes]) -> None:
        """Commit that CleverTap confirmed these uploads."""
        self._write(fingerprints, _DELIVERED)

    def forget(self, fingerprints: Iterable[bytes]) -> None:
        """CleverTap refused these uploads: sending them again later is not a duplicate."""
        rows = [(fp,) for fp in fingerprints]
        if not rows:
            return
        with self._lock:
            self._db.executemany("DELETE FROM uploads WHERE fingerprint = ?", rows)
            self.stats.forgotten += len(rows)

    def _write(self, fingerprints: Iterable[bytes], state: int) -> None:
        now = time.time()
        rows = [(fp, state, self.run, now) for fp in fingerprints]
        if not rows:
            return
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                self._db.executemany(
                    "INSERT INTO uploads (fingerprint, state, run, at) VALUES (?, ?, ?, ?) "
                    "ON CONFLICT (fingerprint) DO UPDATE SET "
                    "state = excluded.state, run = excluded.run, at = excluded.at",
                    rows,
                )
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
            if state == _PENDING:
                self.stats.marked_pending += len(rows)
            else:
                self.stats.marked_delivered += len(rows)

    def counts(self) -> dict[str, int]:
        """Entries by state now."""
        with self._lock:
            rows = self._db.execute("SELECT state, count(*) FROM uploads GROUP BY state").fetchall()
        by_state = dict(rows)
        return {"pending": by_state.get(_PENDING, 0), "delivered": by_state.get(_DELIVERED, 0)}

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._db.close()
