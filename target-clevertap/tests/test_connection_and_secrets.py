"""The connection check (--test, meltano config test) and secrets kept out of every output."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from clevertap_testkit import TARGET, config_for, run_target, segment_messages, singer_text
from scripted_http import ScriptedHTTPServer
from target_clevertap.connection import ConnectionCheckError, check_connection

SECRET = "pc-SECRET-9a8b7c6d5e"
WRONG = "pc-WRONG-1f2e3d4c5b"

# What `meltano config test` (meltano 4.4, LoaderTestService) writes to a loader's stdin.
MELTANO_TEST = [
    {
        "type": "SCHEMA",
        "stream": "meltano_test_stream",
        "schema": {
            "type": "object",
            "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        },
        "key_properties": ["id"],
    },
    {"type": "RECORD", "stream": "meltano_test_stream", "record": {"id": 1, "name": "test"}},
    {"type": "STATE", "value": {"bookmarks": {"meltano_test_stream": {"id": 1}}}},
]


def requests_made(sandbox_client) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in sandbox_client.clevertap_requests()]


def test_check_reads_the_schema_and_writes_nothing(config, sandbox_client) -> None:
    message = check_connection(config)
    assert "passed" in message
    assert "GET /getSchema; nothing was written" in message
    assert requests_made(sandbox_client) == [("GET", "/getSchema?type=events")]
    assert sandbox_client.clevertap_upload_log() == []


def test_check_says_when_the_passcode_may_not_read_the_schema() -> None:
    forbidden = json.dumps({"status": "fail", "error": "Not allowed", "code": 403}).encode()
    with (
        ScriptedHTTPServer(lambda request: (403, forbidden, {})) as server,
        pytest.raises(ConnectionCheckError) as caught,
    ):
        check_connection({"account_id": "A", "passcode": "p", "api_url": server.url})
    message = str(caught.value)
    assert "may lack that permission" in message
    assert "explicit property_names convention" in message
    assert [(r.method, r.path) for r in server.requests] == [("GET", "/getSchema?type=events")]


def test_check_with_api_url_blames_the_credentials(config, sandbox_client) -> None:
    with pytest.raises(ConnectionCheckError, match="account id or passcode is wrong"):
        check_connection({**config, "passcode": WRONG})


def test_check_names_the_region_that_accepts_the_credentials(sandbox_factory) -> None:
    europe = sandbox_factory(account_id="ACC-EU", passcode="pass-eu")
    india = sandbox_factory(account_id="ACC-IN", passcode="pass-in")
    regions = {"eu1": europe.clevertap_url, "in1": india.clevertap_url}
    config = {"account_id": "ACC-IN", "passcode": "pass-in", "region": "eu1"}

    with pytest.raises(ConnectionCheckError) as wrong_region:
        check_connection(config, regions=regions)
    assert str(wrong_region.value).startswith("Wrong region")
    assert "Set region to in1" in str(wrong_region.value)

    with pytest.raises(ConnectionCheckError) as wrong_passcode:
        check_connection({**config, "passcode": WRONG}, regions=regions)
    assert str(wrong_passcode.value).startswith("Wrong account id or passcode")
    assert "eu1, in1" in str(wrong_passcode.value)

    assert "passed" in check_connection({**config, "region": "in1"}, regions=regions)


def test_check_says_when_the_host_cannot_be_reached() -> None:
    config = {"account_id": "A", "passcode": "p", "api_url": "http://127.0.0.1:9"}
    with pytest.raises(ConnectionCheckError, match="Cannot reach CleverTap"):
        check_connection(config, timeout=2)


def test_meltano_config_test_runs_the_check_and_stores_nothing(config, sandbox_client) -> None:
    run = run_target(config, MELTANO_TEST)
    assert requests_made(sandbox_client) == [("GET", "/getSchema?type=events")]
    assert sandbox_client.clevertap_profiles() == []
    assert run.summary["skipped_by_reason"] == {"meltano_test_stream": 1}


def test_meltano_config_test_fails_on_wrong_credentials(config, sandbox_client) -> None:
    with pytest.raises(ConnectionCheckError, match="passcode is wrong"):
        run_target({**config, "passcode": WRONG}, MELTANO_TEST)


def _cli(args: list[str], stdin: str = "", env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run(
        [TARGET, *args],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, **(env or {})},
    )


@pytest.mark.slow
def test_cli_test_flag_and_secrets_never_printed_or_written(
    sandbox_factory, files, tmp_path
) -> None:
    process = sandbox_factory(passcode=SECRET)
    good = config_for(process, files, stream_mappings={"segment": {"preset": "segment"}})
    good_path, bad_path = tmp_path / "good.json", tmp_path / "bad.json"
    good_path.write_text(json.dumps(good))
    bad_path.write_text(json.dumps({**good, "passcode": WRONG}))
    archive = singer_text(segment_messages())

    passed = _cli(["--test", "--config", str(good_path)])
    refused = _cli(["--test", "--config", str(bad_path)])
    loaded = _cli(["--config", str(good_path)], archive, {"TARGET_CLEVERTAP_LOGLEVEL": "DEBUG"})
    failed = _cli(["--config", str(bad_path)], archive, {"TARGET_CLEVERTAP_LOGLEVEL": "DEBUG"})

    assert passed.returncode == 0
    assert "Connection check passed" in passed.stderr
    assert refused.returncode == 1
    assert "passcode is wrong" in refused.stderr
    assert loaded.returncode == 0
    assert failed.returncode != 0
    assert "HTTP 401" in failed.stderr

    outputs = [p.stdout + p.stderr for p in (passed, refused, loaded, failed)]
    outputs += [Path(path).read_bytes().decode(errors="replace") for path in files.values()]
    assert all(Path(path).exists() for path in files.values())
    for text in outputs:
        assert SECRET not in text
        assert WRONG not in text
