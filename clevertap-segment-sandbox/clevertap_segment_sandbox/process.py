"""Start `api-sandbox serve` as a child process on free ports and wait until it listens."""

from __future__ import annotations

import dataclasses
import json
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clevertap_segment_sandbox.client import SandboxClient
from clevertap_segment_sandbox.settings import SandboxSettings

if TYPE_CHECKING:
    from types import TracebackType


class SandboxStartError(RuntimeError):
    """The sandbox did not become ready; the message carries its output."""


class SandboxProcess:
    """A sandbox in a separate process (so it is never the bottleneck of the caller).

    `SandboxProcess(latency_ms=50, today="2026-11-20")` takes any SandboxSettings field;
    ports default to 0 (free ports). Use as a context manager or call start()/stop().
    """

    def __init__(
        self,
        settings: SandboxSettings | None = None,
        *,
        startup_timeout: float = 15.0,
        **overrides: Any,
    ) -> None:
        if isinstance(overrides.get("today"), str):
            overrides["today"] = date.fromisoformat(overrides["today"])
        base = settings or SandboxSettings(clevertap_port=0, segment_port=0)
        self.settings = dataclasses.replace(base, **overrides)
        self.startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._directory: Path | None = None
        self._urls: dict[str, str] = {}
        self._client: SandboxClient | None = None

    @property
    def clevertap_url(self) -> str:
        """Base URL of the CleverTap emulator (http://127.0.0.1:PORT)."""
        return self._running()["clevertap_url"]

    @property
    def segment_url(self) -> str:
        """Base URL of the Segment emulator."""
        return self._running()["segment_url"]

    @property
    def client(self) -> SandboxClient:
        """Inspection client bound to this sandbox."""
        if self._client is None:
            self._client = SandboxClient(self.clevertap_url, self.segment_url)
        return self._client

    @property
    def pid(self) -> int:
        """Process id of the server."""
        self._running()
        assert self._process is not None
        return self._process.pid

    def _running(self) -> dict[str, str]:
        if not self._urls:
            raise RuntimeError(
                "the sandbox is not running: call start() or use it as a context manager"
            )
        return self._urls

    def output(self) -> str:
        """What the server printed so far (stdout then stderr)."""
        if self._directory is None:
            return ""
        parts = []
        for name in ("stdout.log", "stderr.log"):
            path = self._directory / name
            if path.exists():
                parts.append(path.read_text(errors="replace"))
        return "".join(parts)

    def start(self) -> SandboxProcess:
        """Launch the server and block until it is ready (or raise SandboxStartError)."""
        if self._process is not None:
            return self
        self._directory = Path(tempfile.mkdtemp(prefix="api-sandbox-"))
        ready_file = self._directory / "ready.json"
        command = [
            sys.executable,
            "-m",
            "clevertap_segment_sandbox",
            "serve",
            *self.settings.cli_args(),
        ]
        command += ["--ready-file", str(ready_file)]
        with (
            (self._directory / "stdout.log").open("wb") as stdout,
            (self._directory / "stderr.log").open("wb") as stderr,
        ):
            self._process = subprocess.Popen(command, stdout=stdout, stderr=stderr)
        deadline = time.monotonic() + self.startup_timeout
        while not ready_file.exists():
            code = self._process.poll()
            if code is not None or time.monotonic() > deadline:
                output = self.output()
                self.stop()
                reason = (
                    f"exited with code {code}"
                    if code is not None
                    else (f"was not ready after {self.startup_timeout:.0f} s")
                )
                raise SandboxStartError(f"api-sandbox serve {reason}. Output:\n{output}")
            time.sleep(0.02)
        ready = json.loads(ready_file.read_text())
        self._urls = {"clevertap_url": ready["clevertap_url"], "segment_url": ready["segment_url"]}
        return self

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 5 s) and remove its files."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._client is not None:
            self._client.close()
            self._client = None
        self._urls = {}
        if self._directory is not None:
            shutil.rmtree(self._directory, ignore_errors=True)
            self._directory = None

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
