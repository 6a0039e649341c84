"""The delivery journal: which uploads CleverTap already has, so a re-run does not double them.

CleverTap keeps every event it receives, duplicates included, and has no idempotency key. After a
crash the tap re-sends everything since the last STATE, so the target must remember what it
delivered. Each non-idempotent upload (every event; profile updates with $incr/$decr/$add/$remove)
is keyed by a content fingerprint and recorded with the request ("send") that carried it:

* ``pending``   the send and its fingerprints are committed right before the request goes out;
* ``delivered`` the send (one row per batch) is marked once CleverTap confirmed it.

A send's fingerprints are committed as one blob (``send_fingerprints``) and folded into the
indexed ``uploads`` table later, many sends in one sorted insert: every ``FOLD_ENTRIES`` uploads,
before pruning, and when the journal closes or opens (after a crash). Inserting each batch into
the index as it went out rewrote most of the index's pages at every commit: 11 µs of CPU per
upload with an empty journal, 34 µs with 2 million entries; folded, 6 and 10 µs (the journal
measure of bench/bench_target_clevertap.py). Until folded, a fingerprint is found through an
in-memory map of the unfolded sends (at most ``FOLD_ENTRIES`` entries, about 5 MB).

A rejected upload is forgotten (CleverTap did not store it). An entry still ``pending`` from an
earlier run was in flight when that run died: CleverTap may or may not have it. The caller decides
what to do with it (setting ``journal_uncertain``). SQLite in WAL mode with synchronous=FULL makes
each commit survive a killed process and a power cut; one connection behind a lock serves the
reader thread and the delivery lanes. A fixed-size Bloom filter in front of SQLite answers "never
seen" (almost every record) without a query, so memory stays flat however large the journal is.

The journal is bounded (``max_entries``, ``max_age_days``) when it opens and during the run: the
writer that marks a send pending first drops the oldest *delivered* sends when the new one would
pass ``max_entries`` (a tenth more than needed, so this happens once per ``max_entries / 10``
uploads), and those past the age limit once an hour. Pending entries (this run's in flight, and
earlier runs' uncertain ones) are never dropped during a run: they are what stops a duplicate
after a crash. An index on ``uploads(send)`` makes each drop cost what it removes.

``JournalPolicy`` is how the target uses the journal: the one interface its sinks and the delivery
engine's hooks call.
"""

from __future__ import annotations

import contextlib
import enum
import fcntl
import os
import sqlite3
import threading
import time
import typing as t
import weakref
from dataclasses import dataclass
from pathlib import Path

import orjson
from clevertap_segment_common.target_errors import RecordRejectedError

from target_clevertap.rules import DELIVERY_UNCERTAIN

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from clevertap_segment_common.delivery import Item

_SCHEMA = """
CREATE TABLE IF NOT EXISTS sends (
    id INTEGER PRIMARY KEY,
    run INTEGER NOT NULL,
    state INTEGER NOT NULL,
    at REAL NOT NULL
);
CREATE TABLE IF NOT EXISTS uploads (
    fingerprint BLOB PRIMARY KEY,
    send INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS uploads_by_send ON uploads (send);
CREATE TABLE IF NOT EXISTS send_fingerprints (
    send INTEGER PRIMARY KEY,
    fingerprints BLOB NOT NULL
);
"""
#: Uploads kept unfolded (in ``send_fingerprints`` and in memory) before a fold.
FOLD_ENTRIES = 50_000
_STATE_OF = (
    "SELECT s.state, s.run FROM uploads u JOIN sends s ON s.id = u.send WHERE u.fingerprint = ?"
)
_STATE_OF_SEND = "SELECT state, run FROM sends WHERE id = ?"
_UNFOLDED_SENDS = "SELECT send FROM send_fingerprints"
FINGERPRINT_BYTES = 16
# The unfolded uploads into the index in one statement, sorted by SQLite (an insert in key order
# writes each index page once). They arrive as two blobs: the fingerprints, 16 bytes each, and
# their sends' ids, 12 ASCII digits each. SQLite then runs without the GIL throughout, where
# executemany (or sorting in Python) holds it for every row, stalling the thread that reads input.
_SEND_FORMAT = b"%012d"  # 12 digits: room for 10^12 requests
_FOLD = """
WITH RECURSIVE row(n) AS (SELECT 0 UNION ALL SELECT n + 1 FROM row WHERE n + 1 < :count)
INSERT INTO uploads (fingerprint, send)
SELECT substr(:fingerprints, n * 16 + 1, 16), CAST(substr(:sends, n * 12 + 1, 12) AS INTEGER)
FROM row WHERE true ORDER BY 1
ON CONFLICT (fingerprint) DO UPDATE SET send = excluded.send
"""


