"""The plugin packages' own test suites on Python 3.12 and 3.13 (3.11 is the main suite's).

Each interpreter gets a fresh virtual environment with the shared package, the sandbox and the
three plugins installed from this checkout (the versions pinned in plugin-constraints.txt, as
Meltano installs them here), plus pytest and hypothesis; then the suites of
clevertap-segment-common, tap-clevertap, target-segment and target-clevertap run in it, under the
repository's pytest configuration (warnings are errors there too). Under CI a missing interpreter
fails the test instead of skipping it.
"""

from __future__ import annotations

import os
import subprocess
import typing as t

import pytest
from install_support import PLUGINS, ROOT, interpreter, run, uv

if t.TYPE_CHECKING:
    from pathlib import Path

SUITES = ["clevertap-segment-common/tests", *(f"{plugin}/tests" for plugin in PLUGINS)]
PACKAGES = ["clevertap-segment-common", "clevertap-segment-sandbox", *PLUGINS]
TEST_TOOLS = ["pytest>=9.0", "hypothesis>=6.100"]


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_plugin_suites_pass_on(version: str, tmp_path: Path) -> None:
    python = interpreter(version)
    venv = tmp_path / "venv"
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    run([uv(), "venv", "--quiet", "--python", python, str(venv)], env=env)
    editable = [arg for package in PACKAGES for arg in ("-e", str(ROOT / package))]
    constraints = ["-c", str(ROOT / "plugin-constraints.txt")]
    install = [uv(), "pip", "install", "--quiet", "--python", str(venv / "bin" / "python")]
    run([*install, *constraints, *editable, *TEST_TOOLS], env=env)
    done = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pytest", "-q", "-p", "no:cacheprovider", *SUITES],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        env={**env, "PYTHONDONTWRITEBYTECODE": "1"},
    )
    summary = done.stdout.strip().splitlines()[-1] if done.stdout.strip() else ""
    assert done.returncode == 0, f"Python {version}: {summary}\n{done.stdout[-6000:]}"
    assert " passed" in summary, summary
    assert "skipped" not in summary, summary
