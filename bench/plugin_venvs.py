"""The plugins as a user installs them: one virtualenv per plugin, holding its dependencies only.

The development virtualenv also holds the tools of the benchmarks and tests. matplotlib brings
numpy, which joblib (imported by singer-sdk) then imports as well, so a plugin started from there
paid for imports no user's install makes: `target-clevertap --version` took 0.54 s from the
development virtualenv and 0.45 s from its own (medians of 9, alternating). Each venv is built the
way meltano.yml's pip_url installs the plugin (editable, with plugin-constraints.txt), so it runs
the current code; ``install`` refreshes it at the start of a benchmark in a second or two.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENVS = ROOT / "bench" / "results" / "raw" / "plugin-venvs"
_UV = ROOT / ".bootstrap" / "bin" / "uv"
_COMMON = ROOT / "clevertap-segment-common"


def executable(plugin: str) -> str:
    """The plugin's command in its own virtualenv (built by ``install``)."""
    return str(VENVS / plugin / "bin" / plugin)


_INSTALLED: set[str] = set()


def install(*plugins: str) -> None:
    """Create or refresh each plugin's virtualenv (once per process)."""
    env = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
    for plugin in plugins:
        if plugin in _INSTALLED:
            continue
        venv = VENVS / plugin
        if not (venv / "bin" / "python").exists():
            command = [str(_UV), "venv", "--quiet", "--python", sys.executable, str(venv)]
            subprocess.run(command, check=True, env=env)
        subprocess.run(
            [
                str(_UV),
                "pip",
                "install",
                "--quiet",
                "--constraint",
                str(ROOT / "plugin-constraints.txt"),
                "--editable",
                str(_COMMON),
                "--editable",
                str(ROOT / plugin),
            ],
            check=True,
            env={**env, "VIRTUAL_ENV": str(venv)},
        )
        _INSTALLED.add(plugin)
