"""A set of profile ids that lives on disk, so deduplicating a large account keeps memory flat."""

from __future__ import annotations

import hashlib
import sqlite3
import tempfile
from pathlib import Path


class DiskSeenSet:
    """Remembers 16-byte digests of keys in a throwaway SQLite file (page cache capped at ~8 MB)."""

    def __init__(self) -> None:
        """Create the temporary database."""
        self._dir = tempfile.TemporaryDirectory(prefix="tap-clevertap-seen-")
        self._db = sqlite3.connect(Path(self._dir.name) / "seen.db", isolation_level=None)
        self._db.executescript(
            "PRAGMA journal_mode=OFF; PRAGMA synchronous=OFF; PRAGMA cache_size=-8000;"
            "CREATE TABLE seen (k BLOB PRIMARY KEY) WITHOUT ROWID;"
        )
        self._db.execute("BEGIN")
        self._pending = 0
        self.count = 0

    def add(self, key: str) -> bool:
        """Add key; True when it was not there before."""
        digest = hashlib.blake2b(key.encode("utf-8"), digest_size=16).digest()
        cursor = self._db.execute("INSERT OR IGNORE INTO seen (k) VALUES (?)", (digest,))
        added = cursor.rowcount == 1
        if added:
            self.count += 1
            self._pending += 1
            if self._pending >= 50_000:
                self._db.execute("COMMIT")
                self._db.execute("BEGIN")
                self._pending = 0
        return added

    def close(self) -> None:
        """Drop the database and its directory."""
        self._db.close()
        self._dir.cleanup()
