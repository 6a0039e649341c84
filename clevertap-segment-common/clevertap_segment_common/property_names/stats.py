"""Counters a target prints in its run summary: what the normalizer renamed and what collided."""

from __future__ import annotations

import threading
from typing import Any


class NormalizationStats:
    """Thread-safe totals plus small bounded samples, so a summary can show real examples."""

    def __init__(self, sample_size: int = 20) -> None:
        """Keep at most ``sample_size`` rename pairs and collision examples."""
        self._lock = threading.Lock()
        self._sample_size = sample_size
        self._records = 0
        self._keys_seen = 0
        self._keys_renamed = 0
        self._renamed_sample: dict[str, str] = {}
        self._collisions = 0
        self._collision_examples: list[dict[str, Any]] = []

    def add_record(self, keys_seen: int, keys_renamed: int) -> None:
        """Count one normalized record (its keys at every level that was normalized)."""
        with self._lock:
            self._records += 1
            self._keys_seen += keys_seen
            self._keys_renamed += keys_renamed

    def add_renamed(self, keys_renamed: int) -> None:
        """Count keys renamed after a record was counted (match_account renames built uploads)."""
        with self._lock:
            self._keys_renamed += keys_renamed

    def note_rename(self, original: str, normalized: str) -> None:
        """Remember a rename pair for the sample (called once per distinct name)."""
        with self._lock:
            if len(self._renamed_sample) < self._sample_size:
                self._renamed_sample.setdefault(original, normalized)

    def note_collision(
        self, normalized: str, source_keys: tuple[str, str], kept: str | None, path: str
    ) -> None:
        """Count a collision; ``kept`` is None when the record was refused."""
        example = {
            "normalized": normalized,
            "source_keys": list(source_keys),
            "kept": kept,
            "path": path,
        }
        with self._lock:
            self._collisions += 1
            if (
                len(self._collision_examples) < self._sample_size
                and example not in self._collision_examples
            ):
                self._collision_examples.append(example)

    def snapshot(self) -> dict[str, Any]:
        """A consistent, JSON-ready copy of the counters."""
        with self._lock:
            return {
                "records": self._records,
                "keys_seen": self._keys_seen,
                "keys_renamed": self._keys_renamed,
                "renamed_sample": dict(self._renamed_sample),
                "collisions": self._collisions,
                "collision_examples": [dict(example) for example in self._collision_examples],
            }
