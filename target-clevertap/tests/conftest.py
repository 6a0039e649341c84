"""Fixtures of the target's tests; helpers live in clevertap_testkit (importable from tests)."""

from __future__ import annotations

import typing as t

import pytest

if t.TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def files(tmp_path: Path) -> dict[str, str]:
    """Per-test output paths."""
    return {
        "journal_path": str(tmp_path / "journal.sqlite"),
        "rejected_records_path": str(tmp_path / "rejected.jsonl"),
        "summary_path": str(tmp_path / "summary.json"),
    }


@pytest.fixture
def config(sandbox_client: t.Any, sandbox: t.Any, files: dict[str, str]) -> dict[str, t.Any]:
    """A config pointing at the (freshly reset) shared sandbox."""
    _ = sandbox_client
    return {
        "account_id": sandbox.settings.account_id,
        "passcode": sandbox.settings.passcode,
        "api_url": sandbox.clevertap_url,
        **files,
    }
