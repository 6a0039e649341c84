"""Audience memberships on disk: one generation per complete sweep, transitions by set difference.

A generation is every member one run found for an audience; it is marked complete only once the
whole export was read, so a run that dies mid-sweep leaves nothing a later run could mistake for a
membership (no false exits). The Singer bookmark names the newest generation whose transitions the
target confirmed; generations after it are unconfirmed and are emitted again, in order, before a
new sweep. Members are streamed into SQLite and compared with SQL, so memory stays flat however
large the audience.
"""

from __future__ import annotations

import secrets
import sqlite3
import typing as t
from dataclasses import dataclass
from pathlib import Path

from tap_clevertap.errors import MembershipStoreError

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

_SCHEMA = """
CREATE TABLE IF NOT EXISTS generations (
    id INTEGER PRIMARY KEY,
    audience TEXT NOT NULL,
    seq INTEGER NOT NULL,
    gen_id TEXT NOT NULL UNIQUE,
    window_from TEXT NOT NULL,
    window_to TEXT NOT NULL,
    definition TEXT NOT NULL,
    computed_at TEXT,
    members INTEGER,
    complete INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS members (
    gen INTEGER NOT NULL,
    member TEXT NOT NULL,
    identity TEXT,
    PRIMARY KEY (gen, member)
) WITHOUT ROWID;
"""
_GENERATION_COLUMNS = (
    "id, audience, seq, gen_id, window_from, window_to, definition, computed_at, members"
)
_COMMIT_EVERY = 50_000
_FETCH = 1_000


@dataclass(frozen=True, slots=True)
class Generation:
    """One complete (or in-progress) sweep of an audience."""

    rowid: int
    audience: str
    seq: int
    gen_id: str
    window_from: str
    window_to: str
    definition: str
    computed_at: str | None
    members: int | None


@dataclass(frozen=True, slots=True)
class Transition:
    """One member's change between two generations."""

    member: str
    identity: str | None
    change: str  # entered, exited or member (stayed in)


