"""Running a benchmark's child processes the same way everywhere: environment, time, CPU, memory.

Peak memory here is the kernel's ``ru_maxrss`` of the child (``os.wait4``), right for a child
that is one process and starts small. bench_memory.py and bench_tap_events.py sample the RSS of
a process tree with psutil instead: a meltano run is several processes, and a child forked from a
large parent inherits the parent's high-water mark.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Finished:
    """What one child process did."""

    seconds: float
    stdout: str
    stderr: str
    returncode: int
    peak_rss_mb: int
    cpu_seconds: float


def run_child(command: list[str], env: dict[str, str], cwd: Path = ROOT) -> Finished:
    """Run to exit; wall seconds from start to exit, peak RSS and CPU time from the kernel."""
    started = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        child = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(child.pid, 0)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        return Finished(
            seconds=seconds,
            stdout=out.read().decode(errors="replace"),
            stderr=err.read().decode(errors="replace"),
            returncode=os.waitstatus_to_exitcode(status),
            peak_rss_mb=usage.ru_maxrss // 1024,
            cpu_seconds=usage.ru_utime + usage.ru_stime,
        )


def child_environment(work: Path) -> dict[str, str]:
    """Bytecode written to (and read from) a cache of this benchmark, as installed packages have."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    return env | {"PYTHONPYCACHEPREFIX": str(work / "pycache")}
