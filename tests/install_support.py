"""Installing the plugins as a user would: from a git clone, with a chosen interpreter.

The clone is of this checkout's committed HEAD (`git clone --no-local`), so what is installed is
what a user pulling the repository gets, never uncommitted files. Interpreters come from PATH or
pyenv's versions (never its shims, which run only the versions pyenv has selected); under CI a
missing one fails the test instead of skipping it.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PLUGINS = ("tap-clevertap", "target-segment", "target-clevertap")


def run(command: list[str], **kwargs: t.Any) -> subprocess.CompletedProcess[str]:
    """Run a command; on failure the assertion shows its output's tail."""
    done = subprocess.run(command, capture_output=True, text=True, check=False, **kwargs)
    assert done.returncode == 0, (
        f"{' '.join(command[:5])} exited {done.returncode}:\n"
        f"{done.stdout[-3000:]}\n{done.stderr[-5000:]}"
    )
    return done


def clone_checkout(parent: Path) -> Path:
    """A git clone of this checkout's HEAD under `parent`."""
    target = parent / "repository"
    run(["git", "clone", "--quiet", "--no-local", str(ROOT), str(target)])
    return target


def interpreter(version: str) -> str:
    """A python<version> from PATH or pyenv; fails under CI, skips elsewhere, when missing."""
    if sys.version_info[:2] == tuple(int(part) for part in version.split(".")):
        return sys.executable
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    matches = sorted(glob.glob(str(pyenv_root / "versions" / f"{version}.*" / "bin" / "python3")))
    found = matches[-1] if matches else shutil.which(f"python{version}")
    if found is not None and "shims" in Path(found).parts:
        found = None
    if found is None:
        message = f"Python {version} not found on PATH or under pyenv (pyenv install {version})"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return found


def uv() -> str:
    """The uv this project pins (Makefile), or one on PATH."""
    return shutil.which("uv") or str(ROOT / ".bootstrap" / "bin" / "uv")
