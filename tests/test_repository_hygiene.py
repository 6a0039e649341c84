"""The repository is portable and self-contained: no machine paths, a licence, no working notes.

Committed results and docs are read on other machines; a path like ``/home/<user>/...`` in them
says nothing about the plugins and leaks how one machine is laid out.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

#: Absolute paths that only exist on one developer's or CI machine.
MACHINE_PATH = re.compile(r"(?<![\w.-])/(?:work|root|home)/|/tmp/pytest")
#: This file names the patterns it looks for.
EXEMPT = {"tests/test_repository_hygiene.py"}


def tracked_files() -> list[Path]:
    """Every file git tracks in this checkout (text or not)."""
    out = subprocess.run(
        ["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True
    ).stdout
    return [Path(name) for name in out.decode().split("\0") if name]


def test_no_absolute_machine_paths() -> None:
    """Tracked text files name files relative to the repository, never by a machine path."""
    offenders = []
    for relative in tracked_files():
        if relative.as_posix() in EXEMPT:
            continue
        path = ROOT / relative
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        for number, line in enumerate(text.splitlines(), start=1):
            if MACHINE_PATH.search(line):
                offenders.append(f"{relative}:{number}: {line.strip()[:120]}")
    assert offenders == []


def test_pattern_catches_machine_paths() -> None:
    """The rule flags the paths it is meant for and leaves relative and system paths alone."""
    assert MACHINE_PATH.search('File "/work/main/tap/x.py"')
    assert MACHINE_PATH.search("/home/someone/.venv/lib")
    assert MACHINE_PATH.search("/tmp/pytest-of-root/pytest-3/x")
    assert not MACHINE_PATH.search("site-packages/singer_sdk/target_base.py")
    assert not MACHINE_PATH.search("bench/results/reliability.json")
    assert not MACHINE_PATH.search('Path("/usr/lib/postgresql")')


def test_license_is_apache_2() -> None:
    """Every package declares Apache-2.0, so the full licence text ships at the root."""
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert "Apache License" in text
    assert "Version 2.0, January 2004" in text
    assert "END OF TERMS AND CONDITIONS" in text
    for pyproject in sorted(ROOT.glob("*/pyproject.toml")):
        content = pyproject.read_text(encoding="utf-8")
        if "[project]" in content:
            assert 'license = "Apache-2.0"' in content, pyproject


def test_no_working_notes() -> None:
    """Notes about how the project was worked on do not belong in the repository."""
    assert not any(p.parts[:2] == ("docs", "dev") for p in tracked_files())
