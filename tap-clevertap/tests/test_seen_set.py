"""The on-disk dedup set."""

from __future__ import annotations

from tap_clevertap.seen_set import DiskSeenSet


def test_add_reports_first_sight_only():
    seen = DiskSeenSet()
    try:
        assert [seen.add(k) for k in ["a", "b", "a", "c", "b", "é"]] == [
            True,
            True,
            False,
            True,
            False,
            True,
        ]
        assert seen.count == 4
    finally:
        seen.close()
