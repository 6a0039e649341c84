"""Fixtures of the target's tests; helpers live in clevertap_testkit (importable from tests)."""

from __future__ import annotations

import sys
import typing as t
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))


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