_PENDING, _DELIVERED = 0, 1
# The send holding the N-th oldest delivered upload (N = OFFSET + 1): sends up to it are dropped.
_SIZE_BOUNDARY = (
    "SELECT s.id FROM sends s JOIN uploads u ON u.send = s.id WHERE s.state = 1 "
    "ORDER BY s.id LIMIT 1 OFFSET ?"
)
# Delivered sends up to the boundary or past the age limit, uploads first (through their index).
_DROP_UPLOADS = (
    "DELETE FROM uploads WHERE send IN "
    "(SELECT id FROM sends WHERE state = 1 AND (id <= :boundary OR at < :cutoff))"
)
_DROP_SENDS = "DELETE FROM sends WHERE state = 1 AND (id <= :boundary OR at < :cutoff)"
_PRUNE_SLACK = 0.1  # of max_entries, dropped beyond what the next send needs
_AGE_PRUNE_SECONDS = 3600.0
_BLOOM_BITS_PER_ENTRY = 10  # with 4 probes: about 1 % of new records cost a lookup
_BLOOM_MAX_BITS = 1 << 30


class _Bloom:
    """A set sketch of fingerprints: "absent" is certain, "present" must be confirmed."""

    def __init__(self, entries: int) -> None:
        bits = 1 << max(20, min(entries * _BLOOM_BITS_PER_ENTRY, _BLOOM_MAX_BITS).bit_length())
        self._mask = bits - 1
        self._bits = bytearray(bits // 8)

    # Fingerprints are uniform hash bytes already: four 32-bit slices are four probes. Written out
    # by hand: this runs for every record.

    def add(self, fingerprint: bytes) -> None:
        """Remember a fingerprint (callers serialize writes)."""
        value, mask, bits = int.from_bytes(fingerprint[:16], "little"), self._mask, self._bits
        probe = value & mask
        bits[probe >> 3] |= 1 << (probe & 7)
        probe = (value >> 32) & mask
        bits[probe >> 3] |= 1 << (probe & 7)
        probe = (value >> 64) & mask
        bits[probe >> 3] |= 1 << (probe & 7)
        probe = (value >> 96) & mask
        bits[probe >> 3] |= 1 << (probe & 7)

    def __contains__(self, fingerprint: bytes) -> bool:
        value, mask, bits = int.from_bytes(fingerprint[:16], "little"), self._mask, self._bits
        probe = value & mask
        if not bits[probe >> 3] & (1 << (probe & 7)):
            return False  # the usual answer for a new record: one probe
        for probe in ((value >> 32) & mask, (value >> 64) & mask, (value >> 96) & mask):
            if not bits[probe >> 3] & (1 << (probe & 7)):
                return False
        return True


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
    pruned_during_run: int = 0
    marked_pending: int = 0
    marked_delivered: int = 0
    forgotten: int = 0


class JournalBusyError(RuntimeError):
    """Another running target holds the journal (its in-flight uploads would look uncertain)."""


class DeliveryJournal:
    """A bounded SQLite set of upload fingerprints with the delivery state of their request."""

    def __init__(self, path: str | Path, *, max_entries: int, max_age_days: float) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._release_lock = self._lock_exclusively()
        self.run = time.time_ns() // 1000
        self.stats = JournalStats()
        self._lock = threading.Lock()
        self._db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
        # A run that fails never reaches close(): the connection still closes when the journal
        # is collected (Python 3.13 warns about a connection left open).
        self._close_db = weakref.finalize(self, self._db.close)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")
        self._db.execute("PRAGMA busy_timeout=10000")
        self._db.executescript(_SCHEMA)
        self._max_entries = max_entries
        self._max_age_seconds = max_age_days * 86400
        #: Fingerprint -> send for the sends not yet folded into ``uploads`` (this run's).
        self._unfolded: dict[bytes, int] = dict(unfolded_entries(self._db))
        #: Fingerprints in more than one unfolded send (sent again before a fold).
        self._resent: set[bytes] = set()
        self._fold_now()  # what a run that died left unfolded
        self.stats.pruned_at_start = self._prune(max_entries, max_age_days)
        self._bloom = _Bloom(max_entries)
        for (fingerprint,) in self._db.execute("SELECT fingerprint FROM uploads"):
            self._bloom.add(fingerprint)
        counts = self.counts()
        self.stats.entries_at_start = counts["pending"] + counts["delivered"]
        self.stats.pending_at_start = counts["pending"]
        # Rows in ``uploads``, or more (a re-sent fingerprint moves instead of adding a row).
        self._entries = self.stats.entries_at_start
        self._next_age_prune = time.monotonic() + _AGE_PRUNE_SECONDS

    def _lock_exclusively(self) -> weakref.finalize[[int], DeliveryJournal]:
        """One run per journal: a second one would take the first one's uploads for crashed ones.

        An OS lock on a side file, released by the kernel when the process dies (even SIGKILL),
        by ``close``, or when the journal is garbage-collected after a failed run.
        """
        lock_path = self.path.with_name(self.path.name + ".lock")
        descriptor = os.open(lock_path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(descriptor)
            msg = (
                f"Another target-clevertap run is using the delivery journal {self.path}. Give "
                "each pipeline that runs at the same time its own journal_path."
            )
            raise JournalBusyError(msg) from None
        return weakref.finalize(self, os.close, descriptor)

    def _prune(self, max_entries: int, max_age_days: float) -> int:
        """Drop whole sends, oldest first: past the age bound, then beyond the size bound."""
        db = self._db
        (before,) = db.execute("SELECT count(*) FROM uploads").fetchone()
        cutoff = time.time() - max_age_days * 86400
        with self._transaction():
            db.execute("DELETE FROM sends WHERE at < ?", (cutoff,))
            db.execute("DELETE FROM uploads WHERE send NOT IN (SELECT id FROM sends)")
            # The newest max_entries uploads stay; the send holding the next one goes, and all
            # before it.
            boundary = db.execute(
                "SELECT send FROM uploads ORDER BY send DESC LIMIT 1 OFFSET ?", (max_entries,)
            ).fetchone()
            if boundary is not None:
                db.execute("DELETE FROM uploads WHERE send <= ?", boundary)
                db.execute("DELETE FROM sends WHERE id <= ?", boundary)
            db.execute("DELETE FROM sends WHERE id NOT IN (SELECT send FROM uploads)")
        (after,) = db.execute("SELECT count(*) FROM uploads").fetchone()
        return int(before - after)

    @contextlib.contextmanager
    def _transaction(self) -> t.Iterator[None]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def _fold(self) -> None:
        """Move the unfolded sends' fingerprints into ``uploads`` (lock and transaction held).

        The caller calls ``_folded`` once the transaction committed.
        """
        unfolded = self._unfolded
        if unfolded:
            digits = {send: _SEND_FORMAT % send for send in set(unfolded.values())}
            self._db.execute(
                _FOLD,
                {
                    "count": len(unfolded),
                    "fingerprints": b"".join(unfolded),
                    "sends": b"".join(map(digits.__getitem__, unfolded.values())),
                },
            )
        self._db.execute("DELETE FROM send_fingerprints")

    def _fold_now(self) -> None:
        """Fold in a transaction of its own (lock held)."""
        if self._unfolded:
            with self._transaction():
                self._fold()
            self._folded()

    def _folded(self) -> None:
        """Nothing is unfolded any more (after the fold's transaction committed)."""
        self._unfolded.clear()
        self._resent.clear()

    def seen(self, fingerprint: bytes) -> Seen:
        """Whether this upload was delivered, is on its way, or was lost in a crash."""
        if fingerprint not in self._bloom:
            return Seen.NEW
        with self._lock:
            send = self._unfolded.get(fingerprint)
            if send is None:
                row = self._db.execute(_STATE_OF, (fingerprint,)).fetchone()
            else:
                row = self._db.execute(_STATE_OF_SEND, (send,)).fetchone()
        if row is None:
            return Seen.NEW
        state, run = row
        if state == _DELIVERED:
            return Seen.DELIVERED
        return Seen.IN_THIS_RUN if run == self.run else Seen.UNCERTAIN

    def mark_pending(self, fingerprints: Iterable[bytes]) -> int | None:
        """Commit that these uploads are about to be sent; the send's id (None if none)."""
        rows = list(fingerprints)
        if not rows:
            return None
        if any(len(fingerprint) != FINGERPRINT_BYTES for fingerprint in rows):
            msg = f"journal fingerprints are {FINGERPRINT_BYTES} bytes long"
            raise ValueError(msg)
        with self._lock:
            for fingerprint in rows:
                self._bloom.add(fingerprint)
            joined = b"".join(rows)
            with self._transaction():
                prune = self._prune_due(len(rows))
                folded = prune or len(self._unfolded) + len(rows) > FOLD_ENTRIES
                if folded:
                    self._fold()
                if prune:
                    self._bound_during_run(len(rows))
                send = t.cast(
                    "int",
                    self._db.execute(
                        "INSERT INTO sends (run, state, at) VALUES (?, ?, ?)",
                        (self.run, _PENDING, time.time()),
                    ).lastrowid,
                )
                self._db.execute(
                    "INSERT INTO send_fingerprints (send, fingerprints) VALUES (?, ?)",
                    (send, joined),
                )
            if folded:
                self._folded()
            else:
                self._resent.update(self._unfolded.keys() & rows)
            # Keys copied from the batch's blob, one after the other: the fingerprints the reader
            # made are scattered among records' short-lived objects of the same size, and keeping
            # them would pin those objects' memory pools (about 5x the map's own size).
            size = FINGERPRINT_BYTES
            keys = [joined[i : i + size] for i in range(0, len(joined), size)]
            self._unfolded.update(dict.fromkeys(keys, send))
            self.stats.marked_pending += len(rows)
            self._entries += len(rows)
        return send

    def _prune_due(self, incoming: int) -> bool:
        """Whether ``incoming`` more uploads pass ``max_entries`` or the hourly age check is due."""
        return (
            self._entries + incoming > self._max_entries or time.monotonic() >= self._next_age_prune
        )

    def _bound_during_run(self, incoming: int) -> None:
        """Make room for ``incoming`` uploads; hourly, drop aged sends.

        Lock and transaction held, everything folded (pruning must see every entry). Only
        delivered sends go, oldest first; if pending entries alone fill the journal, it grows
        past ``max_entries`` until they are settled.
        """
        excess = self._entries + incoming - self._max_entries
        aged = time.monotonic() >= self._next_age_prune
        db = self._db
        boundary = 0
        if excess > 0:
            excess += int(self._max_entries * _PRUNE_SLACK)
            row = db.execute(_SIZE_BOUNDARY, (excess - 1,)).fetchone()
            boundary = row[0] if row else db.execute("SELECT max(id) FROM sends").fetchone()[0]
        if aged:
            self._next_age_prune = time.monotonic() + _AGE_PRUNE_SECONDS
        doomed = {"boundary": boundary, "cutoff": time.time() - self._max_age_seconds}
        pruned = db.execute(_DROP_UPLOADS, doomed).rowcount
        db.execute(_DROP_SENDS, doomed)
        self.stats.pruned_during_run += pruned
        if excess > 0 and pruned:
            (self._entries,) = db.execute("SELECT count(*) FROM uploads").fetchone()  # exact again
        else:
            self._entries -= pruned

    def mark_delivered(self, sends: Iterable[int], count: int) -> None:
        """Commit that CleverTap confirmed the uploads of these sends (``count`` of them)."""
        ids = [(send,) for send in set(sends)]
        if not ids:
            return
        with self._lock, self._transaction():
            self._db.executemany(
                "UPDATE sends SET state = ?, at = ? WHERE id = ?",
                [(_DELIVERED, time.time(), send) for (send,) in ids],
            )
            self.stats.marked_delivered += count

    def record_delivered(self, fingerprints: Sequence[bytes]) -> None:
        """Uploads found in CleverTap after the fact: delivered, as if confirmed when sent."""
        send = self.mark_pending(fingerprints)
        if send is not None:
            self.mark_delivered([send], len(fingerprints))

    def forget(self, fingerprints: Iterable[bytes]) -> None:
        """CleverTap refused these uploads: sending them again later is not a duplicate."""
        rows = list(fingerprints)
        if not rows:
            return
        with self._lock:
            gone: dict[int, set[bytes]] = {}
            for fingerprint in rows:
                send = self._unfolded.get(fingerprint)
                if send is not None:
                    gone.setdefault(send, set()).add(fingerprint)
            doomed = set().union(*gone.values())
            if not self._resent.isdisjoint(doomed):
                # Sent again before a fold: earlier unfolded sends hold it too (rare).
                sends = [send for (send,) in self._db.execute(_UNFOLDED_SENDS)]
                gone = dict.fromkeys(sends, doomed)
            removed = 0
            with self._transaction():
                for send, leaving in gone.items():
                    removed += self._remove_unfolded(send, leaving)
                deleted = self._db.executemany(
                    "DELETE FROM uploads WHERE fingerprint = ?", [(fp,) for fp in rows]
                )
            for fingerprint in doomed:
                del self._unfolded[fingerprint]
            self._resent.difference_update(doomed)
            self.stats.forgotten += len(rows)
            self._entries -= deleted.rowcount + removed

    def _remove_unfolded(self, send: int, doomed: set[bytes]) -> int:
        """Rewrite an unfolded send without ``doomed``; returns how many went (transaction held)."""
        (blob,) = self._db.execute(
            "SELECT fingerprints FROM send_fingerprints WHERE send = ?", (send,)
        ).fetchone()
        size = FINGERPRINT_BYTES
        kept = [blob[i : i + size] for i in range(0, len(blob), size)]
        left = [fp for fp in kept if fp not in doomed]
        if len(left) == len(kept):
            return 0
        if left:
            self._db.execute(
                "UPDATE send_fingerprints SET fingerprints = ? WHERE send = ?",
                (b"".join(left), send),
            )
        else:
            self._db.execute("DELETE FROM send_fingerprints WHERE send = ?", (send,))
        return len(kept) - len(left)

    def counts(self) -> dict[str, int]:
        """Entries by state now (folding first)."""
        with self._lock:
            self._fold_now()
            rows = self._db.execute(
                "SELECT s.state, count(*) FROM uploads u JOIN sends s ON s.id = u.send "
                "GROUP BY s.state"
            ).fetchall()
        by_state = dict(rows)
        return {"pending": by_state.get(_PENDING, 0), "delivered": by_state.get(_DELIVERED, 0)}

    def close(self) -> None:
        """Checkpoint the WAL into the main file and close (again: no-op)."""
        with self._lock:
            if not self._release_lock.alive:
                return
            self._fold_now()
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self._close_db()
            self._release_lock()


def unfolded_entries(db: sqlite3.Connection) -> Iterable[tuple[bytes, int]]:
    """(fingerprint, send) of the sends not yet folded into ``uploads``, oldest send first."""
    size = FINGERPRINT_BYTES
    for send, blob in db.execute("SELECT send, fingerprints FROM send_fingerprints ORDER BY send"):
        for start in range(0, len(blob), size):
            yield blob[start : start + size], send


def entries_by_state(path: str | Path) -> dict[str, int]:
    """Entries by state in a journal file, read-only, while a run may hold it (tests, harness)."""
    with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        try:
            states = dict(db.execute("SELECT id, state FROM sends"))
            newest = dict(db.execute("SELECT fingerprint, send FROM uploads"))
            newest.update(unfolded_entries(db))
        except sqlite3.OperationalError:  # created, its tables not yet
            return {"pending": 0, "delivered": 0}
    counts = {_PENDING: 0, _DELIVERED: 0}
    for send in newest.values():
        if send in states:
            counts[states[send]] += 1
    return {"pending": counts[_PENDING], "delivered": counts[_DELIVERED]}


def uncertain_details(payload: bytes, fingerprint: bytes) -> dict[str, t.Any]:
    """The fields of a ``delivery_uncertain`` line that ``target-clevertap-resolve`` reads.

    The upload exactly as sent (the names CleverTap stored it under) and its journal key.
    """
    return {"upload": orjson.Fragment(payload), "fingerprint": fingerprint.hex()}


class JournalPolicy:
    """The journal as the target uses it: the one interface the sinks and the engine's hooks call.

    ``admit`` decides per record (``journal_uncertain`` for ones an earlier run left in doubt),
    ``before_send`` / ``delivered`` / ``forget`` record each batch's fate, ``unsafe_to_resend``
    names the uploads a retry after a send with no answer could double.
    """

    def __init__(
        self,
        journal: DeliveryJournal,
        *,
        uncertain: str,
        count_skipped: t.Callable[[str], None],
    ) -> None:
        self.journal = journal
        self.uncertain = uncertain
        self._count_skipped = count_skipped
        self._unsent: set[bytes] = set()
        self.uncertain_resent = 0

    def admit(self, fingerprint: bytes, stream: str, payload: bytes) -> bool:
        """Whether a non-idempotent upload (``payload`` as it would be sent) should be sent."""
        if fingerprint in self._unsent:
            self._count_skipped("duplicate_in_this_run")
            return False
        seen = self.journal.seen(fingerprint)
        if seen is not Seen.NEW and not self._admit_seen(seen, stream, payload, fingerprint):
            return False
        self._unsent.add(fingerprint)
        return True

    def _admit_seen(self, seen: Seen, stream: str, payload: bytes, fingerprint: bytes) -> bool:
        """A record the journal knows: skip it, reject it, stop, or (resend) send it again."""
        if seen is Seen.DELIVERED:
            self._count_skipped("already_delivered")
            return False
        if seen is Seen.IN_THIS_RUN:
            self._count_skipped("duplicate_in_this_run")
            return False
        if self.uncertain == "fail":
            msg = (
                f"A record of stream '{stream}' was sent by an earlier run that was stopped "
                "before CleverTap answered, so CleverTap may already have it. "
                "journal_uncertain is 'fail': decide, then re-run with journal_uncertain "
                "'reject' (do not send again) or 'resend' (accept a possible duplicate)."
            )
            raise RuntimeError(msg)
        if self.uncertain == "reject":
            raise RecordRejectedError(
                DELIVERY_UNCERTAIN.name,
                "an earlier run sent this record and was stopped before CleverTap answered; "
                "it is not sent again to avoid a duplicate. target-clevertap-resolve looks for "
                "it in CleverTap's export and can send it again if CleverTap does not have it.",
                details=uncertain_details(payload, fingerprint),
            )
        self.uncertain_resent += 1
        return True

    def before_send(self, items: Sequence[Item]) -> None:
        """Mark the batch's journaled uploads pending before the request goes out."""
        journaled = [item for item in items if "fingerprint" in item.meta]
        fingerprints = [item.meta["fingerprint"] for item in journaled]
        send = self.journal.mark_pending(fingerprints)
        for item in journaled:
            item.meta["send"] = send
        self._unsent.difference_update(fingerprints)

    def delivered(self, items: Sequence[Item]) -> None:
        """CleverTap confirmed these uploads."""
        sends = [item.meta["send"] for item in items if "send" in item.meta]
        self.journal.mark_delivered(sends, len(sends))

    def forget(self, items: Sequence[Item]) -> None:
        """CleverTap did not store these: a later run may send them without risk of a double."""
        self.journal.forget(i.meta["fingerprint"] for i in items if "fingerprint" in i.meta)

    def unsafe_to_resend(self, items: Sequence[Item]) -> list[int]:
        """After a send with no answer: the journaled uploads (none when resending is chosen)."""
        if self.uncertain == "resend":
            return []
        return [i for i, item in enumerate(items) if "fingerprint" in item.meta]

    def summary(self) -> dict[str, t.Any]:
        """The journal's part of the run summary."""
        stats = self.journal.stats
        return {
            "path": str(self.journal.path),
            "entries_at_start": stats.entries_at_start,
            "uncertain_at_start": stats.pending_at_start,
            "pruned_at_start": stats.pruned_at_start,
            "pruned_during_run": stats.pruned_during_run,
            "uncertain_resent": self.uncertain_resent,
            "marked_sent": stats.marked_pending,
            "marked_delivered": stats.marked_delivered,
            **self.journal.counts(),
        }
