"""The command, SandboxProcess and the pytest plugin as other packages use them."""

from __future__ import annotations

import json
import subprocess
import sys
from typing import TYPE_CHECKING, Any

import pytest
import requests
from clevertap_segment_sandbox import SandboxProcess, SandboxSettings
from clevertap_segment_sandbox.process import SandboxStartError

if TYPE_CHECKING:
    from pathlib import Path


def test_serve_prints_ready_line_and_writes_ready_file(tmp_path: Path) -> None:
    ready = tmp_path / "ready.json"
    command = [sys.executable, "-m", "clevertap_segment_sandbox", "serve", "--clevertap-port", "0"]
    command += ["--segment-port", "0", "--today", "2026-11-20", "--ready-file", str(ready)]
    with subprocess.Popen(command, stdout=subprocess.PIPE, text=True) as process:
        _check_ready(process, ready)


def _check_ready(process: subprocess.Popen[str], ready: Path) -> None:
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("api-sandbox ready {")
        urls = json.loads(line.removeprefix("api-sandbox ready "))
        assert set(urls) == {"clevertap_url", "segment_url"}
        assert urls["clevertap_url"].startswith("http://127.0.0.1:")
        written = json.loads(ready.read_text())
        assert written == {**urls, "pid": process.pid}
        health = requests.get(urls["segment_url"] + "/_sandbox/health", timeout=30).json()
        assert health == {"status": "ok", "server": "segment"}
    finally:
        process.terminate()
        assert process.wait(timeout=10) == 0


def test_help_documents_every_option() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "clevertap_segment_sandbox", "serve", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    options = [arg for arg in SandboxSettings().cli_args() if arg.startswith("--")]
    extra = ["--ready-file", "--today", "--allow-nested-objects", "--extra-account-ids"]
    for option in [*options, *extra]:
        assert option in result.stdout
    assert "default: 8780" in result.stdout
    assert "Asia/Kolkata" in result.stdout


def test_start_failure_shows_the_output() -> None:
    with pytest.raises(SandboxStartError, match="not an IANA timezone"):
        SandboxProcess(timezone="Mars/Olympus_Mons").start()


def test_settings_are_validated_before_starting() -> None:
    with pytest.raises(ValueError, match="fault_429"):
        SandboxProcess(fault_429=3.0)


def test_account_ids_must_be_distinct() -> None:
    with pytest.raises(ValueError, match="distinct"):
        SandboxProcess(extra_account_ids=("SANDBOX-ACCOUNT",))
    with pytest.raises(ValueError, match="commas"):
        SandboxProcess(extra_account_ids=("A,B",))


def test_process_urls_require_a_running_sandbox() -> None:
    process = SandboxProcess()
    with pytest.raises(RuntimeError, match="not running"):
        _ = process.clevertap_url


def test_plugin_fixture_leaves_state_behind_on_purpose(sandbox: Any, sandbox_client: Any) -> None:
    headers = {
        "X-CleverTap-Account-Id": "SANDBOX-ACCOUNT",
        "X-CleverTap-Passcode": "sandbox-passcode",
    }
    body = {"d": [{"type": "profile", "identity": "a", "profileData": {}}]}
    requests.post(sandbox.clevertap_url + "/1/upload", json=body, headers=headers, timeout=30)
    sandbox_client.set_today("2026-12-01")
    sandbox_client.set_faults(fault_5xx=1.0)
    assert len(sandbox_client.clevertap_profiles()) == 1


def test_plugin_fixture_starts_the_next_test_clean(sandbox: Any, sandbox_client: Any) -> None:
    assert sandbox_client.clevertap_profiles() == []
    config = sandbox_client.config()
    assert config["today"] == "2026-11-20"
    assert config["faults"]["clevertap"]["rates"]["5xx"] == 0.0


def test_plugin_factory_pins_today(sandbox_factory: Any) -> None:
    special = sandbox_factory(seed=7, days=2, profiles=20)
    summary = special.client.seed_summary(event_profiles=False)
    assert summary["seed"] == 7
    assert summary["today"] == "2026-11-20"
    assert summary["history"]["first_day"] == "2026-11-18"


def test_context_manager_stops_the_server() -> None:
    with SandboxProcess(days=1, profiles=10) as process:
        url = process.clevertap_url
        pid = process.pid
        assert requests.get(url + "/_sandbox/health", timeout=30).ok
    with pytest.raises(requests.ConnectionError):
        requests.get(url + "/_sandbox/health", timeout=2)
    assert pid > 0
