"""Deterministic event ids that keep genuinely repeated events apart.

CleverTap has no event id. ``event_id`` is sha256 of ``[objectId, ts, event_name, event_props]``;
two identical export records (same device, same second, same properties) are still two events
to CleverTap, so within one (event, day) export the n-th identical record (n >= 2) hashes with
its occurrence number appended: ``[objectId, ts, event_name, event_props, n]``. The first keeps
the plain id, so ordinary records keep the ids they always had. Identical records are
indistinguishable, so which one counts as "first" does not matter: re-reading the day gives
the same set of ids.
"""

from __future__ import annotations

import hashlib
import typing as t
from array import array

import orjson

_EMPTY = 0
_MIN_SLOTS = 1024


def canonical(object_id: t.Any, ts: t.Any, event_name: str, event_props: t.Any) -> list[t.Any]:
    """The array that is hashed: a missing objectId is "" and missing event_props is {}."""
    return [object_id if object_id is not None else "", ts, event_name, event_props or {}]


def _sha256(parts: list[t.Any]) -> t.Any:
    return hashlib.sha256(orjson.dumps(parts, option=orjson.OPT_SORT_KEYS))


def event_id(object_id: t.Any, ts: t.Any, event_name: str, event_props: t.Any) -> str:
    """sha256 hex of the canonical JSON array [objectId, ts, event_name, event_props].

    Canonical JSON = orjson with sorted keys at every level, no whitespace, UTF-8 (non-ASCII
    not escaped). This is the id of the first (usually only) occurrence of a record.
    """
    return str(_sha256(canonical(object_id, ts, event_name, event_props)).hexdigest())


class DigestSet:
    """A set of non-zero 64-bit digests in one flat array (open addressing, linear probing).

    8 bytes per slot at most half full: 16-32 bytes per member, against ~70 for a Python set
    of 8-byte ``bytes`` (measured; see the README).
    """

    def __init__(self) -> None:
        """Start empty, with a small table."""
        self._table = array("Q", [_EMPTY]) * _MIN_SLOTS
        self._mask = _MIN_SLOTS - 1
        self.count = 0

    def add(self, digest: int) -> bool:
        """Add ``digest`` (non-zero); True when it was not there before."""
        table = self._table
        mask = self._mask
        slot = digest & mask
        while True:
            current = table[slot]
            if current == digest:
                return False
            if current == _EMPTY:
                break
            slot = (slot + 1) & mask
        table[slot] = digest
        self.count += 1
        if self.count * 2 > mask:
            self._grow()
        return True

    def _grow(self) -> None:
        old = self._table
        size = len(old) * 2
        self._table = array("Q", [_EMPTY]) * size
        self._mask = size - 1
        self.count = 0
        for digest in old:
            if digest != _EMPTY:
                self.add(digest)

    @property
    def nbytes(self) -> int:
        """Bytes held by the table."""
        return len(self._table) * self._table.itemsize


class OccurrenceIds:
    """Event ids for the records of one (event, day) export, repeats numbered; reset per day."""

    def __init__(self) -> None:
        """Start a day with nothing seen."""
        self.reset()

    def reset(self) -> None:
        """Forget the day (call after each day, and when a day is read again from its start)."""
        self._seen = DigestSet()
        self._repeats: dict[int, int] = {}

    def event_id(self, object_id: t.Any, ts: t.Any, event_name: str, event_props: t.Any) -> str:
        """The record's id: the plain id the first time, numbered for the n-th identical one."""
        parts = canonical(object_id, ts, event_name, event_props)
        digest = _sha256(parts)
        key = int.from_bytes(digest.digest()[:8], "little") or 1
        if self._seen.add(key):
            return str(digest.hexdigest())
        occurrence = self._repeats.get(key, 1) + 1
        self._repeats[key] = occurrence
        return str(_sha256([*parts, occurrence]).hexdigest())

    @property
    def nbytes(self) -> int:
        """Approximate bytes held for the current day (the digest table dominates)."""
        return self._seen.nbytes