class MembershipStore:
    """A SQLite file holding the generations of every audience; one run uses it at a time."""

    def __init__(self, path: str | Path) -> None:
        """Open (creating) the store and take an exclusive lock on it for this process."""
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=0, isolation_level=None)
        try:
            # The lock taken by the first write is kept until close (locking_mode=EXCLUSIVE).
            self._db.executescript(
                "PRAGMA locking_mode=EXCLUSIVE; PRAGMA journal_mode=WAL; "
                "PRAGMA synchronous=NORMAL; PRAGMA cache_size=-8000; BEGIN EXCLUSIVE; COMMIT;"
                + _SCHEMA
            )
        except sqlite3.OperationalError as exc:
            self._db.close()
            msg = (
                f"The audience membership store {self.path} is in use by another run "
                f"({exc}). Runs of the same audiences must not overlap: wait for the other run, "
                "or give this pipeline its own audience_store_path."
            )
            raise MembershipStoreError(msg) from None
        self._pending = 0

    def close(self) -> None:
        """Commit anything pending and release the lock."""
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._db.close()

    # -- generations ----------------------------------------------------------------------------

    def reconcile(
        self, audience: str, confirmed: str | None
    ) -> tuple[Generation | None, list[Generation]]:
        """The confirmed generation and the complete ones after it, once the store agrees.

        ``confirmed`` is the generation id of the bookmark (None without a bookmark: a first run
        or a full refresh, which starts the audience over). Incomplete sweeps are dropped, and so
        are generations older than the confirmed one (no longer needed).
        """
        with self._transaction():
            for (rowid,) in self._db.execute(
                "SELECT id FROM generations WHERE audience = ? AND (complete = 0 OR ? IS NULL)",
                (audience, confirmed),
            ).fetchall():
                self._drop(rowid)
            if confirmed is None:
                return None, []
            base = self._generation("gen_id = ? AND audience = ?", (confirmed, audience))
            if base is None:
                msg = (
                    f"The bookmark of audience {audience!r} says generation {confirmed} was "
                    f"delivered, but the membership store {self.path} does not hold it, so "
                    "entries and exits cannot be computed. Point audience_store_path at the store "
                    "earlier runs used, or run with a full refresh (--full-refresh, or clear the "
                    "state) to start the audience over: every current member is then sent as "
                    "entered again."
                )
                raise MembershipStoreError(msg)
            for (rowid,) in self._db.execute(
                "SELECT id FROM generations WHERE audience = ? AND seq < ?", (audience, base.seq)
            ).fetchall():
                self._drop(rowid)
            later = self._generations(
                "audience = ? AND seq > ? AND complete = 1 ORDER BY seq", (audience, base.seq)
            )
        return base, later

    def begin(
        self, audience: str, seq: int, window: tuple[str, str], definition: str
    ) -> Generation:
        """Start a sweep; it counts for nothing until ``finish``."""
        gen_id = secrets.token_hex(8)
        with self._transaction():
            cursor = self._db.execute(
                "INSERT INTO generations (audience, seq, gen_id, window_from, window_to, "
                "definition) VALUES (?, ?, ?, ?, ?, ?)",
                (audience, seq, gen_id, window[0], window[1], definition),
            )
        rowid = t.cast("int", cursor.lastrowid)
        return Generation(
            rowid, audience, seq, gen_id, window[0], window[1], definition, None, None
        )

    def add(self, generation: Generation, members: Iterable[tuple[str, str | None]]) -> None:
        """Record members (member id, identity) of a sweep; a member seen twice counts once."""
        if not self._db.in_transaction:
            self._db.execute("BEGIN")
        cursor = self._db.executemany(
            "INSERT OR IGNORE INTO members (gen, member, identity) VALUES (?, ?, ?)",
            ((generation.rowid, member, identity) for member, identity in members),
        )
        self._pending += max(cursor.rowcount, 0)
        if self._pending >= _COMMIT_EVERY:
            self._db.execute("COMMIT")
            self._pending = 0

    def finish(self, generation: Generation, computed_at: str) -> Generation:
        """Mark the sweep complete (durably): from now on it is the audience's newest membership."""
        if not self._db.in_transaction:
            self._db.execute("BEGIN")
        (count,) = self._db.execute(
            "SELECT count(*) FROM members WHERE gen = ?", (generation.rowid,)
        ).fetchone()
        self._db.execute(
            "UPDATE generations SET complete = 1, computed_at = ?, members = ? WHERE id = ?",
            (computed_at, count, generation.rowid),
        )
        self._db.execute("COMMIT")
        self._pending = 0
        done = self._generation("id = ?", (generation.rowid,))
        return t.cast("Generation", done)

    # -- transitions ----------------------------------------------------------------------------

    def transitions(
        self, previous: Generation | None, current: Generation, *, unchanged: bool = False
    ) -> Iterator[Transition]:
        """Who entered and who exited between two generations (and who stayed, if asked).

        Computed by SQL over the two member sets and read in small chunks, in member order, so the
        same pair of generations always yields the same transitions.
        """
        before = -1 if previous is None else previous.rowid
        yield from self._select(
            "SELECT member, identity, 'entered' FROM members AS m WHERE gen = ? AND NOT EXISTS "
            "(SELECT 1 FROM members WHERE gen = ? AND member = m.member) ORDER BY member",
            (current.rowid, before),
        )
        yield from self._select(
            "SELECT member, identity, 'exited' FROM members AS m WHERE gen = ? AND NOT EXISTS "
            "(SELECT 1 FROM members WHERE gen = ? AND member = m.member) ORDER BY member",
            (before, current.rowid),
        )
        if unchanged:
            yield from self._select(
                "SELECT member, identity, 'member' FROM members AS m WHERE gen = ? AND EXISTS "
                "(SELECT 1 FROM members WHERE gen = ? AND member = m.member) ORDER BY member",
                (current.rowid, before),
            )

    def _select(self, sql: str, params: tuple[t.Any, ...]) -> Iterator[Transition]:
        # A separate read cursor: the caller may write (another audience) between chunks only
        # after this generator is exhausted, so reading lazily is safe.
        cursor = self._db.execute(sql, params)
        while rows := cursor.fetchmany(_FETCH):
            for member, identity, change in rows:
                yield Transition(member, identity, change)

    # -- helpers --------------------------------------------------------------------------------

    def _drop(self, rowid: int) -> None:
        self._db.execute("DELETE FROM members WHERE gen = ?", (rowid,))
        self._db.execute("DELETE FROM generations WHERE id = ?", (rowid,))

    def _generation(self, where: str, params: tuple[t.Any, ...]) -> Generation | None:
        found = self._generations(where, params)
        return found[0] if found else None

    def _generations(self, where: str, params: tuple[t.Any, ...]) -> list[Generation]:
        # ``where`` is always one of this module's fixed clauses; values go in as parameters.
        sql = f"SELECT {_GENERATION_COLUMNS} FROM generations WHERE {where}"  # noqa: S608
        rows = self._db.execute(sql, params).fetchall()
        return [Generation(*row) for row in rows]

    def _transaction(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    """BEGIN ... COMMIT (ROLLBACK on error) on an autocommit connection."""

    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        if self._db.in_transaction:
            self._db.execute("COMMIT")
        self._db.execute("BEGIN")

    def __exit__(self, kind: object, *_: object) -> None:
        self._db.execute("ROLLBACK" if kind is not None else "COMMIT")
