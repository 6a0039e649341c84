"""plugin-constraints.txt pins Meltano's plugin venvs; it must be the current export of uv.lock.

The export command lives only in the Makefile's `constraints` target; this test runs that target
into a temporary file so the two can never drift apart.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import typing as t

from pipeline_support import ROOT

if t.TYPE_CHECKING:
    from pathlib import Path

CONSTRAINTS = ROOT / "plugin-constraints.txt"
# Set by an outer `make test`; a nested make must not join its job server or inherit its flags.
OUTER_MAKE_VARIABLES = ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "MAKEOVERRIDES")


def test_plugin_constraints_match_uv_lock(tmp_path: Path) -> None:
    make = shutil.which("make")
    assert make is not None, "GNU make is needed (Debian: apt-get install make)"
    exported = tmp_path / "plugin-constraints.txt"
    env = {key: value for key, value in os.environ.items() if key not in OUTER_MAKE_VARIABLES}
    result = subprocess.run(
        [make, "--no-print-directory", "-s", "constraints", f"CONSTRAINTS={exported}"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, f"`make constraints` failed:\n{result.stdout}{result.stderr}"
    assert exported.read_text(encoding="utf-8") == CONSTRAINTS.read_text(encoding="utf-8"), (
        "plugin-constraints.txt is out of date with uv.lock: run `make constraints` and commit it"
    )
