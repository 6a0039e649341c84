"""Test kit of target-segment: Singer lines, in-process and CLI runs, a scripted Segment API."""

from __future__ import annotations

import contextlib
import gzip
import io
import json
import os
import subprocess
import sys
import threading
import typing as t
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from target_segment.target import TargetSegment

WRITE_KEY = "sandbox-write-key"  # the sandbox's default key
DATA = Path(__file__).parent / "data"
CLEVERTAP_TAP_OUTPUT = DATA / "clevertap_tap_output.singer"
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
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: t.Any) -> None:
                pass

            def do_GET(self) -> None:
                known = self.path == f"/v1/projects/{WRITE_KEY}/settings"
                self._answer(
                    200 if known else 404,
                    b"{}" if known else b"Invalid path or write key provided.",
                    {},
                )

            def do_POST(self) -> None:
                raw = self.rfile.read(int(self.headers["Content-Length"]))
                data = (
                    gzip.decompress(raw) if self.headers.get("Content-Encoding") == "gzip" else raw
                )
                body = json.loads(data)
                batch = body.get("batch", [])
                with server._lock:
                    server.exchanges.append(
                        Exchange(self.path, dict(self.headers), body, len(data))
                    )
                    first = batch[0]["messageId"] if batch else ""
                    attempt = server._attempts.get(first, 0) + 1
                    server._attempts[first] = attempt
                status, headers = server.script(batch, attempt)
                if status == 200:
                    with server._lock:
                        server.accepted.extend(batch)
                self._answer(
                    status,
                    json.dumps(
                        {"success": status == 200, "code": str(status), "message": "scripted"}
                    ).encode(),
                    headers,
                )

            def _answer(self, status: int, payload: bytes, headers: dict[str, str]) -> None:
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
