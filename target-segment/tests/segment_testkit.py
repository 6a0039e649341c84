"""Test kit of target-segment: Singer lines, in-process and CLI runs, a scripted Segment API."""

from __future__ import annotations

import contextlib
import io
import json
import os
import subprocess
import sys
import typing as t
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from scripted_http import ReceivedRequest, ScriptedHTTPServer
from target_segment.target import TargetSegment

WRITE_KEY = "sandbox-write-key"  # the sandbox's default key
DATA = Path(__file__).parent / "data"
CLEVERTAP_TAP_OUTPUT = DATA / "clevertap_tap_output.singer"
# tap-clevertap's audience_members on its second run (entries, exits and, on request, members).
CLEVERTAP_AUDIENCE_OUTPUT = DATA / "clevertap_audience_output.singer"
TARGET_BIN = str(Path(sys.executable).parent / "target-segment")


def schema(stream: str, properties: dict[str, t.Any], keys: list[str] | None = None) -> str:
    return json.dumps(
        {
            "type": "SCHEMA",
            "stream": stream,
            "schema": {"type": "object", "properties": properties},
            "key_properties": keys or [],
        }
    )


def record(stream: str, values: dict[str, t.Any]) -> str:
    return json.dumps({"type": "RECORD", "stream": stream, "record": values})


def state(value: dict[str, t.Any]) -> str:
    return json.dumps({"type": "STATE", "value": value})


STRING = {"type": ["string", "null"]}
INTEGER = {"type": ["integer", "null"]}
OBJECT = {"type": ["object", "null"]}
DATETIME = {"type": ["string", "null"], "format": "date-time"}


@dataclass
class RunResult:
    """What one in-process run produced."""

    states: list[t.Any]
    summary: dict[str, t.Any]
    rejects: list[dict[str, t.Any]]
    error: BaseException | None = None
    stderr: str = ""
    target: TargetSegment | None = field(default=None, repr=False)

    def rules(self) -> list[str]:
        return [r["rule"] for r in self.rejects]


def read_jsonl(path: Path) -> list[dict[str, t.Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def run_target(
    config: dict[str, t.Any], lines: list[str], *, expect_error: bool = False
) -> RunResult:
    """Run the target in this process as the SDK's test runner does (process_lines + endofpipe)."""
    target = TargetSegment(config=config)
    out, err = io.StringIO(), io.StringIO()
    error: BaseException | None = None
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            target.process_lines(io.StringIO("\n".join(lines) + "\n"))
            target.process_endofpipe()
        except Exception as exc:
            error = exc
    if error is not None and not expect_error:
        raise error
    if expect_error and error is None:
        pytest.fail("the run was expected to fail")
    summary_path = Path(config["summary_path"])
    summary = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return RunResult(
        states=[json.loads(line) for line in out.getvalue().splitlines() if line.strip()],
        summary=summary,
        rejects=read_jsonl(Path(config["rejected_records_path"])),
        error=error,
        stderr=err.getvalue(),
        target=target,
    )


def run_cli(
    config: dict[str, t.Any],
    tmp_path: Path,
    input_text: str = "",
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script with a config file."""
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    return subprocess.run(
        [TARGET_BIN, "--config", str(config_path), *args],
        input=input_text,
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
        check=False,
    )


@dataclass
class Exchange:
    """One request the scripted API received."""

    path: str
    headers: dict[str, str]
    body: dict[str, t.Any] | None
    raw_size: int


class ScriptedSegment:
    """A loopback HTTP server answering /v1/batch from a script (status codes the sandbox lacks).

    ``script(batch, attempt)`` returns ``(status, headers)``; ``attempt`` counts requests carrying
    the same first messageId. Every request is recorded with its headers and decoded body.
    """

    def __init__(
        self, script: t.Callable[[list[dict[str, t.Any]], int], tuple[int, dict[str, str]]]
    ) -> None:
        self.script = script
        self.exchanges: list[Exchange] = []
        self.accepted: list[dict[str, t.Any]] = []
        self._attempts: dict[str, int] = {}
        self.http = ScriptedHTTPServer(self._answer)
        self.url = self.http.url

    def _answer(self, request: ReceivedRequest) -> tuple[int, bytes, dict[str, str]]:
        if request.method == "GET":  # the settings CDN
            if request.path == f"/v1/projects/{WRITE_KEY}/settings":
                return 200, b"{}", {}
            return 404, b"Invalid path or write key provided.", {}
        body = json.loads(request.body)
        batch = body.get("batch", [])
        with self.http.lock:
            self.exchanges.append(Exchange(request.path, request.headers, body, len(request.body)))
            first = batch[0]["messageId"] if batch else ""
            attempt = self._attempts.get(first, 0) + 1
            self._attempts[first] = attempt
        status, headers = self.script(batch, attempt)
        if status == 200:
            with self.http.lock:
                self.accepted.extend(batch)
        reply = {"success": status == 200, "code": str(status), "message": "scripted"}
        return status, json.dumps(reply).encode(), headers

    def close(self) -> None:
        self.http.close()
