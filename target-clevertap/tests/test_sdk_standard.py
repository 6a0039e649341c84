"""The singer-sdk standard target tests that apply (tests/sdk_target_suite.py), run
against the sandbox; a record missing its key property: test_record_missing_its_key_is_rejected."""

from __future__ import annotations

import importlib.resources
import json
import typing as t

import pytest
from clevertap_testkit import run_target
from sdk_target_suite import APPLICABLE_TARGET_TESTS
from singer_sdk.testing import SuiteConfig, get_target_test_class, target_test_streams
from target_clevertap.target import TargetCleverTap

# Filled in with the sandbox's address by the autouse fixture below; the SDK's runner reads this
# dict when each test starts.
CONFIG: dict[str, t.Any] = {
    "account_id": "placeholder",
    "passcode": "placeholder",
    "api_url": "http://127.0.0.1:9",
    "stream_mappings": {
        "*": {"kind": "profile"},  # identity = the stream's single key property
        "test_no_pk": {"identity": "id"},
        "example_stream": {"identity": "id"},
        "test_object_schema_with_properties": {"identity": "object_store.id"},
        "test_object_schema_no_properties": {"identity": "object_store.id"},
        "test_record_missing_required_property": {"identity": "metric"},
    },
}


StandardTargetTests = get_target_test_class(
    TargetCleverTap,
    config=CONFIG,
    custom_suites=[APPLICABLE_TARGET_TESTS],
    include_target_tests=False,
    suite_config=SuiteConfig(),
    parse_env_config=False,
)


class TestTargetCleverTapStandard(StandardTargetTests):  # type: ignore[misc, valid-type]
    """The SDK's suite, each test one real sync against the shared sandbox."""

    @pytest.fixture(autouse=True)
    def _point_at_sandbox(self, sandbox, sandbox_client, files) -> None:
        CONFIG.update(
            account_id=sandbox.settings.account_id,
            passcode=sandbox.settings.passcode,
            api_url=sandbox.clevertap_url,
            **files,
        )


def _sdk_stream(name: str) -> list[dict[str, t.Any]]:
    text = (importlib.resources.files(target_test_streams) / f"{name}.singer").read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def test_sdk_sample_streams_really_arrive(config, sandbox_client) -> None:
    config["stream_mappings"] = CONFIG["stream_mappings"]
    run_target(config, _sdk_stream("array_data") + _sdk_stream("special_chars_in_attributes"))
    profiles = {p["identity"]: p["profileData"] for p in sandbox_client.clevertap_profiles()}
    assert profiles["1"] == {"fruits": ["apple", "orange", "pear"]}
    assert profiles["a2e98886"] == {
        "d": '{"env":"prod","agent:type":"desktop","agent:os:version":"10.13.1"}'
    }


def test_record_missing_its_key_is_rejected(config, sandbox_client) -> None:
    config["stream_mappings"] = CONFIG["stream_mappings"]
    run = run_target(config, _sdk_stream("record_missing_key_property"))
    assert [r["rule"] for r in run.rejects] == ["schema"]
    assert "missing key property 'id'" in run.rejects[0]["reason"]
    assert sandbox_client.clevertap_upload_log() == []
