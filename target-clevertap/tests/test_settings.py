"""Settings: regions, URLs and limits are checked before anything is read or sent."""

from __future__ import annotations

import logging

import pytest
from clevertap_testkit import record, run_target, schema
from singer_sdk.exceptions import ConfigValidationError
from target_clevertap.settings import resolve_endpoint
from target_clevertap.target import TargetCleverTap

BASE = {"account_id": "ACC", "passcode": "secret-passcode"}


@pytest.mark.parametrize(
    ("region", "url"),
    [
        (None, "https://api.clevertap.com"),
        ("eu1", "https://api.clevertap.com"),
        ("global", "https://api.clevertap.com"),
        ("in1", "https://in1.api.clevertap.com"),
        ("us1", "https://us1.api.clevertap.com"),
        ("sg1", "https://sg1.api.clevertap.com"),
        ("aps3", "https://aps3.api.clevertap.com"),
        ("mec1", "https://mec1.api.clevertap.com"),
    ],
)
def test_region_hosts(region, url) -> None:
    config = {} if region is None else {"region": region}
    assert resolve_endpoint(config).base_url == url


def test_sk1_is_accepted_with_a_warning(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="target-clevertap"):
        assert resolve_endpoint({"region": "sk1"}).base_url == "https://sk1.api.clevertap.com"
    assert "may no longer be live" in caplog.text


def test_api_url_overrides_region_and_drops_trailing_slash() -> None:
    endpoint = resolve_endpoint({"region": "in1", "api_url": "https://proxy.example.com/ct/"})
    assert (endpoint.base_url, endpoint.region) == ("https://proxy.example.com/ct", None)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"api_url": "http://proxy.example.com"}, "plain http://"),
        ({"timezone": "Mars/Olympus"}, "not an IANA timezone"),
        ({"max_concurrency": 16}, "max_concurrency must be 1-15"),
        ({"max_concurrency": 0}, "max_concurrency must be 1-15"),
        ({"batch_size_rows": 1001}, "batch_size_rows must be 1-1000"),
        ({"max_event_properties": 0}, "max_event_properties must be at least 1"),
    ],
)
def test_bad_settings_are_refused_at_start(extra, message) -> None:
    with pytest.raises(ConfigValidationError) as caught:
        TargetCleverTap(config={**BASE, **extra})
    assert any(message in error for error in caught.value.errors)


def test_schema_validation_rejects_unknown_mapping_options() -> None:
    with pytest.raises(ConfigValidationError):
        TargetCleverTap(config={**BASE, "stream_mappings": {"s": {"identitty": "id"}}})


def test_unmapped_stream_stops_at_its_schema(config, sandbox_client) -> None:
    config["stream_mappings"] = {"users": {"identity": "id"}}
    with pytest.raises(ConfigValidationError, match="stream 'orders' has no entry"):
        run_target(config, [schema("orders", {"id": {}}, ["id"]), record("orders", {"id": 1})])
    assert sandbox_client.clevertap_upload_log() == []
