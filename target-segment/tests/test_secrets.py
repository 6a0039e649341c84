"""The write key never appears in output: stdout, stderr at DEBUG, rejects, summary, errors."""

from __future__ import annotations

import base64
import json

import pytest
from segment_testkit import STRING, record, run_cli, schema

SECRET = "Wk-3f9c1e7a0b5d42a8"
FORMS = (
    SECRET,
    base64.b64encode(f"{SECRET}:".encode()).decode(),
    base64.b64encode(SECRET.encode()).decode(),
)


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for form in FORMS:
            assert form not in text


@pytest.fixture(scope="module")
def secret_sandbox():
    from clevertap_segment_sandbox import SandboxProcess

    with SandboxProcess(write_key=SECRET) as process:
        yield process


def test_a_debug_run_with_rejects_keeps_the_key_out_of_everything(secret_sandbox, tmp_path) -> None:
    config = {
        "write_key": SECRET,
        "api_url": secret_sandbox.segment_url,
        "settings_url": secret_sandbox.segment_url,
        "verify_write_key": True,
        "rejected_records_path": str(tmp_path / "rejected.jsonl"),
        "summary_path": str(tmp_path / "summary.json"),
        "stream_mappings": {"s": {"type": "track", "event": "e", "user_id": "uid"}},
    }
    lines = [
        schema("s", {"e": STRING, "uid": STRING, "note": STRING}),
        record("s", {"e": "Clicked", "uid": "u1"}),
        # a rejected record that happens to carry the key in its data
        record("s", {"e": None, "uid": "u2", "note": f"pasted key {SECRET} by mistake"}),
        '{"type": "STATE", "value": {"done": 1}}',
    ]
    done = run_cli(
        config, tmp_path, "\n".join(lines) + "\n", env={"TARGET_SEGMENT_LOGLEVEL": "DEBUG"}
    )
    assert done.returncode == 0, done.stderr
    assert "DEBUG" in done.stderr  # the run really logged at DEBUG (urllib3 included)
    assert "/v1/projects/***/settings" in done.stderr
    rejects = (tmp_path / "rejected.jsonl").read_text()
    summary = (tmp_path / "summary.json").read_text()
    assert json.loads(rejects)["rule"] == "event_not_defined"
    assert "pasted key *** by mistake" in rejects
    assert json.loads(summary)["delivered"] == 1
    assert_no_secret(done.stdout, done.stderr, rejects, summary)
    assert len(secret_sandbox.client.segment_messages()) == 1


def test_failures_and_the_connection_check_keep_the_key_out(secret_sandbox, tmp_path) -> None:
    config = {
        "write_key": SECRET,
        "api_url": "http://127.0.0.1:9",  # nothing listens: the run fails after its retries
        "settings_url": secret_sandbox.segment_url,
        "verify_write_key": False,
        "max_retries": 1,
        "rejected_records_path": str(tmp_path / "rejected.jsonl"),
        "stream_mappings": {"s": {"type": "track", "event": "e", "user_id": "uid"}},
    }
    lines = [schema("s", {"e": STRING, "uid": STRING}), record("s", {"e": "Clicked", "uid": "u"})]
    failed = run_cli(
        config, tmp_path, "\n".join(lines) + "\n", env={"TARGET_SEGMENT_LOGLEVEL": "DEBUG"}
    )
    assert failed.returncode != 0
    assert "not delivered after 2 attempt(s)" in failed.stderr
    checked = run_cli({**config, "write_key": SECRET + "-wrong"}, tmp_path, "", "--test")
    assert checked.returncode == 1
    assert "Segment does not know this write key" in checked.stderr
    assert_no_secret(failed.stdout, failed.stderr, checked.stdout, checked.stderr)
