"""Run `tap | target` (or any chain of commands) as one process group that can be SIGKILLed.

The harness plays the orchestrator: it passes the last STATE the target emitted to the next run
of the tap, exactly what Meltano does with its system database. Every process's stderr and the
target's stdout (its STATE lines) are kept in the workspace for the secret scan.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import threading
import time
import typing as t
from dataclasses import dataclass, field

from bench.reliability.environment import repo_relative

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from pathlib import Path


ANSI = re.compile(r"\x1b\[[0-9;]*m")


@dataclass
class Attempt:
    """One run of a pipeline: how it ended and the last STATE its target emitted."""

    label: str
    exit_codes: list[int | None]
    killed: bool
    seconds: float
    states_emitted: int
    last_state: dict[str, t.Any] | None
    logs: list[Path] = field(default_factory=list)

    @property
    def succeeded(self) -> bool:
        """Every process exited 0 and nobody killed them."""
        return not self.killed and all(code == 0 for code in self.exit_codes)

    def log_tail(self, index: int = -1, lines: int = 15) -> str:
        """The last lines one process wrote to stderr (the target's by default), uncoloured."""
        text = self.logs[index].read_text(errors="replace") if self.logs else ""
        return repo_relative(ANSI.sub("", "\n".join(text.splitlines()[-lines:])))

    def summary(self) -> dict[str, t.Any]:
        """JSON-friendly view for the results file (with the log tail of a run that failed)."""
        view: dict[str, t.Any] = {
            "label": self.label,
            "exit_codes": self.exit_codes,
            "killed": self.killed,
            "seconds": round(self.seconds, 2),
            "states_emitted": self.states_emitted,
        }
        if not self.killed and not self.succeeded:
            view["error_tail"] = self.log_tail(lines=8)
        return view


class _StateReader(threading.Thread):
    """Copies a target's stdout to a file and remembers the last state it emitted.

    A Singer target writes each state as a bare JSON value on a line of its own.
    """

    def __init__(self, stream: t.IO[bytes], copy: Path) -> None:
        super().__init__(daemon=True)
        self.stream = stream
        self.copy = copy
        self.count = 0
        self.last: dict[str, t.Any] | None = None

    def run(self) -> None:
        with self.stream, self.copy.open("wb") as out:
            for line in self.stream:
                out.write(line)
                if line.startswith(b"{"):
                    self.count += 1
                    self.last = json.loads(line)


def run_chain(
    commands: list[list[str]],
    out: Path,
    label: str,
    *,
    kill_when: Callable[[], bool] | None = None,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 1800,
) -> Attempt:
    """Start ``commands`` piped into each other in a new process group and wait for them.

    ``kill_when`` is polled every 50 ms; when it answers True the whole group gets SIGKILL, as a
    crashed machine or an OOM-killed container would. stderr of process i goes to
    ``out/<label>.<i>.log``, the last process's stdout to ``out/<label>.stdout.jsonl``.
    """
    logs = [out / f"{label}.{index}.log" for index in range(len(commands))]
    processes: list[subprocess.Popen[bytes]] = []
    started = time.monotonic()
    upstream: t.IO[bytes] | None = None
    for index, command in enumerate(commands):
        last = index == len(commands) - 1
        with logs[index].open("wb") as log:
            process = subprocess.Popen(
                command,
                stdin=upstream if upstream is not None else subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=log,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                process_group=0 if index == 0 else processes[0].pid,
            )
        if upstream is not None:
            upstream.close()  # the next process owns the read end now
        processes.append(process)
        upstream = None if last else process.stdout
    assert processes[-1].stdout is not None
    reader = _StateReader(processes[-1].stdout, out / f"{label}.stdout.jsonl")
    reader.start()
    killed = False
    deadline = started + timeout
    while any(process.poll() is None for process in processes):
        if kill_when is not None and not killed and kill_when():
            os.killpg(processes[0].pid, signal.SIGKILL)
            killed = True
        if time.monotonic() > deadline:
            os.killpg(processes[0].pid, signal.SIGKILL)
            for process in processes:
                process.wait()
            msg = f"{label}: still running after {timeout:.0f} s; killed"
            raise TimeoutError(msg)
        time.sleep(0.05)
    reader.join(timeout=30)
    return Attempt(
        label=label,
        exit_codes=[process.returncode for process in processes],
        killed=killed,
        seconds=time.monotonic() - started,
        states_emitted=reader.count,
        last_state=reader.last,
        logs=logs,
    )


def write_state(path: Path, state: dict[str, t.Any] | None) -> list[str]:
    """``--state PATH`` arguments for a tap (nothing when there is no state yet)."""
    if state is None:
        return []
    path.write_text(json.dumps(state))
    return ["--state", str(path)]
