"""The singer-sdk standard target tests that apply (tests/sdk_target_suite.py), run
against the sandbox; a record missing its key property is covered by test_local_validation."""

from __future__ import annotations

import typing as t

import pytest
from sdk_target_suite import APPLICABLE_TARGET_TESTS
from segment_testkit import run_target
from singer_sdk.testing import TargetTestRunner, get_target_test_class
from singer_sdk.testing.target_tests import TargetEncodedStringData
from target_segment.target import TargetSegment

if t.TYPE_CHECKING:
    from pathlib import Path

# Every SDK test stream is an arbitrary table: send each row as a "Row Loaded" track call.
DEFAULT_MAPPING = {
    "type": "track",
    "event": {"value": "Row Loaded"},
    "anonymous_id": ["id", "Id", "_id", "object_store.id"],
}
PLACEHOLDER_CONFIG = {"write_key": "placeholder-key", "default_mapping": DEFAULT_MAPPING}

StandardTargetTests = get_target_test_class(
    TargetSegment,
    config=PLACEHOLDER_CONFIG,
    custom_suites=[APPLICABLE_TARGET_TESTS],
    include_target_tests=False,
)


class TestTargetSegmentStandard(StandardTargetTests):  # type: ignore[misc,valid-type]
    """The applicable SDK tests, each run against the shared sandbox."""

    @pytest.fixture
    def runner(self, segment_config: dict[str, t.Any], tmp_path: Path) -> TargetTestRunner:
        config = {**segment_config, "default_mapping": DEFAULT_MAPPING}
        config["rejected_records_path"] = str(tmp_path / "sdk-rejected.jsonl")
        return TargetTestRunner(target_class=TargetSegment, config=config, parse_env_config=False)


def test_the_sdk_rows_reached_the_sandbox(segment_config, sandbox_client) -> None:
    """One SDK stream end to end, checking what arrived (the SDK tests only check for errors)."""
    lines = TargetEncodedStringData().singer_filepath.read_text(encoding="utf-8").splitlines()
    result = run_target({**segment_config, "default_mapping": DEFAULT_MAPPING}, lines)
    messages = sandbox_client.segment_messages()
    assert len(messages) == result.summary["received"] == result.summary["delivered"]
    infos = [m["properties"].get("info") for m in messages]
    assert "简单的字串" in infos
    assert "Control Characters in string: \u0000 A \u0001" in infos
    assert {"name": "greek", "value": "απλή συμβολοσειρά"} in infos
    assert {m["event"] for m in messages} == {"Row Loaded"}
