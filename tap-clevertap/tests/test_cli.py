"""The command line: --test diagnoses credentials and hosts; secrets never reach any output."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from tap_clevertap_testkit import tap_config

TAP = str(Path(sys.executable).with_name("tap-clevertap"))
SECRET = "pc-TOP-SECRET-4711"


def _run(tmp_path, config, *args, env=None):
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    return subprocess.run(
        [TAP, "--config", str(path), *args],
        capture_output=True,
        check=False,
        timeout=120,
        env={**os.environ, **(env or {})},
    )


def test_connection_test_succeeds(sandbox, sandbox_client, tmp_path):
    config = tap_config(sandbox, start_date="2026-11-19")
    result = _run(tmp_path, config, "--test")
    assert result.returncode == 0, result.stderr.decode()
    assert b"credentials accepted" in result.stderr


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"passcode": SECRET}, b"rejected the credentials (HTTP 401"),
        ({"api_url_suffix": "/wrong-path"}, b"does not serve the CleverTap API"),
        ({"api_url": "http://127.0.0.1:9", "passcode": SECRET}, b"could not reach CleverTap"),
    ],
)
def test_connection_test_says_what_is_wrong(sandbox, sandbox_client, tmp_path, change, message):
    config = tap_config(sandbox, max_retries=0)
    if suffix := change.pop("api_url_suffix", None):
        config["api_url"] += suffix
    config.update(change)
    result = _run(tmp_path, config, "--test")
    assert result.returncode == 1
    assert message in result.stderr
    assert SECRET.encode() not in result.stdout + result.stderr


def test_plain_http_to_a_remote_host_is_refused_before_any_call(tmp_path):
    config = {
        "account_id": "A",
        "passcode": SECRET,
        "api_url": "http://clevertap.example.com",
        "timezone": "UTC",
        "start_date": "2026-11-01",
    }
    result = _run(tmp_path, config)
    assert result.returncode == 1
    assert b"unencrypted" in result.stderr
    assert SECRET.encode() not in result.stderr


def test_secrets_never_reach_output_or_debug_logs(sandbox_factory, tmp_path):
    sandbox = sandbox_factory(seed=2, passcode=SECRET, fault_5xx=0.1, fault_in_progress=0.1)
    config = tap_config(sandbox, start_date="2026-11-17")
    result = _run(tmp_path, config, env={"LOGLEVEL": "DEBUG", "TAP_CLEVERTAP_LOGLEVEL": "DEBUG"})
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b'"type":"RECORD"' in result.stdout
    assert b"DEBUG" in result.stderr
    assert SECRET.encode() not in result.stdout
    assert SECRET.encode() not in result.stderr


def test_about_lists_every_setting_with_a_description():
    result = subprocess.run([TAP, "--about", "--format=json"], capture_output=True, check=True)
    about = json.loads(result.stdout)
    properties = about["settings"]["properties"]
    ours = [
        "account_id",
        "passcode",
        "region",
        "api_url",
        "start_date",
        "end_date",
        "timezone",
        "event_names",
        "profile_events",
        "batch_size",
        "lookback_days",
        "max_concurrency",
        "skip_unexportable_events",
        "request_timeout",
        "campaigns_horizon_days",
        "campaign_report_refresh_days",
        "message_report_daily",
        "count_events",
        "trend_type",
        "count_poll_interval",
        "count_max_wait",
    ]
    for name in ours:
        assert properties[name].get("description"), name
    assert properties["passcode"].get("secret") is True
    assert "batch" not in about["capabilities"]
